package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	ds "github.com/federated-customers/gateway/datasource"
	ccsim "github.com/federated-customers/gateway/datasource/carecloud/sim"
	clsim "github.com/federated-customers/gateway/datasource/commercelayer/sim"
	"github.com/federated-customers/gateway/datasource/demo"
	drsim "github.com/federated-customers/gateway/datasource/digitalriver/sim"
	kisim "github.com/federated-customers/gateway/datasource/kintsugi/sim"
	tesim "github.com/federated-customers/gateway/datasource/telness/sim"
	"github.com/federated-customers/gateway/postgres/pgtest"
)

// sharedSimulators starts one simulator per provider and returns the
// providers: block that points a gateway at them, so replicas share them
// (and their credentials).
func sharedSimulators(t *testing.T) string {
	t.Helper()
	people := demo.People(testPeople)
	serve := func(h http.Handler) string {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv.URL
	}
	var b strings.Builder
	b.WriteString("providers:\n")
	block := func(p ds.ProviderID, cfg any) {
		y, err := yaml.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("  " + p.Key() + ":\n    " + strings.ReplaceAll(strings.TrimSpace(string(y)), "\n", "\n    ") + "\n")
	}
	cc := ccsim.New(people)
	block(ds.CareCloud, cc.ClientConfig(serve(cc)))
	ki := kisim.New(people)
	block(ds.Kintsugi, ki.ClientConfig(serve(ki)))
	dr := drsim.New(people)
	block(ds.DigitalRiver, dr.ClientConfig(serve(dr)))
	te := tesim.New(people)
	block(ds.Telness, te.ClientConfig(serve(te)))
	cl := clsim.New(people)
	block(ds.CommerceLayer, cl.ClientConfig(serve(cl)))
	return b.String()
}

// TestReplicasShareOneWalkPerInterval: three replicas on one database,
// each with a 2 s sync interval, walk every provider about once per 2 s
// between them, not three times.
func TestReplicasShareOneWalkPerInterval(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 10 s")
	}
	yaml := fmt.Sprintf("database_url: %q\nsync: {interval: 2s, gap: 1ms}\n%s", pgtest.Schema(t), sharedSimulators(t))
	const window, interval = 10 * time.Second, 2 * time.Second
	start := time.Now()
	var ms []*testGateway
	for range 3 {
		ms = append(ms, startGateway(t, withConfig(yaml), withSync()))
	}
	time.Sleep(window - time.Since(start))
	met := ms[0].scrapeMetrics(t)
	for _, m := range ms {
		m.stop(t) // no walk after the window
	}
	want := int(window / interval) // and one at start
	for _, p := range ds.AllProviders {
		walks := 0
		for _, m := range ms {
			walks += m.Syncer.Walks(p)
		}
		t.Logf("%s: 3 replicas, %v interval, %v: %d walks (one replica alone: %d)", p, interval, window, walks, want+1)
		// fewer when a walk outlasts the interval (a due walk finds the
		// last one still running and waits for the next interval); never
		// one per replica per interval
		if walks < 2 || walks > want+2 {
			t.Errorf("%s: %d walks in %v at a %v interval across 3 replicas, want about %d", p, walks, window, interval, want+1)
		}
		if !strings.Contains(met, `gateway_sync_walks_total{provider="`+p.String()+`"}`) {
			t.Errorf("/metrics does not count %s's walks", p)
		}
	}
}
