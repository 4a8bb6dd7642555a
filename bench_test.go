package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/simkit"
	"github.com/federated-customers/gateway/postgres/pgtest"
)

// The benchmarks measure the gateway's own cost over loopback simulators
// with the demo world (go run . size): run with
//
//	go test -run '^$' -bench . -benchmem .
//
// Each benchmark runs cold (ttl 1ns: every read goes upstream, as before the
// record store) and warm (the default 60 s TTL: served by the cache).
func benchGateway(b *testing.B, extra string) *testGateway {
	b.Helper()
	// measure the gateway, not the demo keys' quotas
	return startGateway(b, withSimulated(map[string]string{"": extra, "*": "upstream: {rate: 100000, burst: 10000}"}), withPeople(demo.DefaultSize))
}

func benchQuery(b *testing.B, m *testGateway, q string, vars map[string]any) gqlResponse {
	b.Helper()
	body, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
	resp, err := http.Post("http://"+m.Addr+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var out gqlResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Errors) > 0 {
		b.Fatalf("status %d: %v %+v", resp.StatusCode, err, out.Errors)
	}
	return out
}

func upstream(m *testGateway) int {
	n := 0
	for _, h := range m.Sims {
		n += h.(interface{ Kit() *simkit.Kit }).Kit().Count()
	}
	return n
}

var temperatures = []struct{ name, cache string }{
	{"cold", "cache: {ttl: 1ns}"},
	{"warm", ""},
}

// BenchmarkWalkAllCustomers walks customers(first: 100) over every provider to the end.
func BenchmarkWalkAllCustomers(b *testing.B) {
	for _, tc := range temperatures {
		b.Run(tc.name, func(b *testing.B) { benchWalk(b, benchGateway(b, tc.cache)) })
	}
}

func benchWalk(b *testing.B, m *testGateway) {
	start := upstream(m)
	customers := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var after any
		customers = 0
		for {
			var page customersPage
			r := benchQuery(b, m, pageQuery, map[string]any{"first": 100, "after": after})
			if err := json.Unmarshal(r.Data, &page); err != nil {
				b.Fatal(err)
			}
			customers += len(page.Customers.Edges)
			if !page.Customers.PageInfo.HasNextPage {
				break
			}
			after = *page.Customers.PageInfo.EndCursor
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(customers), "customers/walk")
	b.ReportMetric(float64(upstream(m)-start)/float64(b.N), "upstream-calls/walk")
}

// BenchmarkNodes60 looks up 60 customers spread over the providers by global ID.
func BenchmarkNodes60(b *testing.B) {
	for _, tc := range temperatures {
		b.Run(tc.name, func(b *testing.B) { benchNodes(b, benchGateway(b, tc.cache)) })
	}
}

func benchNodes(b *testing.B, m *testGateway) {
	var ids []string
	for _, p := range demo.People(demo.DefaultSize) {
		for _, q := range ds.AllProviders {
			if id, ok := p.IDs[q]; ok && len(ids) < 60 && q != ds.CareCloud {
				ids = append(ids, ds.CustomerNodeID(q, id))
			}
		}
	}
	start := upstream(m)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		benchQuery(b, m, `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Customer { email } } }`, map[string]any{"ids": ids})
	}
	b.StopTimer()
	b.ReportMetric(float64(upstream(m)-start)/float64(b.N), "upstream-calls/op")
}

