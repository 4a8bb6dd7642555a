package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/simkit"
)

// The benchmarks measure the gateway's own cost over loopback simulators
// with the demo world (go run . size): run with
//
//	go test -run '^$' -bench . -benchmem .
func benchGateway(b *testing.B) *Main {
	b.Helper()
	m := &Main{Listen: "127.0.0.1:0", People: demo.DefaultSize, NoSync: true, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := m.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = m.Close(ctx)
	})
	return m
}

func benchQuery(b *testing.B, m *Main, q string, vars map[string]any) gqlResponse {
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

func upstream(m *Main) int {
	n := 0
	for _, h := range m.Sims {
		n += h.(interface{ Kit() *simkit.Kit }).Kit().Count()
	}
	return n
}

// BenchmarkWalkAllCustomers walks customers(first: 100) over every provider to the end.
func BenchmarkWalkAllCustomers(b *testing.B) {
	m := benchGateway(b)
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
	m := benchGateway(b)
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
