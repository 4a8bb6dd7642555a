package main

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/federated-customers/gateway/datasource/demo"
	drsim "github.com/federated-customers/gateway/datasource/digitalriver/sim"
	"github.com/federated-customers/gateway/postgres/pgtest"
)

// TestReplicasShareOneWalkPerInterval: three replicas on one database,
// each with a 2 s sync interval, walk the provider about once per 2 s
// between them, not three times.
func TestReplicasShareOneWalkPerInterval(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 10 s")
	}
	sim := drsim.New(demo.People(testPeople))
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	yaml := fmt.Sprintf(`
database_url: %q
sync: {interval: 2s, gap: 1ms}
providers:
  digitalriver: {base_url: %q, api_key: %q}
`, pgtest.Schema(t), srv.URL, drsim.APIKey)
	const window, interval = 10 * time.Second, 2 * time.Second
	start := time.Now()
	var ms []*Main
	for range 3 {
		ms = append(ms, gatewayFrom(t, yaml, nil, true))
	}
	time.Sleep(window - time.Since(start))
	met := ms[0].scrapeMetrics(t)
	for _, m := range ms {
		m.stop(t) // no walk after the window
	}
	walks := 0
	for _, c := range sim.Kit().Calls() {
		if c.Method == "GET" && c.Path == "/customers" && !strings.Contains(c.Query, "startingAfter") {
			walks++ // a walk's first page
		}
	}
	want := int(window / interval) // and one at start
	t.Logf("3 replicas, %v interval, %v: %d walks (one replica alone: %d)", interval, window, walks, want+1)
	if !strings.Contains(met, "gateway_sync_walks_total{provider=\"DIGITAL_RIVER\"}") {
		t.Fatal("/metrics does not count walks")
	}
	if walks < want-2 || walks > want+2 {
		t.Fatalf("%d walks in %v at a %v interval across 3 replicas, want about %d", walks, window, interval, want+1)
	}
}
