package providertest

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/cache"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/simkit"
)

// SourceHarness describes the customer-source provider under test (CareCloud).
type SourceHarness struct {
	Provider ds.ProviderID
	// Start starts a simulator serving people and returns a client for it and
	// the simulator's kit (call counts, fault injection). Cleanup via t.Cleanup.
	Start func(t *testing.T, people []demo.Person, o Options) (ds.SourceProvider, *simkit.Kit)
	// ValidationStatus is the status the vendor uses for validation errors (400 or 422).
	ValidationStatus int
	// RetryAfterHeader is true when the vendor documents Retry-After on 429.
	RetryAfterHeader bool
}

// expectedSource is one source record the demo world implies: person P, known
// to the source provider as customer CustomerID, is known in system SourceID
// (demo.Systems of provider Target.Provider) as ExternalID.
type expectedSource struct {
	CustomerID, SourceID, SourceName, ExternalID string
	Target                                       ds.CustomerKey
}

func (e expectedSource) key() string { return e.CustomerID + "|" + e.SourceID + "|" + e.ExternalID }

// asSource is the record as the federation layer's filter sees it.
func (e expectedSource) asSource(p ds.ProviderID) *ds.CustomerSource {
	return &ds.CustomerSource{Provider: p, Kind: ds.SourceSystem, CustomerID: e.CustomerID, SourceID: e.SourceID, ExternalIDs: []string{e.ExternalID}}
}

func sourceKey(s *ds.CustomerSource) string {
	return s.CustomerID + "|" + s.SourceID + "|" + strings.Join(s.ExternalIDs, ",")
}

// expectedSources derives the source records of provider p from the demo world.
func expectedSources(people []demo.Person, p ds.ProviderID) []expectedSource {
	var out []expectedSource
	for _, person := range people {
		cid, ok := person.IDs[p]
		if !ok {
			continue
		}
		for _, q := range demo.CustomerProviders {
			ext, ok := person.IDs[q]
			if !ok || q == p {
				continue
			}
			sys := demo.Systems[q]
			out = append(out, expectedSource{CustomerID: cid, SourceID: sys.ID, SourceName: sys.Name, ExternalID: ext,
				Target: ds.CustomerKey{Provider: q, ProviderID: ext}})
		}
	}
	return out
}

func expectedKeys(exp []expectedSource, f ds.SourceFilter, p ds.ProviderID) []string {
	var out []string
	for _, e := range exp {
		if f.Match(e.asSource(p)) {
			out = append(out, e.key())
		}
	}
	return out
}

// RunSources runs the conformance suite for a customer-source provider,
// directly and through the cache layer.
func RunSources(t *testing.T, h SourceHarness) {
	t.Helper()
	wrap := func(l *cache.Layer, p ds.SourceProvider) ds.SourceProvider { return l.WrapSources(p) }
	bothWays(t, h.Start, wrap, func(t *testing.T, start starter[ds.SourceProvider]) {
		h.Start = start
		runSources(t, h)
	})
}

