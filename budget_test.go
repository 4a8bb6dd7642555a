package main

import (
	"encoding/json"
	"slices"
	"sort"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
)

// TestAHungProviderNeverBlamesTheHealthyOnes: each provider's budget counts
// from its own first call in the request, so providers walked after a hung
// one (which spends its whole budget first) still answer in full, and no
// error names them.
func TestAHungProviderNeverBlamesTheHealthyOnes(t *testing.T) {
	blocks := map[string]string{}
	for _, p := range ds.AllProviders {
		blocks[p.Key()] = "upstream: {timeout: 300ms, budget: 700ms, breaker_failures: 100, rate: 100000, burst: 10000}"
	}
	m := startGateway(t, withSimulated(blocks))
	for _, p := range ds.AllProviders {
		if p != ds.Kintsugi {
			m.kit(t, p).SetLatency(40 * time.Millisecond)
		}
	}
	m.kit(t, ds.Kintsugi).SetLatency(time.Minute)
	vars := map[string]any{"first": 5, "filter": map[string]any{"search": "son"}}
	hung := m.query(t, pageQuery, vars)
	for _, e := range hung.Errors {
		if e.Extensions["provider"] != ds.Kintsugi.String() {
			t.Errorf("an error names a provider that answered: %+v", e)
		}
	}
	if errs := providerErrors(hung, ds.Kintsugi); len(errs) == 0 {
		t.Fatalf("the hung provider is not named: %+v", hung.Errors)
	}

	// what the healthy providers hold: the same filter without Kintsugi
	m.kit(t, ds.Kintsugi).SetLatency(0)
	var others []string
	for _, p := range ds.AllProviders {
		if p != ds.Kintsugi {
			others = append(others, p.String())
		}
	}
	want := m.query(t, pageQuery, map[string]any{"first": 5, "filter": map[string]any{"search": "son", "providers": others}})
	if len(want.Errors) > 0 {
		t.Fatalf("healthy query: %+v", want.Errors)
	}
	if got, exp := pageIDs(t, hung), pageIDs(t, want); len(exp) == 0 || !slices.Equal(got, exp) {
		t.Fatalf("with Kintsugi hung the others answered %v, want %v", got, exp)
	}
}

func pageIDs(t *testing.T, r gqlResponse) []string {
	t.Helper()
	var page customersPage
	if err := json.Unmarshal(r.Data, &page); err != nil {
		t.Fatalf("data %s: %v", r.Data, err)
	}
	var ids []string
	for _, e := range page.Customers.Edges {
		ids = append(ids, e.Node.ID)
	}
	sort.Strings(ids)
	return ids
}
