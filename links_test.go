package main

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/federate"
)

// expectedLinks is the truth of the demo world: for each record, the
// person's records at other providers that its data can link, and why.
func expectedLinks(people []demo.Person) map[string]map[string][]string {
	key := func(q ds.ProviderID, id string) string { return q.String() + "/" + id }
	out := map[string]map[string][]string{}
	for _, p := range people {
		var at []ds.ProviderID
		for _, q := range demo.CustomerProviders {
			if p.At(q) {
				at = append(at, q)
			}
		}
		// References: Kintsugi and Commerce Layer records name Other(q);
		// the chain is followed both ways.
		comp := map[ds.ProviderID]int{}
		for i, q := range at {
			comp[q] = i
		}
		union := func(a, b ds.ProviderID) {
			ca, cb := comp[a], comp[b]
			for q, c := range comp {
				if c == cb {
					comp[q] = ca
				}
			}
		}
		if p.Links == demo.LinkAll || p.Links == demo.LinkReferenceOnly {
			for _, q := range []ds.ProviderID{ds.Kintsugi, ds.CommerceLayer} {
				if o, _, ok := p.Other(q); ok && p.At(q) {
					union(q, o)
				}
			}
		}
		for _, q := range at {
			links := map[string][]string{}
			for _, o := range at {
				if o == q {
					continue
				}
				var why []string
				if p.Links == demo.LinkAll || p.Links == demo.LinkSourceRecordOnly {
					why = append(why, "SOURCE_RECORD")
				}
				if (p.Links == demo.LinkAll || p.Links == demo.LinkReferenceOnly) && comp[q] == comp[o] {
					why = append(why, "REFERENCE")
				}
				if p.Links == demo.LinkAll || p.Links == demo.LinkEmailOnly {
					why = append(why, "EMAIL")
				}
				if len(why) > 0 {
					sort.Strings(why)
					links[key(o, p.IDs[o])] = why
				}
			}
			out[key(q, p.IDs[q])] = links
		}
	}
	return out
}

const linksQuery = `query($first: Int, $after: String) { customers(first: $first, after: $after) {
	pageInfo { hasNextPage endCursor }
	nodes { provider providerId links { matchedBy customer { provider providerId } } linkedCustomers { providerId } } } }`

type linksPage struct {
	Customers struct {
		PageInfo struct {
			HasNextPage bool
			EndCursor   *string
		}
		Nodes []struct {
			Provider, ProviderID string
			Links                []struct {
				MatchedBy []string
				Customer  struct{ Provider, ProviderID string }
			}
			LinkedCustomers []struct{ ProviderID string }
		}
	}
}

func TestLinksFindEveryTrueLinkAndNoFalseOne(t *testing.T) {
	t.Parallel()
	m := startGateway(t, withSimulated(nil), withSynced())
	want := expectedLinks(demo.People(testPeople))
	kinds := map[string]int{}
	var after any
	seen := 0
	for {
		r := m.query(t, linksQuery, map[string]any{"first": 100, "after": after})
		page := mustData[linksPage](t, r)
		for _, n := range page.Customers.Nodes {
			seen++
			self := n.Provider + "/" + n.ProviderID
			got := map[string][]string{}
			for _, l := range n.Links {
				why := append([]string(nil), l.MatchedBy...)
				sort.Strings(why)
				got[l.Customer.Provider+"/"+l.Customer.ProviderID] = why
				kinds[strings.Join(why, "+")]++
			}
			if fmt.Sprint(got) != fmt.Sprint(want[self]) {
				t.Errorf("%s: links %v, want %v", self, got, want[self])
			}
			if len(n.LinkedCustomers) != len(n.Links) {
				t.Errorf("%s: linkedCustomers has %d, links %d", self, len(n.LinkedCustomers), len(n.Links))
			}
		}
		if !page.Customers.PageInfo.HasNextPage {
			break
		}
		after = *page.Customers.PageInfo.EndCursor
	}
	if seen != len(want) {
		t.Fatalf("walked %d customers, the demo world has %d", seen, len(want))
	}
	for _, k := range []string{"EMAIL", "REFERENCE", "SOURCE_RECORD", "EMAIL+REFERENCE+SOURCE_RECORD"} {
		if kinds[k] == 0 {
			t.Errorf("no link matched by exactly %s: the demo world should have some (%v)", k, kinds)
		}
	}
	t.Logf("links by reasons: %v", kinds)
}

