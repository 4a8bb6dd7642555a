package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/federated-customers/gateway/datasource/registry"
)

// The load mode (-load) is issue 8's bounded loopback load test with the
// simulators out of the gateway's process: four clients send costly but
// allowed queries (post-filtered searches no cache can answer, estimated
// just under max_upstream_calls) in a loop, while one client sends a normal
// page every 5 ms (1000 of them unloaded, then 1000 beside the costly ones).
// It prints the normal traffic's p99 unloaded and beside the costly queries,
// the slowest answers, and the gateway process's peak resident memory
// (VmHWM), which counts the gateway alone.

// costlyQuery is 37 post-filtered searches with strings no cache has seen.
func costlyQuery() string {
	var b strings.Builder
	b.WriteString("{")
	for i := range 37 {
		fmt.Fprintf(&b, " s%d: customers(first: 1, filter: {search: \"%x\"}) { nodes { id } }", i, rand.Uint64())
	}
	b.WriteString(" }")
	return b.String()
}

const normalQuery = `{ customers(first: 10) { nodes { id email } } }`

type loadCase struct {
	name  string
	extra string // YAML merged into the gateway's configuration
}

func runLoad(bin, dir, only string, sims registry.Simulators) error {
	cases := []loadCase{
		{"defaults (1 costly at a time, 2 calls in flight each, 1000 calls/s)", "limits: {max_heavy: 1, heavy_fan_out: 2}"},
		{"defaults, response cache off", "limits: {max_heavy: 1, heavy_fan_out: 2}\ncache: {response_max_bytes: -1}"},
		{"pace 2000 calls/s (2 calls in flight each)", "limits: {max_heavy: 1, heavy_fan_out: 2, heavy_calls_per_second: 2000}"},
		{"no pace (2 calls in flight each)", "limits: {max_heavy: 1, heavy_fan_out: 2, heavy_calls_per_second: 1000000}"},
		{"no pace, one call in flight", "limits: {max_heavy: 1, heavy_fan_out: 1, heavy_calls_per_second: 1000000}"},
		{"no bound on calls in flight nor pace", "limits: {max_heavy: 1, heavy_fan_out: 1000, heavy_calls_per_second: 1000000}"},
	}
	for i, c := range cases {
		if !strings.Contains(c.name, only) {
			continue
		}
		addr, stop, err := startGateway(bin, fmt.Sprintf("%s/load%d", dir, i), c.extra, "", sims)
		if err != nil {
			return err
		}
		pid, _ := pids.Load(addr)
		err = loadOnce(c.name, "http://"+addr+"/graphql", pid.(int))
		stop()
		if err != nil {
			return err
		}
	}
	return nil
}

func loadOnce(name, url string, pid int) error {
	client := &http.Client{Timeout: 60 * time.Second}
	post := func(q string) (time.Duration, error) {
		body, _ := json.Marshal(map[string]string{"query": q})
		start := time.Now()
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		var out struct {
			Errors []struct {
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		_ = json.Unmarshal(b, &out)
		for _, e := range out.Errors {
			if c := e.Extensions["code"]; c != "PROVIDER_RATE_LIMITED" && c != "PROVIDER_UNAVAILABLE" {
				return d, fmt.Errorf("status %d: %.200s", resp.StatusCode, b)
			}
		}
		return d, nil
	}
	measure := func(n int) ([]time.Duration, error) {
		var lat []time.Duration
		for range n {
			d, err := post(normalQuery)
			if err != nil {
				return nil, err
			}
			lat = append(lat, d)
			time.Sleep(5 * time.Millisecond) // steady, not a flood
		}
		slices.Sort(lat)
		return lat, nil
	}
	if _, err := measure(20); err != nil { // warm
		return err
	}
	base, err := measure(1000)
	if err != nil {
		return err
	}
	var stop atomic.Bool
	var costly atomic.Int64
	var slowest atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				d, err := post(costlyQuery())
				if err != nil {
					errs <- err
					return
				}
				costly.Add(1)
				for old := slowest.Load(); int64(d) > old && !slowest.CompareAndSwap(old, int64(d)); old = slowest.Load() {
				}
			}
		})
	}
	loaded, err := measure(1000)
	stop.Store(true)
	wg.Wait()
	close(errs)
	if err != nil {
		return err
	}
	if err := <-errs; err != nil {
		return fmt.Errorf("costly query: %w", err)
	}
	p99 := func(d []time.Duration) time.Duration { return d[len(d)*99/100] }
	fmt.Printf("%s\n  normal p99 unloaded %.2fms, beside 4 costly %.2fms (%.1fx); slowest normal %.2fms\n  %d costly queries, slowest %v; gateway peak RSS %s\n",
		name, ms(p99(base)), ms(p99(loaded)), float64(p99(loaded))/float64(p99(base)), ms(loaded[len(loaded)-1]),
		costly.Load(), time.Duration(slowest.Load()).Round(time.Millisecond), peakRSS(pid))
	return nil
}

// peakRSS reads VmHWM, the process's peak resident set, from /proc.
func peakRSS(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:"))
		}
	}
	return "unknown"
}
