package providertest

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/cache"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/federate"
	"github.com/federated-customers/gateway/datasource/simkit"
)

// runCapabilities checks the provider's declared Capabilities against what
// its client does, counting calls at the simulator: a wrong declaration
// fails here rather than in a walk or a cost estimate.
func runCapabilities(t *testing.T, h Harness, people []demo.Person, want []string) {
	t.Helper()
	// warm starts a provider whose login or token is done, so counted
	// calls are reads; its warm-up lookup caches nothing the checks read.
	warm := func(t *testing.T) (ds.CustomerProvider, ds.Capabilities, *simkit.Kit) {
		t.Helper()
		prov, kit := h.Start(t, people, Options{})
		if _, err := prov.GetCustomers(context.Background(), []string{missingID(h.Provider)}); err != nil {
			t.Fatal(err)
		}
		kit.Reset()
		return prov, prov.Capabilities(), kit
	}

	t.Run("declares one consistent capability value, writes as the client has them", func(t *testing.T) {
		prov, caps, _ := warm(t)
		if err := caps.Check(); err != nil || caps.Provider != h.Provider {
			t.Fatalf("%s declares %v: %v", h.Provider, caps.Provider, err)
		}
		if _, cached := prov.(*cache.Provider); !cached { // the cache always has a write side
			_, writes := prov.(ds.CustomerWriter)
			_, attaches := prov.(ds.SourceAttacher)
			if writes != caps.Writes || attaches != caps.Attaches {
				t.Errorf("client writes %v, attaches %v; declared %v, %v", writes, attaches, caps.Writes, caps.Attaches)
			}
		}
	})

	t.Run("a cold client calls at most Once times besides its list call, a warm one once", func(t *testing.T) {
		prov, kit := h.Start(t, people, Options{})
		caps := prov.Capabilities()
		for i, most := range []int{caps.Once + 1, 1} {
			kit.Reset()
			if _, err := prov.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 2 + i}); err != nil {
				t.Fatal(err)
			}
			if kit.Count() > most {
				t.Errorf("list %d took %d calls, want at most %d (Once %d)", i+1, kit.Count(), most, caps.Once)
			}
		}
	})

	t.Run("one list call returns PageLimit records when more are asked for", func(t *testing.T) {
		prov, caps, kit := warm(t)
		page, err := prov.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: caps.PageLimit + 50})
		if err != nil {
			t.Fatal(err)
		}
		if n := min(caps.PageLimit, len(want)); len(page.Items) != n || kit.Count() != 1 {
			t.Errorf("%d records in %d calls, want %d in 1 (PageLimit %d)", len(page.Items), kit.Count(), n, caps.PageLimit)
		}
	})

	t.Run("ExactNext: the last full page has no next token", func(t *testing.T) {
		prov, caps, _ := warm(t)
		limit := caps.PageLimit // the largest page size that ends the list on a full page
		for len(want)%limit != 0 {
			limit--
		}
		token, seen := "", 0
		for seen < len(want) {
			page, err := prov.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Token: token, Limit: limit})
			if err != nil || len(page.Items) == 0 {
				t.Fatalf("after %d records: %d more, %v", seen, len(page.Items), err)
			}
			seen, token = seen+len(page.Items), page.Next
		}
		if token != "" && caps.ExactNext { // without ExactNext a token may or may not follow
			t.Errorf("the last full page (size %d) has next %q; ExactNext is declared", limit, token)
		}
	})

	t.Run("a lookup makes the calls LookupBatch, ScanAbove and Alone declare", func(t *testing.T) {
		prov, caps, kit := warm(t)
		rest := want
		take := func(n int) []string {
			n = min(n, len(rest))
			ids := rest[:n]
			rest = rest[n:]
			return ids
		}
		cases := [][]string{take(min(40, caps.LoaderCap))}
		if caps.ScanAbove > 0 {
			cases = append(cases, take(caps.ScanAbove), take(caps.ScanAbove+1))
		}
		// an id with a comma, which a comma-separated id filter cannot carry
		cases = append(cases, append(take(3), "no,such"))
		for _, ids := range cases {
			kit.Reset()
			if _, err := prov.GetCustomers(context.Background(), ids); err != nil {
				t.Fatal(err)
			}
			made, bound := kit.Count(), caps.CallModel().LookupIDs(ids, 1)
			if made > bound {
				t.Errorf("%d ids took %d calls; the call model allows %d", len(ids), made, bound)
			}
			if caps.ScanAbove > 0 && len(ids) > caps.ScanAbove {
				if made >= len(ids) {
					t.Errorf("%d ids (ScanAbove %d) took %d calls: no list scan", len(ids), caps.ScanAbove, made)
				}
				continue
			}
			alone := 0
			for _, id := range ids {
				if caps.Alone != nil && caps.Alone(id) {
					alone++
				}
			}
			if exact := (len(ids)-alone+caps.LookupBatch-1)/caps.LookupBatch + alone; made != exact {
				t.Errorf("%d ids (%d alone) took %d calls, want %d (LookupBatch %d)", len(ids), alone, made, exact, caps.LookupBatch)
			}
		}
	})

	t.Run("declared sorts are served in their order with their parameter, others refused without a call", func(t *testing.T) {
		prov, caps, kit := warm(t)
		for _, f := range []ds.OrderField{ds.OrderCreatedAt, ds.OrderUpdatedAt, ds.OrderEmail, ds.OrderName} {
			for _, desc := range []bool{false, true} {
				o := ds.Order{Field: f, Descending: desc}
				kit.Reset()
				page, err := prov.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: caps.PageLimit, Order: &o})
				param, native := caps.Sort[f]
				if !native {
					if want := caps.CanOrder(o); err == nil || err.Error() != want.Error() || kit.Count() != 0 {
						t.Errorf("%+v: %v after %d calls, want %q without a call", o, err, kit.Count(), want)
					}
					continue
				}
				if err != nil || !sentValue(kit, param) {
					t.Fatalf("%+v: %v; calls %+v do not carry %q", o, err, kit.Calls(), param)
				}
				if !slices.IsSortedFunc(page.Items, func(a, b *ds.Customer) int { return less(federate.CustomerLess(o), a, b) }) {
					t.Errorf("%+v: the page is not in that order", o)
				}
			}
		}
	})

	t.Run("declared pushdowns reach the vendor as their parameters", func(t *testing.T) {
		prov, caps, kit := warm(t)
		p := people[4]
		for _, tc := range []struct {
			param string
			f     ds.Filter
		}{
			{caps.Pushdown.Email, ds.Filter{Email: ptr(p.EmailAt(h.Provider))}},
			{caps.Pushdown.Search, ds.Filter{Search: ptr("an")}},
			{caps.Pushdown.Country, ds.Filter{Country: []string{p.Country}}},
		} {
			if tc.param == "" {
				continue
			}
			kit.Reset()
			if _, err := prov.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 5, Filter: tc.f}); err != nil {
				t.Fatal(err)
			}
			if !sentParam(kit, "", tc.param) {
				t.Errorf("filter %+v: calls %+v do not carry %q", tc.f, kit.Calls(), tc.param)
			}
		}
	})

	t.Run("Backward reads the records before a position as declared", func(t *testing.T) {
		prov, caps, _ := warm(t)
		all := walk(t, prov, ds.Filter{}, caps.PageLimit)
		k := len(all) / 2
		switch caps.Backward {
		case ds.BackwardOffset:
			// a page may be short (a vendor page boundary): read on to 3
			var got []string
			for off := k; len(got) < 3; {
				page, err := prov.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Token: ds.OffsetToken(off), Limit: k + 3 - off})
				if err != nil || len(page.Items) == 0 {
					t.Fatalf("offset %d: %d records, %v", off, len(page.Items), err)
				}
				got, off = append(got, customerIDs(page.Items)...), off+len(page.Items)
				if next, err := caps.ParseOffset(page.Next); err != nil || next != off {
					t.Errorf("next %q reads as %d (%v), want offset %d", page.Next, next, err, off)
				}
			}
			if !slices.Equal(got, all[k:k+3]) {
				t.Errorf("offset %d: %v, want %v", k, got, all[k:k+3])
			}
		case ds.BackwardNative:
			items, after, _, atStart, err := caps.ListBefore(context.Background(), ds.Filter{}, all[k], 0, 3)
			if got := customerIDs(items); !slices.Equal(got, all[k-2:k+1]) || len(after) != len(items) || atStart || err != nil {
				t.Errorf("before %s: %v (start %v, %v), want %v", all[k], got, atStart, err, all[k-2:k+1])
			}
		default:
			t.Skip("the list pages forward only")
		}
	})
}

