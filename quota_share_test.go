package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/federated-customers/gateway/datasource/demo"
	tesim "github.com/federated-customers/gateway/datasource/telness/sim"
	"github.com/federated-customers/gateway/postgres/pgtest"
)

// TestReplicasLogTheQuotaShareOnlyWhenItChanges: two replicas on one
// database, with providers with a rate (Kintsugi) and without (Telness):
// each logs the share of two once per provider, however many heartbeats
// follow.
func TestReplicasLogTheQuotaShareOnlyWhenItChanges(t *testing.T) {
	schema := pgtest.Schema(t)
	externalKintsugi(t) // one vendor both replicas call, as in production
	te := httptest.NewServer(tesim.New(demo.People(testPeople)))
	t.Cleanup(te.Close)
	yaml := fmt.Sprintf(`
database_url: %q
providers:
  telness: {base_url: %q, api_key: %q}
  kintsugi: {base_url: "${KINTSUGI_URL}", api_key: "${KINTSUGI_KEY}", organization_id: "${KINTSUGI_ORG}"}
`, schema, te.URL, tesim.APIKey)
	var logs [2]*lockedLog
	var replicas [2]*Main
	for i := range replicas {
		logs[i] = &lockedLog{}
		m := &Main{ConfigPath: writeConfig(t, yaml), Listen: "127.0.0.1:0", People: testPeople, NoSync: true, Log: slog.New(slog.NewTextHandler(logs[i], nil))}
		replicas[i] = startMain(t, m)
	}
	ctx := context.Background()
	for range 5 { // heartbeats, as the ticker would make them every 2 s
		for _, m := range replicas {
			m.quota.beat(ctx)
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