const graphQuery = `query($first: Int) { customers(first: $first) { nodes { id sources { sourceId customer { id } } linkedCustomers { id email } } } }`

func TestTheGraphQueryTakesAHandfulOfCallsWithTheIndexWarm(t *testing.T) {
	m := startGateway(t, withSimulated(nil), withSynced())
	var at10 map[ds.ProviderID]int
	for _, first := range []int{10, 100} {
		m.quiesce(t) // the previous page's fetch ahead, if any, is not this one's
		m.resetKits(t)
		r := m.query(t, graphQuery, map[string]any{"first": first})
		if len(r.Errors) > 0 || r.Extensions["warnings"] != nil {
			t.Fatalf("first %d: errors %+v warnings %v", first, r.Errors, r.Extensions["warnings"])
		}
		m.quiesce(t)
		calls := m.upstreamCalls(t)
		total := 0
		for p, n := range calls {
			total += n
			if n > 3 {
				t.Errorf("first %d: %s took %d calls, want at most 3", first, p, n)
			}
		}
		if first == 10 {
			at10 = calls
			continue
		}
		if fmt.Sprint(calls) != fmt.Sprint(at10) {
			t.Errorf("calls per provider at first 100 %v differ from first 10 %v", calls, at10)
		}
		if total > 30 {
			t.Errorf("first 100: %d calls in all, want at most 30", total)
		}
		t.Logf("first %d: %v", first, calls)
	}
}

func TestWithoutAnIndexLinksStayWithinTheBudgetAndSaySo(t *testing.T) {
	m := startGateway(t)
	m.resetKits(t)
	r := m.query(t, graphQuery, map[string]any{"first": 100})
	if len(r.Errors) > 0 {
		t.Fatalf("%+v", r.Errors)
	}
	calls := m.upstreamCalls(t)
	// The query has three levels (the page, sources and links, the sources'
	// customers). Bulk lookups take at most 3 calls a level; a provider
	// without one takes at most the lookup budget for links, plus its bulk
	// or page calls. How keys fall into batches depends on timing (the
	// loaders' 2 ms window), so the bounds are per level, not exact.
	const levels, perLevel = 3, 3
	budget := federate.DefaultLookupBudget
	// CareCloud: one records list per CareCloud customer, within the budget;
	// its bulk lookups by external id batch many nodes each.
	perCustomer, bulk := 0, 0
	for _, c := range m.kit(t, ds.CareCloud).Calls() {
		if strings.Contains(c.Path, "/customers/") {
			perCustomer++
		} else {
			bulk++
		}
	}
	if perCustomer > budget || bulk > 100/4 {
		t.Errorf("CARECLOUD: %d records lists (budget %d) and %d bulk lookups for 100 customers", perCustomer, budget, bulk)
	}
	for p, limit := range map[ds.ProviderID]int{
		ds.Kintsugi:      budget + levels*perLevel,
		ds.Telness:       budget + levels*perLevel,
		ds.DigitalRiver:  levels * perLevel,
		ds.CommerceLayer: levels * perLevel,
	} {
		if calls[p] > limit {
			t.Errorf("%s: %d calls, want at most %d", p, calls[p], limit)
		}
	}
	warnings := fmt.Sprint(r.Extensions["warnings"])
	if !strings.Contains(warnings, "links at CARECLOUD are incomplete") {
		t.Fatalf("warnings = %s, want one saying CareCloud's links are incomplete", warnings)
	}
	t.Logf("cold first 100: %v", calls)
}

