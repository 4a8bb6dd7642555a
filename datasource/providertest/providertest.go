// Package providertest is the conformance suite every customer provider (a
// vendor client against its simulator, and later any cache layer in front of
// one) must pass: exactly-once paging, limits, totals, batch lookups, typed
// errors for auth and vendor validation failures, retries, cancellation.
package providertest

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/cache"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/simkit"
)

// Options configure one provider instance for a subtest.
type Options struct {
	// BadCredentials configures the client with credentials the simulator rejects.
	BadCredentials bool
}

// Harness describes the provider under test.
type Harness struct {
	Provider ds.ProviderID
	// Start starts a simulator serving people and returns a client for it and
	// the simulator's kit (call counts, fault injection). Cleanup via t.Cleanup.
	Start func(t *testing.T, people []demo.Person, o Options) (ds.CustomerProvider, *simkit.Kit)
	// ValidationStatus is the status the vendor uses for validation errors (400 or 422).
	ValidationStatus int
	// RetryAfterHeader is true when the vendor documents Retry-After on 429.
	RetryAfterHeader bool
}

// People is the demo world the suite runs against (smaller than the demo server's, for speed).
func People() []demo.Person { return demo.People(120) }

// Run runs the whole suite twice: against the provider itself, and through
// the cache layer (a fresh in-process cache per subtest), which must behave
// the same to every caller.
func Run(t *testing.T, h Harness) {
	t.Helper()
	bothWays(t, h.Start, (*cache.Layer).Wrap, func(t *testing.T, start starter[ds.CustomerProvider]) {
		h.Start = start
		run(t, h)
	})
}

// starter starts a simulator serving people and a provider for it.
type starter[P any] func(t *testing.T, people []demo.Person, o Options) (P, *simkit.Kit)

// bothWays runs suite against the provider itself, and through a fresh
// in-process cache layer per subtest, which must behave the same to every caller.
func bothWays[P any](t *testing.T, start starter[P], wrap func(*cache.Layer, P) P, suite func(*testing.T, starter[P])) {
	t.Helper()
	t.Run("direct", func(t *testing.T) { suite(t, start) })
	t.Run("through the cache", func(t *testing.T) {
		suite(t, func(t *testing.T, people []demo.Person, o Options) (P, *simkit.Kit) {
			t.Helper()
			prov, kit := start(t, people, o)
			return wrap(NewCache(t, nil), prov), kit
		})
	})
}

