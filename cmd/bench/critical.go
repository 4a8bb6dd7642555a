package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/federated-customers/gateway/datasource/registry"
)

// The critical-path mode (-critical) is issue 18's measure: every simulator
// call delayed by -latency (20 ms), vendor quotas lifted, each page timed
// one request at a time against the rounds of upstream calls it cannot do
// without. Cold is the first request of a fresh gateway (default TTL, no
// sync, no database); warm is the same request repeated on that gateway.
// Each figure is the median over -runs fresh gateways (warm: over their
// repeats), and the ratio divides it by rounds x latency.

// criticalPage is one measured page: its query, the rounds of upstream
// calls on its critical path, and the cache block it runs with.
type criticalPage struct {
	name   string
	query  string
	rounds int
	cache  string
	// first: the list's first page, not the one after the first 100
	first bool
}

// spanningAfter is where the spanning page starts: after the first 100
// customers (all Kintsugi's), so the page holds Kintsugi's last records and
// Digital River's first, and Telness is fetched ahead but not needed.
const spanningQuery = `query($after: String) { customers(first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { id } } }`

const deepQuery = `query($after: String) { customers(first: 100, after: $after) { nodes { id sources { sourceId customer { id } } linkedCustomers { id email } } } }`

var criticalPages = []criticalPage{
	{"spanning page (Kintsugi + Digital River)", spanningQuery, 1, "", false},
	{"deep page (sources, links)", deepQuery, 3, "", false},
	{"deep page, ttl 1ns (always live)", deepQuery, 3, "cache: {ttl: 1ns}", false},
	{"first deep page of 20 (frontend)", strings.Replace(deepQuery, "first: 100", "first: 20", 1), 3, "", true},
}

func runCritical(o opts, builds []build, dir string, sims registry.Simulators) error {
	for _, s := range sims {
		s.Kit.SetLatency(o.latency)
	}
	defer func() {
		for _, s := range sims {
			s.Kit.SetLatency(0)
		}
	}()
	after, err := firstPageCursor(builds[0].bin, filepath.Join(dir, "cursor"), sims)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "page (%s per upstream call)\tbuild\tcritical path\tcold p50\tcold / path\tcold calls\twarm p50\twarm / path\t\n", o.latency)
	for pi, pg := range criticalPages {
		if o.only != "" && !strings.Contains(pg.name, o.only) {
			continue
		}
		path := time.Duration(pg.rounds) * o.latency
		vars := map[string]any{"after": after}
		if pg.first {
			vars["after"] = nil
		}
		figs := make([]struct {
			cold, warm []time.Duration
			calls      []int
		}, len(builds))
		// the builds take turns run by run, so a change in the machine's
		// load weighs on both alike
		for run := range o.runs {
			for i, b := range builds {
				prof := ""
				if o.profile != "" && i == 0 { // older builds may not have -cpuprofile
					prof = fmt.Sprintf("%s-critical-%d-%d.pprof", o.profile, pi, run)
				}
				addr, stop, err := startGateway(b.bin, filepath.Join(dir, fmt.Sprintf("crit%d-%d", i, run)), pg.cache, prof, sims)
				if err != nil {
					return err
				}
				resetKits(sims)
				took, err := timed(addr, pg.query, vars)
				if err != nil {
					stop()
					return fmt.Errorf("%s (%s): %w", pg.name, b.name, err)
				}
				f := &figs[i]
				f.cold = append(f.cold, took)
				f.calls = append(f.calls, countCalls(sims))
				for range 7 {
					took, err := timed(addr, pg.query, vars)
					if err != nil {
						stop()
						return fmt.Errorf("%s (%s), repeated: %w", pg.name, b.name, err)
					}
					f.warm = append(f.warm, took)
				}
				stop()
			}
		}
		for i, b := range builds {
			f := figs[i]
			c, w := median(f.cold), median(f.warm)
			slices.Sort(f.calls)
			fmt.Fprintf(tw, "%s\t%s\t%d x %s\t%.1fms\t%.2fx\t%d\t%.1fms\t%.2fx\t\n", pg.name, b.name, pg.rounds, o.latency,
				ms(c), float64(c)/float64(path), f.calls[len(f.calls)/2], ms(w), float64(w)/float64(path))
		}
	}
	return tw.Flush()
}

// firstPageCursor is the endCursor of customers(first: 100), read once from
// a gateway of its own (cursors are signed with the default secret, the
// same in every gateway the bench starts).
func firstPageCursor(bin, dir string, sims registry.Simulators) (string, error) {
	addr, stop, err := startGateway(bin, dir, "", "", sims)
	if err != nil {
		return "", err
	}
	defer stop()
	b, err := post(addr, spanningQuery, map[string]any{"after": nil})
	if err != nil {
		return "", err
	}
	var r struct {
		Data struct {
			Customers struct {
				PageInfo struct{ EndCursor string }
			}
		}
	}
	if err := json.Unmarshal(b, &r); err != nil || r.Data.Customers.PageInfo.EndCursor == "" {
		return "", fmt.Errorf("no endCursor in %.300s", b)
	}
	return r.Data.Customers.PageInfo.EndCursor, nil
}

// timed sends one request and says how long its answer took.
func timed(addr, query string, vars map[string]any) (time.Duration, error) {
	start := time.Now()
	_, err := post(addr, query, vars)
	return time.Since(start), err
}

func post(addr, query string, vars map[string]any) ([]byte, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	resp, err := http.Post("http://"+addr+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || strings.Contains(string(b), `"errors"`) {
		return b, fmt.Errorf("status %d: %.300s", resp.StatusCode, b)
	}
	return b, nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
