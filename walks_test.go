package main

import (
	"strings"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/postgres/pgtest"
)

// TestReplicasShareOneWalkPerInterval: three replicas on one database,
// each with a 2 s sync interval, walk every provider about once per 2 s
// between them, not three times.
func TestReplicasShareOneWalkPerInterval(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 10 s")
	}
	schema := pgtest.Schema(t)
	providers, _ := vendors(t, nil, nil)
	const window, interval = 10 * time.Second, 2 * time.Second
	start := time.Now()
	var ms []*testGateway
	for range 3 {
		ms = append(ms, startGateway(t, withPostgres(schema), withConfig("sync: {interval: 2s, gap: 1ms}\n"+providers), withSync()))
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
