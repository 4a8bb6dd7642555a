package registry

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/federated-customers/gateway/config"
	"github.com/federated-customers/gateway/datasource/demo"
	kisim "github.com/federated-customers/gateway/datasource/kintsugi/sim"
	"github.com/federated-customers/gateway/datasource/providertest"
	tesim "github.com/federated-customers/gateway/datasource/telness/sim"
	"github.com/federated-customers/gateway/postgres"
	"github.com/federated-customers/gateway/postgres/pgtest"
)

// TestReplicasLogTheQuotaShareOnlyWhenItChanges: two replicas on one
// database calling the same vendors (as in production), with a rate
// (Kintsugi) and without (Telness): each logs the share of two once per
// provider, however many heartbeats follow.
func TestReplicasLogTheQuotaShareOnlyWhenItChanges(t *testing.T) {
	t.Parallel()
	db, err := postgres.Open(pgtest.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Ping(t.Context()); err != nil { // applies the migrations
		t.Fatal(err)
	}
	people := demo.People(50)
	ki, te := kisim.New(people), tesim.New(people)
	kiSrv, teSrv := httptest.NewServer(ki), httptest.NewServer(te)
	t.Cleanup(kiSrv.Close)
	t.Cleanup(teSrv.Close)
	kc := ki.ClientConfig(kiSrv.URL)
	cfg, err := config.Parse(fmt.Appendf(nil, `
providers:
  telness: {base_url: %q, api_key: %q}
  kintsugi: {base_url: %q, api_key: %q, organization_id: %q}
`, teSrv.URL, tesim.APIKey, kc.BaseURL, kc.APIKey, kc.OrganizationID))
	if err != nil {
		t.Fatal(err)
	}
	var logs [2]*providertest.SyncBuffer
	var shares [2]*QuotaShare
	for i := range shares {
		b, err := Build(cfg, people, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		logs[i] = &providertest.SyncBuffer{}
		shares[i] = b.ShareQuota(db, slog.New(slog.NewTextHandler(logs[i], nil)))
		t.Cleanup(shares[i].Stop)
	}
	ctx := context.Background()
	for range 5 { // heartbeats, as the ticker would make them every 2 s
		for _, q := range shares {
			q.Beat(ctx)
		}
	}
	for i, l := range logs {
		for _, p := range []string{"telness", "kintsugi"} {
			n := strings.Count(l.String(), "msg=\"outbound quota shared\" provider="+p+" replicas=2")
			if n != 1 {
				t.Errorf("replica %d logged the %s share of two replicas %d times, want once:\n%s", i, p, n, l.String())
			}
		}
	}
}