func run(t *testing.T, h Harness) {
	t.Helper()
	people := People()
	var want []string
	for _, p := range people {
		if id, ok := p.IDs[h.Provider]; ok {
			want = append(want, id)
		}
	}
	sort.Strings(want)
	if len(want) == 0 {
		t.Fatalf("demo world has no %s customers", h.Provider)
	}
	probe, _ := h.Start(t, people, Options{})
	caps := probe.Capabilities()
	maxPage := caps.PageLimit

	t.Run("walks every customer exactly once whatever the page size", func(t *testing.T) {
		prov, _ := h.Start(t, people, Options{})
		var firstOrder []string
		for _, limit := range []int{1, 7, maxPage, maxPage + 50} {
			got := walk(t, prov, ds.Filter{}, limit)
			if firstOrder == nil {
				firstOrder = got
			} else if strings.Join(got, ",") != strings.Join(firstOrder, ",") {
				t.Errorf("limit %d: native order differs between walks", limit)
			}
			assertSameSet(t, got, want)
		}
	})

	t.Run("totals are exact or absent", func(t *testing.T) {
		prov, _ := h.Start(t, people, Options{})
		page, err := prov.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != nil && *page.Total != len(want) {
			t.Errorf("total = %d, want %d", *page.Total, len(want))
		}
	})

	t.Run("maps every record with its provider, id and raw body", func(t *testing.T) {
		prov, _ := h.Start(t, people, Options{})
		page, err := prov.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: maxPage})
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]demo.Person{}
		for _, p := range people {
			if id, ok := p.IDs[h.Provider]; ok {
				byID[id] = p
			}
		}
		for _, c := range page.Items {
			if c.Provider != h.Provider || c.ProviderID == "" || len(c.Raw) == 0 || c.Raw[0] != '{' {
				t.Fatalf("bad mapping: provider=%v id=%q raw=%.40s", c.Provider, c.ProviderID, c.Raw)
			}
			p, ok := byID[c.ProviderID]
			if !ok {
				t.Fatalf("id %q is not in the demo world", c.ProviderID)
			}
			if c.Email == nil || !strings.EqualFold(*c.Email, p.EmailAt(h.Provider)) {
				t.Errorf("%s: email = %v, want %s", c.ProviderID, deref(c.Email), p.EmailAt(h.Provider))
			}
			if c.CreatedAt != nil && c.CreatedAt.Location() != time.UTC {
				t.Errorf("%s: createdAt not in UTC", c.ProviderID)
			}
		}
	})

	for _, tc := range []struct {
		name string
		f    ds.Filter
	}{
		{"email", ds.Filter{Email: ptr(strings.ToUpper(people[len(people)/2].Email))}},
		{"search", ds.Filter{Search: ptr("an")}},
		{"country", ds.Filter{Country: []string{"SE", "CZ"}}},
		{"email and country", ds.Filter{Email: ptr(people[4].Email), Country: []string{people[4].Country}}},
	} {
		t.Run("filter by "+tc.name+" returns exactly the matching records", func(t *testing.T) {
			prov, _ := h.Start(t, people, Options{})
			if err := prov.Capabilities().CanFilter(tc.f); err != nil {
				if ds.ErrorCode(err) != ds.CodeUnsupportedByProvider {
					t.Fatalf("CanFilter error code = %s, want UNSUPPORTED_BY_PROVIDER", ds.ErrorCode(err))
				}
				t.Skipf("provider cannot filter by %s: %v", tc.name, err)
			}
			all := walkCustomers(t, prov, ds.Filter{}, maxPage)
			var expect []string
			for _, c := range all {
				if tc.f.Match(c) {
					expect = append(expect, c.ProviderID)
				}
			}
			got := walk(t, prov, tc.f, maxPage)
			assertSameSet(t, got, expect)
		})
	}

	t.Run("looks customers up by id in as few calls as the vendor allows", func(t *testing.T) {
		prov, kit := h.Start(t, people, Options{})
		ids := append([]string(nil), want...)
		if len(ids) > 60 {
			ids = ids[:60]
		}
		ids = append(ids, missingID(h.Provider))
		kit.Reset()
		got, err := prov.GetCustomers(context.Background(), ids)
		if err != nil {
			t.Fatal(err)
		}
		var gotIDs []string
		for _, c := range got {
			gotIDs = append(gotIDs, c.ProviderID)
		}
		assertSameSet(t, gotIDs, ids[:len(ids)-1])
		if caps.BulkLookup() {
			max := (len(ids) + caps.LookupBatch - 1) / caps.LookupBatch
			if kit.Count() > max {
				t.Errorf("%d ids took %d calls, want at most %d (batch size %d)", len(ids), kit.Count(), max, caps.LookupBatch)
			}
		}
	})

	runFaults(t, faultSuite{provider: h.Provider, validationStatus: h.ValidationStatus, retryAfterHeader: h.RetryAfterHeader,
		start: func(t *testing.T, o Options) (reads, *simkit.Kit) {
			prov, kit := h.Start(t, people, o)
			return customerReads(prov), kit
		},
		badTokens: []string{"-1", "zz", "%00", strings.Repeat("9", 40)}})
	runCapabilities(t, h, people, want)
}

// customerReads are the reads the fault subtests make of a customer provider.
func customerReads(prov ds.CustomerProvider) reads {
	listAt := func(ctx context.Context, token string) error {
		_, err := prov.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Token: token, Limit: 5})
		return err
	}
	return reads{calls: []call{{"ListCustomers", func(ctx context.Context) error { return listAt(ctx, "") }}}, listAt: listAt}
}

// walk pages through the provider with the federation layer's walker and returns ids.
func walk(t *testing.T, prov ds.CustomerProvider, f ds.Filter, limit int) []string {
	t.Helper()
	var ids []string
	for _, c := range walkCustomers(t, prov, f, limit) {
		ids = append(ids, c.ProviderID)
	}
	return ids
}

func walkCustomers(t *testing.T, prov ds.CustomerProvider, f ds.Filter, limit int) []*ds.Customer {
	t.Helper()
	out, _ := walkAll(t, prov.ID(), func(ctx context.Context, req ds.ListRequest[ds.Filter]) (ds.Page[*ds.Customer], error) {
		return prov.ListCustomers(ctx, req)
	}, f, f.Match, limit)
	return out
}
