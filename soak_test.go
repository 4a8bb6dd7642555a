package main

import (
	"context"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/simkit"
)

// TestSoakWithFaultsReturnsToItsStartingLevel runs mixed queries against the
// gateway while faults are toggled at the simulators, for GATEWAY_SOAK (e.g.
// 2m; skipped when unset: it is long), then checks goroutines and heap come
// back to their starting level.
func TestSoakWithFaultsReturnsToItsStartingLevel(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("GATEWAY_SOAK"))
	if err != nil || d <= 0 {
		t.Skip("set GATEWAY_SOAK=2m to run the soak test")
	}
	m := startGateway(t, withSimulated(map[string]string{
		"":         "cache: {ttl: 1s}",
		"kintsugi": "upstream: {timeout: 300ms, budget: 800ms, breaker_open: 2s}",
		"telness":  "upstream: {timeout: 300ms, budget: 800ms, breaker_open: 2s}",
	}))
	http.DefaultClient.CloseIdleConnections()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	g0 := runtime.NumGoroutine()

	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	faults := []func(){
		func() { m.kit(t, ds.Kintsugi).SetLatency(time.Minute) },
		func() { m.kit(t, ds.Kintsugi).SetLatency(0) },
		func() { m.kit(t, ds.DigitalRiver).SetDown(&simkit.Fault{Status: 503, Message: "maintenance"}) },
		func() { m.kit(t, ds.DigitalRiver).SetDown(nil) },
		func() {
			m.kit(t, ds.Telness).SetDown(&simkit.Fault{Status: 429, Message: "slow", Header: http.Header{"Retry-After": {"1"}}})
		},
		func() { m.kit(t, ds.Telness).SetDown(nil) },
		func() {
			m.kit(t, ds.CommerceLayer).SetDown(&simkit.Fault{Status: 401, Message: "bad key", EchoCredentials: true})
		},
		func() { m.kit(t, ds.CommerceLayer).SetDown(nil) },
	}
	queries := []struct {
		q    string
		vars map[string]any
	}{
		{pageQuery, map[string]any{"first": 20}},
		{pageQuery, map[string]any{"first": 50, "filter": map[string]any{"providers": []string{"KINTSUGI", "TELNESS"}}}},
		{healthQuery, nil},
		{`{ customerSources(first: 10) { nodes { id } } }`, nil},
	}
	var requests, withErrors, stale atomic.Int64
	var slowest atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(3 * time.Second)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				faults[i%len(faults)]()
			}
		}
	})
	for w := range 16 {
		wg.Go(func() {
			for i := w; ctx.Err() == nil; i++ {
				q := queries[i%len(queries)]
				start := time.Now()
				r := m.query(t, q.q, q.vars)
				if took := time.Since(start); int64(took) > slowest.Load() {
					slowest.Store(int64(took))
				}
				requests.Add(1)
				if len(r.Errors) > 0 {
					withErrors.Add(1)
				}
				if w, _ := r.Extensions["warnings"].([]any); len(w) > 0 {
					stale.Add(1)
				}
			}
		})
	}
	wg.Wait()
	for _, f := range []func(){faults[1], faults[3], faults[5], faults[7]} {
		f()
	}
	// idle: in-flight upstream attempts end within their timeouts
	time.Sleep(2 * time.Second)
	http.DefaultClient.CloseIdleConnections()
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	g1 := runtime.NumGoroutine()
	t.Logf("soak %v: %d requests (%d with errors, %d with warnings such as STALE), slowest %v; goroutines %d -> %d; heap in use %.1f MB -> %.1f MB",
		d, requests.Load(), withErrors.Load(), stale.Load(), time.Duration(slowest.Load()).Round(time.Millisecond), g0, g1,
		float64(before.HeapInuse)/1e6, float64(after.HeapInuse)/1e6)
	if g1 > g0+20 {
		t.Errorf("goroutines %d after the soak, %d before", g1, g0)
	}
	if after.HeapInuse > 2*before.HeapInuse+32<<20 {
		t.Errorf("heap in use %d after the soak, %d before", after.HeapInuse, before.HeapInuse)
	}
	if slowest.Load() > int64(5*time.Second) {
		t.Errorf("slowest request %v during the soak", time.Duration(slowest.Load()))
	}
}