// BenchmarkCustomerByID serves customer(id) over HTTP from 16 concurrent
// clients on this machine, from each place an answer can come from: the
// first level, Postgres (first level of one entry, so reads go to the
// database), and live with 20 ms of upstream latency (ttl 1ns). It reports
// requests per second and the p50/p99 latency a client saw.
func BenchmarkCustomerByID(b *testing.B) {
	var ids []string
	for _, p := range demo.People(demo.DefaultSize) {
		if id, ok := p.IDs[ds.CommerceLayer]; ok && len(ids) < 200 {
			ids = append(ids, ds.CustomerNodeID(ds.CommerceLayer, id))
		}
	}
	for _, tc := range []struct {
		name, cache string
		latency     time.Duration
	}{
		{"first_level", "", 0},
		{"postgres", "cache: {max_entries: 1}\ndatabase_url: %q", 0},
		{"live_20ms", "cache: {ttl: 1ns}", 20 * time.Millisecond},
	} {
		b.Run(tc.name, func(b *testing.B) {
			extra := tc.cache
			if tc.name == "postgres" {
				extra = fmt.Sprintf(tc.cache, pgtest.Schema(b))
			}
			m := benchGateway(b, extra)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			bodies := make([][]byte, len(ids))
			for i, id := range ids {
				bodies[i], _ = json.Marshal(map[string]any{"query": `query($id: ID!) { customer(id: $id) { id email name } }`, "variables": map[string]any{"id": id}})
				benchQuery(b, m, `query($id: ID!) { customer(id: $id) { id } }`, map[string]any{"id": id}) // warm
			}
			m.Sims[ds.CommerceLayer].(interface{ Kit() *simkit.Kit }).Kit().SetLatency(tc.latency)
			start := upstream(m)
			var mu sync.Mutex
			var lat []time.Duration
			var next int64
			b.SetParallelism(8)
			b.ResetTimer()
			began := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				for pb.Next() {
					mu.Lock()
					body := bodies[next%int64(len(bodies))]
					next++
					mu.Unlock()
					t0 := time.Now()
					if !postOK(b, client, m, body) {
						return
					}
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			elapsed := time.Since(began)
			b.StopTimer()
			slices.Sort(lat)
			if len(lat) > 0 {
				b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			}
			b.ReportMetric(float64(upstream(m)-start)/float64(b.N), "upstream-calls/op")
		})
	}
}

// BenchmarkGraphAt20ms serves, with every simulator answering in 20 ms, the
// graph query (three levels of upstream calls: a 60 ms critical path) and a
// page spanning two providers (20 ms when they are fetched concurrently),
// cold (ttl 1ns) and with the index warm (sync has run). It reports the
// latency next to the critical path as a ratio.
func BenchmarkGraphAt20ms(b *testing.B) {
	const graph = `query($first: Int) { customers(first: $first) { nodes { id sources { sourceId customer { id } } linkedCustomers { id email } } } }`
	const span = `query($after: String) { customers(first: 100, after: $after, filter: {providers: [KINTSUGI, DIGITAL_RIVER]}) { nodes { id } pageInfo { endCursor } } }`
	for _, tc := range []struct {
		name, cache string
		sync        bool
	}{
		{"cold", "cache: {ttl: 1ns}", false},
		{"index_warm", "sync: {interval: 1h, gap: 1ms}", true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			m := benchGateway(b, tc.cache)
			if tc.sync {
				for _, p := range ds.AllProviders {
					if err := m.Syncer.SyncNow(context.Background(), p); err != nil {
						b.Fatal(err)
					}
				}
			}
			// the cursor where Kintsugi's list ends inside the next page
			first := benchQuery(b, m, span, map[string]any{"after": nil})
			var p1 struct {
				Customers struct{ PageInfo struct{ EndCursor string } } `json:"customers"`
			}
			_ = json.Unmarshal(first.Data, &p1)
			for p := range m.Sims {
				m.Sims[p].(interface{ Kit() *simkit.Kit }).Kit().SetLatency(20 * time.Millisecond)
			}
			for _, q := range []struct {
				name     string
				query    string
				vars     map[string]any
				critical time.Duration
			}{
				{"graph_first_100", graph, map[string]any{"first": 100}, 60 * time.Millisecond},
				{"page_across_two_providers", span, map[string]any{"after": p1.Customers.PageInfo.EndCursor}, 20 * time.Millisecond},
			} {
				b.Run(q.name, func(b *testing.B) {
					start := upstream(m)
					var total time.Duration
					var provs []ds.CustomerProvider
					for _, c := range m.Service.Customers {
						provs = append(provs, c)
					}
					for i := 0; i < b.N; i++ {
						m.Cache.ForgetPages(context.Background(), provs) // list pages cold, records and index as they are
						t0 := time.Now()
						benchQuery(b, m, q.query, q.vars)
						total += time.Since(t0)
					}
					mean := total / time.Duration(b.N)
					b.ReportMetric(float64(mean.Microseconds())/1000, "ms/query")
					b.ReportMetric(float64(mean)/float64(q.critical), "x-critical-path")
					b.ReportMetric(float64(upstream(m)-start)/float64(b.N), "upstream-calls/op")
				})
			}
		})
	}
}

// BenchmarkPage50 serves the speed issue's query (a), 50 Kintsugi customers
// with id, name and email, in parallel over HTTP: the list hot path.
func BenchmarkPage50(b *testing.B) {
	const q = `{ customers(first: 50, filter: {providers: [KINTSUGI]}) { nodes { id name email } } }`
	body, _ := json.Marshal(map[string]any{"query": q})
	for _, tc := range temperatures {
		b.Run(tc.name, func(b *testing.B) {
			m := benchGateway(b, tc.cache)
			benchQuery(b, m, q, nil)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			b.SetParallelism(8)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() && postOK(b, client, m, body) {
				}
			})
		})
	}
}

// postOK posts a GraphQL body and reads the answer; it reports a failure
// (no answer, or not 200) on b and returns false.
func postOK(b *testing.B, client *http.Client, m *testGateway, body []byte) bool {
	resp, err := client.Post("http://"+m.Addr+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		b.Error(err)
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Errorf("status %d", resp.StatusCode)
		return false
	}
	return true
}