func TestDuplicateIDsGiveEachCustomerOnceAndOneCall(t *testing.T) {
	m := startGateway(t)
	var ids []string
	for _, p := range demo.People(testPeople) {
		if id, ok := p.IDs[ds.CommerceLayer]; ok {
			ids = append(ids, ds.CustomerNodeID(ds.CommerceLayer, id))
		}
	}
	a, b, c := ids[0], ids[1], ids[2]
	m.resetKits(t)
	got := mustData[struct {
		Customers struct{ Nodes []struct{ ID string } }
	}](t, m.query(t, `query($ids: [ID!]) { customers(filter: {ids: $ids}) { nodes { id } } }`, map[string]any{"ids": []string{a, b, a, b, a}}))
	if len(got.Customers.Nodes) != 2 || got.Customers.Nodes[0].ID != a || got.Customers.Nodes[1].ID != b {
		t.Fatalf("nodes %+v; want a then b, once each", got.Customers.Nodes)
	}
	if n := m.kit(t, ds.CommerceLayer).Count(); n != 1 {
		t.Fatalf("%d Commerce Layer calls for duplicate ids, want 1", n)
	}
	m.resetKits(t)
	r := m.query(t, `query($c: ID!) { x: customer(id: $c) { id } y: customer(id: $c) { email } n: nodes(ids: [$c, $c]) { id } }`, map[string]any{"c": c})
	if len(r.Errors) > 0 || strings.Count(string(r.Data), c) != 3 {
		t.Fatalf("%s %+v", r.Data, r.Errors)
	}
	if n := m.kit(t, ds.CommerceLayer).Count(); n != 1 {
		t.Fatalf("%d Commerce Layer calls, want 1 (the same customer in four places of one query)", n)
	}
}

func TestAPaymentSourcePointsBackToItsCustomer(t *testing.T) {
	t.Parallel()
	m := startGateway(t)
	var owner string
	for _, p := range demo.People(testPeople) {
		if p.PaymentSourceID != "" {
			owner = ds.CustomerNodeID(ds.DigitalRiver, p.IDs[ds.DigitalRiver])
			break
		}
	}
	r := m.query(t, `query($id: ID!) { customer(id: $id) { sources { kind customer { id } } } }`, map[string]any{"id": owner})
	got := mustData[struct {
		Customer struct {
			Sources []struct {
				Kind     string
				Customer *struct{ ID string }
			}
		}
	}](t, r)
	payments := 0
	for _, s := range got.Customer.Sources {
		if s.Kind == "PAYMENT" {
			payments++
			if s.Customer == nil || s.Customer.ID != owner {
				t.Fatalf("PAYMENT source's customer = %+v, want %s", s.Customer, owner)
			}
		}
	}
	if payments == 0 {
		t.Fatal("the demo customer has no PAYMENT source")
	}
}

func TestLastBeforeWalksBackwardOverProvidersThatCanDoIt(t *testing.T) {
	t.Parallel()
	m := startGateway(t)
	filter := map[string]any{"providers": []string{"KINTSUGI", "COMMERCE_LAYER"}}
	forward := keys(m.walk(t, 40, filter))
	const q = `query($last: Int, $before: String, $filter: CustomerFilter) { customers(last: $last, before: $before, filter: $filter) {
		pageInfo { hasPreviousPage hasNextPage startCursor } edges { node { id provider providerId email } } } }`
	var got []string
	var before any
	for page := 0; page < 50; page++ {
		r := m.query(t, q, map[string]any{"last": 30, "before": before, "filter": filter})
		p := mustData[struct {
			Customers struct {
				PageInfo struct {
					HasPreviousPage, HasNextPage bool
					StartCursor                  string
				}
				Edges []struct{ Node customerNode }
			}
		}](t, r)
		var nodes []customerNode
		for _, e := range p.Customers.Edges {
			nodes = append(nodes, e.Node)
		}
		got = append(keys(nodes), got...)
		if p.Customers.PageInfo.HasNextPage != (before != nil) {
			t.Fatalf("page %d: hasNextPage %v", page, p.Customers.PageInfo.HasNextPage)
		}
		if !p.Customers.PageInfo.HasPreviousPage {
			break
		}
		before = p.Customers.PageInfo.StartCursor
	}
	if strings.Join(got, ",") != strings.Join(forward, ",") {
		t.Fatalf("backward walk has %d records, forward %d; they differ", len(got), len(forward))
	}
	for _, tc := range []struct {
		name string
		vars map[string]any
		code string
		prov string
	}{
		{"a provider that pages forward only is named", map[string]any{"last": 5, "filter": map[string]any{"providers": []string{"KINTSUGI", "TELNESS"}}}, "UNSUPPORTED_BY_PROVIDER", "TELNESS"},
		{"first with last", map[string]any{"last": 5, "first": 5}, "BAD_USER_INPUT", ""},
		{"last over 100", map[string]any{"last": 101, "filter": filter}, "BAD_USER_INPUT", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := m.query(t, `query($last: Int, $first: Int, $filter: CustomerFilter) { customers(last: $last, first: $first, filter: $filter) { nodes { id } } }`, tc.vars)
			if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != tc.code || (tc.prov != "" && r.Errors[0].Extensions["provider"] != tc.prov) {
				t.Fatalf("errors %+v, want %s naming %q", r.Errors, tc.code, tc.prov)
			}
		})
	}
}