func runSources(t *testing.T, h SourceHarness) {
	t.Helper()
	people := People()
	exp := expectedSources(people, h.Provider)
	if len(exp) == 0 {
		t.Fatalf("demo world has no %s source records", h.Provider)
	}
	all := expectedKeys(exp, ds.SourceFilter{}, h.Provider)
	byKey := map[string]expectedSource{}
	var customers []string
	seenCustomer := map[string]bool{}
	for _, e := range exp {
		byKey[e.key()] = e
		if !seenCustomer[e.CustomerID] {
			seenCustomer[e.CustomerID] = true
			customers = append(customers, e.CustomerID)
		}
	}
	start := func(t *testing.T, o Options) (ds.SourceProvider, *simkit.Kit) {
		t.Helper()
		prov, kit := h.Start(t, people, o)
		if prov.ID() != h.Provider {
			t.Fatalf("ID() = %s, want %s", prov.ID(), h.Provider)
		}
		return prov, kit
	}
	probe, _ := start(t, Options{})
	caps := probe.Capabilities()
	// ready starts a provider and makes one successful call, so that logins
	// and catalogue fetches are done before a test counts calls or injects faults.
	ready := func(t *testing.T) (ds.SourceProvider, *simkit.Kit) {
		t.Helper()
		prov, kit := start(t, Options{})
		if _, err := prov.ListSources(context.Background(), ds.ListRequest[ds.SourceFilter]{Limit: 1}); err != nil {
			t.Fatalf("first call: %v", err)
		}
		kit.Reset()
		return prov, kit
	}

	t.Run("walks every record exactly once whatever the page size", func(t *testing.T) {
		prov, _ := start(t, Options{})
		var firstOrder []string
		for _, limit := range []int{1, 7, caps.PageLimit, caps.PageLimit + 50} {
			got, total := walkSources(t, prov, ds.SourceFilter{}, limit)
			order := nodeIDs(got)
			if firstOrder == nil {
				firstOrder = order
			} else if !slices.Equal(order, firstOrder) {
				t.Errorf("limit %d: native order differs between walks", limit)
			}
			assertUniqueNodes(t, got)
			assertSameSet(t, keys(got), all)
			if total != nil && *total != len(all) {
				t.Errorf("limit %d: total = %d, want %d", limit, *total, len(all))
			}
		}
	})

	t.Run("never returns more than the page maximum", func(t *testing.T) {
		prov, _ := start(t, Options{})
		page, err := prov.ListSources(context.Background(), ds.ListRequest[ds.SourceFilter]{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) == 0 || len(page.Items) > caps.PageLimit {
			t.Errorf("got %d items for limit 1000, want 1..%d", len(page.Items), caps.PageLimit)
		}
		if page.Next == "" && len(all) > caps.PageLimit {
			t.Errorf("no next page after %d of %d records", len(page.Items), len(all))
		}
	})

	t.Run("totals are exact or absent", func(t *testing.T) {
		prov, _ := start(t, Options{})
		for _, f := range []ds.SourceFilter{{}, {CustomerID: ptr(customers[0])}, {SourceID: ptr(demo.Systems[ds.Telness].ID)}} {
			page, err := prov.ListSources(context.Background(), ds.ListRequest[ds.SourceFilter]{Limit: 5, Filter: f})
			if err != nil {
				t.Fatal(err)
			}
			if want := len(expectedKeys(exp, f, h.Provider)); page.Total != nil && *page.Total != want {
				t.Errorf("filter %+v: total = %d, want %d", f, *page.Total, want)
			}
		}
	})

	t.Run("maps every record with its provider, ids, system, target and raw body", func(t *testing.T) {
		prov, _ := start(t, Options{})
		got, _ := walkSources(t, prov, ds.SourceFilter{}, caps.PageLimit)
		for _, s := range got {
			if s.Provider != h.Provider || s.Kind != ds.SourceSystem || s.RecordID == "" || s.CustomerID == "" || s.SourceID == "" {
				t.Fatalf("bad mapping: provider=%v kind=%s record=%q customer=%q source=%q", s.Provider, s.Kind, s.RecordID, s.CustomerID, s.SourceID)
			}
			if len(s.Raw) == 0 || s.Raw[0] != '{' {
				t.Fatalf("%s: raw = %.40s, want the vendor's JSON object", s.RecordID, s.Raw)
			}
			e, ok := byKey[sourceKey(s)]
			if !ok {
				t.Fatalf("record %s (%s) is not in the demo world", s.RecordID, sourceKey(s))
			}
			if s.SourceName == nil || *s.SourceName != e.SourceName {
				t.Errorf("%s: sourceName = %s, want %s", s.RecordID, deref(s.SourceName), e.SourceName)
			}
			if s.Target == nil || *s.Target != e.Target {
				t.Errorf("%s: target = %+v, want %+v", s.RecordID, s.Target, e.Target)
			}
		}
		// A record is found again from its node id, the way node(id:) does.
		for _, s := range got[:min(5, len(got))] {
			ref, err := ds.DecodeNodeID(s.NodeID())
			if err != nil {
				t.Fatal(err)
			}
			recs, err := prov.SourcesByCustomers(context.Background(), []string{ref.CustomerID})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(recs, func(r *ds.CustomerSource) bool { return r.RecordID == ref.RecordID }) {
				t.Errorf("record %s not found among customer %s's records", ref.RecordID, ref.CustomerID)
			}
		}
	})

	someExternal := []string{exp[0].ExternalID, exp[len(exp)/3].ExternalID, exp[len(exp)/2].ExternalID, exp[len(exp)-1].ExternalID, "no-such-external-id"}
	for _, tc := range []struct {
		name string
		f    ds.SourceFilter
	}{
		{"customer id", ds.SourceFilter{CustomerID: ptr(customers[len(customers)/2])}},
		{"unknown customer id", ds.SourceFilter{CustomerID: ptr("00000000000000000000000000")}},
		{"source id", ds.SourceFilter{SourceID: ptr(demo.Systems[ds.DigitalRiver].ID)}},
		{"external ids", ds.SourceFilter{ExternalIDs: someExternal}},
		{"customer and source id", ds.SourceFilter{CustomerID: ptr(exp[1].CustomerID), SourceID: ptr(exp[1].SourceID)}},
		{"source id and external ids", ds.SourceFilter{SourceID: ptr(exp[0].SourceID), ExternalIDs: someExternal}},
	} {
		t.Run("filter by "+tc.name+" returns exactly the matching records", func(t *testing.T) {
			prov, _ := start(t, Options{})
			want := expectedKeys(exp, tc.f, h.Provider)
			for _, limit := range []int{2, caps.PageLimit} {
				got, total := walkSources(t, prov, tc.f, limit)
				assertUniqueNodes(t, got)
				assertSameSet(t, keys(got), want)
				if total != nil && *total != len(want) {
					t.Errorf("limit %d: total = %d, want %d", limit, *total, len(want))
				}
			}
		})
	}

	t.Run("looks records up by external id in as few calls as the batch size allows", func(t *testing.T) {
		prov, kit := ready(t)
		seen := map[string]bool{}
		var ids []string
		for _, e := range exp {
			if !seen[e.ExternalID] && len(ids) < caps.LookupBatch+caps.LookupBatch/2 {
				seen[e.ExternalID] = true
				ids = append(ids, e.ExternalID)
			}
		}
		ids = append(ids, "no-such-external-id", ids[0]) // a miss and a repeat
		got, err := prov.SourcesByExternalIDs(context.Background(), ids)
		if err != nil {
			t.Fatal(err)
		}
		want := expectedKeys(exp, ds.SourceFilter{ExternalIDs: ids}, h.Provider)
		assertUniqueNodes(t, got)
		assertSameSet(t, keys(got), want)
		batches := (len(ids) + caps.LookupBatch - 1) / caps.LookupBatch
		if limit := batches + len(want)/caps.PageLimit; kit.Count() > limit {
			t.Errorf("%d ids took %d calls, want at most %d (batch size %d)", len(ids), kit.Count(), limit, caps.LookupBatch)
		}
		kit.Reset()
		if got, err := prov.SourcesByExternalIDs(context.Background(), nil); err != nil || len(got) != 0 || kit.Count() != 0 {
			t.Errorf("no ids: %d records, err %v, %d calls; want none, nil, 0", len(got), err, kit.Count())
		}
	})

	t.Run("looks records up by customer, a missing customer having none", func(t *testing.T) {
		prov, kit := ready(t)
		ids := append([]string(nil), customers[:min(25, len(customers))]...)
		ids = append(ids, "00000000000000000000000000", ids[0])
		got, err := prov.SourcesByCustomers(context.Background(), ids)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, id := range ids {
			want = append(want, expectedKeys(exp, ds.SourceFilter{CustomerID: ptr(id)}, h.Provider)...)
		}
		want = slices.Compact(sortedCopy(want))
		assertUniqueNodes(t, got)
		assertSameSet(t, keys(got), want)
		if kit.Count() > len(ids) {
			t.Errorf("%d customers took %d calls, want at most one each", len(ids), kit.Count())
		}
		kit.Reset()
		if got, err := prov.SourcesByCustomers(context.Background(), nil); err != nil || len(got) != 0 || kit.Count() != 0 {
			t.Errorf("no ids: %d records, err %v, %d calls; want none, nil, 0", len(got), err, kit.Count())
		}
	})

	t.Run("is safe for concurrent use", func(t *testing.T) {
		prov, _ := start(t, Options{})
		var wg sync.WaitGroup
		errs := make([]error, 8)
		results := make([][]string, 8)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var err error
				switch i % 3 {
				case 0:
					var page ds.Page[*ds.CustomerSource]
					page, err = prov.ListSources(context.Background(), ds.ListRequest[ds.SourceFilter]{Limit: caps.PageLimit})
					results[i] = keys(page.Items)
				case 1:
					var got []*ds.CustomerSource
					got, err = prov.SourcesByExternalIDs(context.Background(), someExternal)
					results[i] = keys(got)
				default:
					var got []*ds.CustomerSource
					got, err = prov.SourcesByCustomers(context.Background(), customers[:3])
					results[i] = keys(got)
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("goroutine %d: %v", i, err)
			} else if len(results[i]) == 0 {
				t.Errorf("goroutine %d: no records", i)
			}
		}
	})

	runFaults(t, faultSuite{provider: h.Provider, validationStatus: h.ValidationStatus, retryAfterHeader: h.RetryAfterHeader,
		start: func(t *testing.T, o Options) (reads, *simkit.Kit) {
			if o.BadCredentials {
				prov, kit := start(t, o)
				return sourceReads(prov, someExternal, customers), kit
			}
			prov, kit := ready(t)
			return sourceReads(prov, someExternal, customers), kit
		},
		badTokens: []string{"-1", "zz", "%00", "1e3", " 5", strings.Repeat("9", 40)}, tokensFail: true})
	runSourceCapabilities(t, h, start, exp)
}

// sourceReads are the reads the fault subtests make of a source provider.
func sourceReads(prov ds.SourceProvider, external, customers []string) reads {
	listAt := func(ctx context.Context, token string) error {
		_, err := prov.ListSources(ctx, ds.ListRequest[ds.SourceFilter]{Token: token, Limit: 5})
		return err
	}
	return reads{listAt: listAt, calls: []call{
		{"ListSources", func(ctx context.Context) error { return listAt(ctx, "") }},
		{"SourcesByExternalIDs", func(ctx context.Context) error {
			_, err := prov.SourcesByExternalIDs(ctx, external)
			return err
		}},
		{"SourcesByCustomers", func(ctx context.Context) error {
			_, err := prov.SourcesByCustomers(ctx, customers[:min(20, len(customers))])
			return err
		}},
	}}
}