// sentParam reports whether a call the kit saw (to path, "" for any)
// carried query parameter name.
func sentParam(kit *simkit.Kit, path, name string) bool {
	return slices.ContainsFunc(kit.Calls(), func(c simkit.Call) bool {
		q, err := url.ParseQuery(c.Query)
		return err == nil && q.Has(name) && (path == "" || c.Path == path)
	})
}

// sentValue reports whether a call the kit saw carried v in its query.
func sentValue(kit *simkit.Kit, v string) bool {
	return slices.ContainsFunc(kit.Calls(), func(c simkit.Call) bool {
		q, err := url.QueryUnescape(c.Query)
		return err == nil && strings.Contains(q, v)
	})
}

// less turns a less function into a comparison for slices.IsSortedFunc.
func less[T any](lt func(a, b T) bool, a, b T) int {
	switch {
	case lt(a, b):
		return -1
	case lt(b, a):
		return 1
	}
	return 0
}

func customerIDs(cs []*ds.Customer) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ProviderID
	}
	return out
}

// runSourceCapabilities is runCapabilities for a source provider: its page
// limit, its paged lookups by external id and its offset tokens.
func runSourceCapabilities(t *testing.T, h SourceHarness, start func(*testing.T, Options) (ds.SourceProvider, *simkit.Kit), exp []expectedSource) {
	t.Helper()
	t.Run("declares one consistent capability value; a cold client calls at most Once times besides its list call", func(t *testing.T) {
		prov, kit := start(t, Options{})
		caps := prov.Capabilities()
		if err := caps.Check(); err != nil || caps.Provider != h.Provider {
			t.Fatalf("%s declares %v: %v", h.Provider, caps.Provider, err)
		}
		page, err := prov.ListSources(context.Background(), ds.ListRequest[ds.SourceFilter]{Limit: caps.PageLimit + 50})
		if err != nil {
			t.Fatal(err)
		}
		if n := min(caps.PageLimit, len(exp)); len(page.Items) != n || kit.Count() > caps.Once+1 {
			t.Errorf("%d records in %d calls, want %d in at most %d (PageLimit %d, Once %d)", len(page.Items), kit.Count(), n, caps.Once+1, caps.PageLimit, caps.Once)
		}
	})

	t.Run("a lookup by external ids makes the calls LookupBatch and PagedLookup declare", func(t *testing.T) {
		prov, kit := start(t, Options{})
		caps := prov.Capabilities()
		if _, err := prov.ListSources(context.Background(), ds.ListRequest[ds.SourceFilter]{Limit: 1}); err != nil {
			t.Fatal(err)
		}
		perID := map[string]int{}
		var ids []string
		for _, e := range exp {
			if perID[e.ExternalID]++; perID[e.ExternalID] == 1 && len(ids) < caps.LookupBatch+caps.LookupBatch/2 {
				ids = append(ids, e.ExternalID)
			}
		}
		most := 0
		for _, id := range ids {
			most = max(most, perID[id])
		}
		kit.Reset()
		if _, err := prov.SourcesByExternalIDs(context.Background(), ids); err != nil {
			t.Fatal(err)
		}
		batches := (len(ids) + caps.LookupBatch - 1) / caps.LookupBatch
		bound := batches * (1 + (min(len(ids), caps.LookupBatch)*most+caps.PageLimit-1)/caps.PageLimit)
		if !caps.PagedLookup {
			bound = batches
		}
		if made := kit.Count(); made < batches || made > bound || made > caps.CallModel().LookupCalls(len(ids), most) {
			t.Errorf("%d ids took %d calls, want %d..%d (LookupBatch %d, PagedLookup %v)", len(ids), made, batches, bound, caps.LookupBatch, caps.PagedLookup)
		}
	})

	t.Run("Backward reads the records before a position as declared", func(t *testing.T) {
		prov, _ := start(t, Options{})
		caps := prov.Capabilities()
		if caps.Backward != ds.BackwardOffset {
			t.Skip("source records page forward only")
		}
		all, _ := walkSources(t, prov, ds.SourceFilter{}, caps.PageLimit)
		k := len(all) / 2
		page, err := prov.ListSources(context.Background(), ds.ListRequest[ds.SourceFilter]{Token: ds.OffsetToken(k), Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		next, err := caps.ParseOffset(page.Next)
		if got := nodeIDs(page.Items); !slices.Equal(got, nodeIDs(all[k:k+3])) || err != nil || next != k+3 {
			t.Errorf("offset %d: %v next %q (%d, %v); want %v next offset %d", k, got, page.Next, next, err, nodeIDs(all[k:k+3]), k+3)
		}
	})
}