func TestLastBeforeWalksBackwardFromACursorInsideDigitalRiver(t *testing.T) {
	t.Parallel()
	m := startGateway(t)
	filter := map[string]any{"providers": []string{"KINTSUGI", "DIGITAL_RIVER"}}
	forward := m.walk(t, 50, filter)
	// the cursor of the last Digital River record: everything before it, backward
	var cursor string
	var after any
	for cursor == "" {
		p := mustData[customersPage](t, m.query(t, customersQuery, map[string]any{"first": 100, "after": after, "filter": filter}))
		if !p.Customers.PageInfo.HasNextPage {
			cursor = p.Customers.Edges[len(p.Customers.Edges)-1].Cursor
			break
		}
		after = *p.Customers.PageInfo.EndCursor
	}
	const q = `query($last: Int, $before: String, $filter: CustomerFilter) { customers(last: $last, before: $before, filter: $filter) {
		pageInfo { hasPreviousPage startCursor } edges { node { id provider providerId email } } } }`
	var got []customerNode
	before := any(cursor)
	for page := 0; page < 50; page++ {
		p := mustData[struct {
			Customers struct {
				PageInfo struct {
					HasPreviousPage bool
					StartCursor     string
				}
				Edges []struct{ Node customerNode }
			}
		}](t, m.query(t, q, map[string]any{"last": 17, "before": before, "filter": filter}))
		var nodes []customerNode
		for _, e := range p.Customers.Edges {
			nodes = append(nodes, e.Node)
		}
		got = append(nodes, got...)
		if !p.Customers.PageInfo.HasPreviousPage {
			break
		}
		before = p.Customers.PageInfo.StartCursor
	}
	want := keys(forward[:len(forward)-1])
	if strings.Join(keys(got), ",") != strings.Join(want, ",") {
		t.Fatalf("backward from the last record: %d records, want the %d before it in order", len(got), len(want))
	}
	// From the end of the list Digital River cannot start: it has no "last page".
	r := m.query(t, `query($f: CustomerFilter) { customers(last: 5, filter: $f) { nodes { id } } }`, map[string]any{"f": filter})
	if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "UNSUPPORTED_BY_PROVIDER" || r.Errors[0].Extensions["provider"] != "DIGITAL_RIVER" {
		t.Fatalf("last without before ending at Digital River: %+v", r.Errors)
	}
}

func TestCustomerSourcesPageBackward(t *testing.T) {
	t.Parallel()
	m := startGateway(t)
	var forward []string
	var after any
	for {
		p := mustData[struct {
			CustomerSources struct {
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
				Nodes []struct{ ID string }
			}
		}](t, m.query(t, `query($a: String) { customerSources(first: 50, after: $a) { pageInfo { hasNextPage endCursor } nodes { id } } }`, map[string]any{"a": after}))
		for _, n := range p.CustomerSources.Nodes {
			forward = append(forward, n.ID)
		}
		if !p.CustomerSources.PageInfo.HasNextPage {
			break
		}
		after = p.CustomerSources.PageInfo.EndCursor
	}
	var back []string
	var before any
	for i := 0; i < 100; i++ {
		p := mustData[struct {
			CustomerSources struct {
				PageInfo struct {
					HasPreviousPage bool
					StartCursor     string
				}
				Nodes []struct{ ID string }
			}
		}](t, m.query(t, `query($b: String) { customerSources(last: 23, before: $b) { pageInfo { hasPreviousPage startCursor } nodes { id } } }`, map[string]any{"b": before}))
		var ids []string
		for _, n := range p.CustomerSources.Nodes {
			ids = append(ids, n.ID)
		}
		back = append(ids, back...)
		if !p.CustomerSources.PageInfo.HasPreviousPage {
			break
		}
		before = p.CustomerSources.PageInfo.StartCursor
	}
	if len(forward) == 0 || strings.Join(back, ",") != strings.Join(forward, ",") {
		t.Fatalf("backward walk of customerSources: %d records, forward %d; they differ", len(back), len(forward))
	}
}
