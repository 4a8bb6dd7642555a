package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/federated-customers/gateway/api"
	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/federate"
)

// costOf reads extensions.cost: the total and the per-provider estimate.
func costOf(t *testing.T, ext map[string]any) (int, map[ds.ProviderID]int) {
	t.Helper()
	c, ok := ext["cost"].(map[string]any)
	if !ok {
		t.Fatalf("no extensions.cost in %v", ext)
	}
	per := map[ds.ProviderID]int{}
	list, _ := c["providers"].([]any)
	for _, e := range list {
		line := e.(map[string]any)
		p, _ := ds.ParseProvider(line["provider"].(string))
		per[p] = int(line["calls"].(float64))
	}
	return int(c["upstreamCalls"].(float64)), per
}

func demoIDs(n int) []string {
	var ids []string
	for _, p := range demo.People(testPeople) {
		for _, q := range demo.CustomerProviders {
			if id, ok := p.IDs[q]; ok && len(ids) < n {
				ids = append(ids, ds.CustomerNodeID(q, id))
			}
		}
	}
	return ids
}

func TestTheCostEstimateIsNeverBelowTheCallsMade(t *testing.T) {
	ids := demoIDs(100)
	for _, tc := range []struct {
		name  string
		query string
		vars  map[string]any
	}{
		{"first page", `{ customers { nodes { id email } } }`, nil},
		{"100 with totalCount", `{ customers(first: 100) { totalCount nodes { id } } }`, nil},
		{"first from a variable", `query($n: Int) { customers(first: $n) { nodes { id linkedCustomers { id } } } }`, map[string]any{"n": 100}},
		{"search post-filter", `{ customers(first: 10, filter: {search: "zzzz-nobody"}) { nodes { id } } }`, nil},
		{"country at one provider", `{ customers(first: 50, filter: {providers: [KINTSUGI], country: ["SE"]}) { nodes { id } } }`, nil},
		{"filter.ids", `query($ids: [ID!]) { customers(first: 100, filter: {ids: $ids}) { totalCount nodes { id } } }`, map[string]any{"ids": ids}},
		{"nodes of 100 ids", `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": ids}},
		{"sources and links of 50", `{ customers(first: 50) { nodes { id sources { sourceId customer { id } } linkedCustomers { id email } } } }`, nil},
		{"links two levels", `{ customers(first: 20) { nodes { linkedCustomers { linkedCustomers { id } } } } }`, nil},
		{"customerSources with customers", `{ customerSources(first: 100) { totalCount nodes { sourceId customer { id linkedCustomers { id } } } } }`, nil},
		// 26 calls each: the walk's 25 and the one it fetched ahead
		{"38 post-filtered searches", amplification(38, 0), nil},
		{"links with reasons", `{ customers(first: 30) { nodes { links { matchedBy customer { id links { customer { id } } } } } } }`, nil},
		{"last page backward", `{ customers(last: 30, filter: {providers: [KINTSUGI, COMMERCE_LAYER]}) { totalCount nodes { id } } }`, nil},
		{"customerSources backward", `{ customerSources(last: 50) { nodes { sourceId customer { id } } } }`, nil},
		{"orderBy at Commerce Layer", `{ customers(first: 40, filter: {providers: [COMMERCE_LAYER]}, orderBy: {field: CREATED_AT, direction: DESC}) { nodes { id } } }`, nil},
		// finding 1 of issue 15: GraphQL coerces one value to a list of one
		{"coerced single ids", coercedAliases(ids, 20), nil},
		{"coerced single id in a variable", `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": invented(ds.Kintsugi, "one", 1)[0]}},
		{"coerced single filter id and provider", `{ customers(first: 5, filter: {ids: "` + invented(ds.Kintsugi, "f", 1)[0] + `", providers: KINTSUGI}) { totalCount nodes { id } } }`, nil},
		// finding 2: a Digital River id with a comma is a GET of its own
		{"Digital River ids with commas", `query($ids: [ID!]!) { nodes(ids: $ids) { id } a: customers(filter: {ids: $ids}) { nodes { id } } }`, map[string]any{"ids": invented(ds.DigitalRiver, "a,b", 100)}},
		{"aliases", `{ a: customers(first: 5) { nodes { id } } b: customers(first: 5, filter: {email: "x@example.com"}) { nodes { id } } c: customer(id: "` + ids[0] + `") { id } }`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := costGateway(t, api.Limits{}) // a cold cache: every read goes upstream
			m.resetKits(t)
			r := m.queryExt(t, tc.query, tc.vars, map[string]any{"cost": true})
			if len(r.Errors) > 0 {
				t.Fatalf("errors: %+v", r.Errors)
			}
			total, per := costOf(t, r.Extensions)
			calls := m.upstreamCalls(t)
			sum := 0
			for p, n := range calls {
				sum += n
				if n > per[p] {
					t.Errorf("%s: %d calls made, estimate %d", p, n, per[p])
				}
			}
			if sum > total {
				t.Errorf("%d calls made, estimate %d", sum, total)
			}
			t.Logf("estimate %d %v, made %d %v", total, per, sum, calls)
		})
	}
	t.Run("generated shapes", generatedShapes)
}

// invented is n ids of customers provider p does not hold.
func invented(p ds.ProviderID, prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = ds.CustomerNodeID(p, fmt.Sprintf("%s-%d", prefix, i))
	}
	return ids
}

// coercedAliases is n aliases of nodes given one id where a list is
// expected (GraphQL coerces it to a list of one), cycling through ids.
func coercedAliases(ids []string, n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, " n%d: nodes(ids: %q) { id }", i, ids[i%len(ids)])
	}
	b.WriteString(" }")
	return b.String()
}

// amplification is the request shape: aliases of a post-filtered
// customers(first: 1) and aliases of nodes with 100 invented ids each.
func amplification(searches, nodes int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < searches; i++ {
		fmt.Fprintf(&b, " c%d: customers(first: 1, filter: {search: \"q%d\"}) { nodes { id } }", i, i)
	}
	ids := make([]string, 100)
	for i := range ids {
		ids[i] = fmt.Sprintf("%q", ds.CustomerNodeID(ds.Kintsugi, fmt.Sprintf("invented-%d", i)))
	}
	for i := 0; i < nodes; i++ {
		fmt.Fprintf(&b, " n%d: nodes(ids: [%s]) { id }", i, strings.Join(ids, ","))
	}
	b.WriteString(" }")
	return b.String()
}

func TestTheAmplificationRequestIsRefusedBeforeAnyCall(t *testing.T) {
	t.Parallel()
	m := costGateway(t, api.Limits{})
	for _, tc := range []struct {
		name, query, code, message string
	}{
		// 584 KB as filed: the parser's token limit refuses it first
		{"766 searches and 174 nodes", amplification(766, 174), "BAD_USER_INPUT", "token limit"},
		// the same shape under the token, field and complexity limits: the cost refuses it
		{"500 searches and 10 nodes", amplification(500, 10), "QUERY_TOO_COMPLEX", "over the limit of 1000"},
		{"30 searches", amplification(30, 0), "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m.resetKits(t)
			r := m.query(t, tc.query, nil)
			calls := m.upstreamCalls(t)
			if tc.code == "" {
				if len(r.Errors) > 0 || calls[ds.Kintsugi] == 0 {
					t.Fatalf("%s (estimate under 1000) should run: %+v, calls %v", tc.name, r.Errors, calls)
				}
				return
			}
			if len(r.Errors) != 1 || r.codes()[0] != tc.code || !strings.Contains(r.Errors[0].Message, tc.message) {
				t.Fatalf("want one %s saying %q: %+v", tc.code, tc.message, r.Errors)
			}
			for p, n := range calls {
				if n != 0 {
					t.Errorf("%s: %d upstream calls", p, n)
				}
			}
		})
	}
}

func TestARequestAtExactlyItsLimitRunsWithinItsEstimate(t *testing.T) {
	q := `{ customers(first: 30) { totalCount nodes { id sources { sourceId } linkedCustomers { id } } } }`
	m := startGateway(t)
	dry := m.queryExt(t, q, nil, map[string]any{"dryRun": true})
	if len(dry.Errors) > 0 || string(dry.Data) != "null" {
		t.Fatalf("a dry run returns no data and no errors: %s %+v", dry.Data, dry.Errors)
	}
	est, _ := costOf(t, dry.Extensions)
	if n := m.upstreamCalls(t); n[ds.Kintsugi]+n[ds.CareCloud]+n[ds.Telness] != 0 {
		t.Fatalf("the dry run called upstream: %v", n)
	}
	for _, tc := range []struct {
		name  string
		limit int
		ok    bool
	}{
		{"at the estimate", est, true},
		{"one below", est - 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := costGateway(t, api.Limits{MaxCalls: tc.limit})
			m.resetKits(t)
			r := m.query(t, q, nil)
			sum := m.upstreamTotal(t)
			if !tc.ok {
				if len(r.Errors) != 1 || r.codes()[0] != "QUERY_TOO_COMPLEX" || sum != 0 {
					t.Fatalf("limit %d, estimate %d: want QUERY_TOO_COMPLEX and no call, got %+v and %d calls", tc.limit, est, r.Errors, sum)
				}
				want := fmt.Sprintf("up to %d upstream calls", est)
				if !strings.Contains(r.Errors[0].Message, want) || !strings.Contains(r.Errors[0].Message, fmt.Sprintf("limit of %d", tc.limit)) {
					t.Errorf("message %q gives neither estimate nor limit", r.Errors[0].Message)
				}
				return
			}
			if len(r.Errors) > 0 {
				t.Fatalf("limit %d = estimate: %+v", tc.limit, r.Errors)
			}
			if sum > est {
				t.Errorf("%d calls made, estimate %d", sum, est)
			}
		})
	}
}

func TestTheRunTimeBudgetStopsUpstreamCallsAndSaysSo(t *testing.T) {
	invented := make([]string, 60)
	for i := range invented {
		invented[i] = ds.CustomerNodeID(ds.Kintsugi, fmt.Sprintf("invented-%d", i)) // one GET per id
	}
	for _, tc := range []struct {
		name   string
		budget int
		query  string
		vars   map[string]any
	}{
		{"60 invented ids, budget 5", 5, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": invented}},
		{"a post-filter scan, budget 3", 3, `{ customers(first: 10, filter: {search: "zzzz-nobody"}) { nodes { id } } }`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := costGateway(t, api.Limits{CallBudget: tc.budget})
			m.resetKits(t)
			r := m.query(t, tc.query, tc.vars)
			sum := m.upstreamTotal(t)
			if sum > tc.budget {
				t.Errorf("%d upstream calls, budget %d", sum, tc.budget)
			}
			found := false
			for _, e := range r.Errors {
				if e.Extensions["code"] == "QUERY_TOO_COMPLEX" && strings.Contains(e.Message, fmt.Sprintf("budget of %d upstream calls", tc.budget)) {
					found = true
				}
			}
			if !found {
				t.Fatalf("no error says the budget is spent: %+v", r.Errors)
			}
			// the next request has a budget of its own
			m.resetKits(t)
			if r := m.query(t, `{ customers(first: 1, filter: {providers: [DIGITAL_RIVER]}) { nodes { id } } }`, nil); len(r.Errors) > 0 {
				t.Fatalf("the next request: %+v", r.Errors)
			}
		})
	}
}

func TestAKeysUpstreamCallsPerMinuteAreItsShare(t *testing.T) {
	m, err := tryGateway(t, withConfig(`
auth:
  api_keys:
    - {key: "bff", providers: [telness, kintsugi], calls_per_minute: 30}
    - {key: "other", providers: [kintsugi]}
providers: {telness: {simulate: true}, kintsugi: {simulate: true}}
`))
	if err != nil {
		t.Fatal(err)
	}
	invented := func(prefix string, n int) []string {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = ds.CustomerNodeID(ds.Kintsugi, fmt.Sprintf("%s-%d", prefix, i))
		}
		return ids
	}
	send := func(key string, ids []string) (*http.Response, gqlResponse) {
		t.Helper()
		return m.post(t, map[string]any{"query": `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, "variables": map[string]any{"ids": ids}},
			map[string]string{"X-API-Key": key})
	}
	// 20 invented Kintsugi ids: 20 lookups (one GET per id), estimated 20
	if resp, out := send("bff", invented("a", 20)); resp.StatusCode != 200 || len(out.Errors) > 0 {
		t.Fatalf("first: %d %+v", resp.StatusCode, out.Errors)
	}
	// 10 of 30 left: the next 20 are refused before any call
	m.resetKits(t)
	resp, out := send("bff", invented("b", 20))
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || len(out.Errors) != 1 || out.codes()[0] != "PROVIDER_RATE_LIMITED" {
		t.Fatalf("second: status %d Retry-After %q %+v", resp.StatusCode, resp.Header.Get("Retry-After"), out.Errors)
	}
	if n := m.upstreamCalls(t)[ds.Kintsugi]; n != 0 {
		t.Errorf("the refused request made %d calls", n)
	}
	if !strings.Contains(out.Errors[0].Message, "30 upstream calls per minute") {
		t.Errorf("message %q", out.Errors[0].Message)
	}
	// more than the whole quota can never run
	if _, out := send("bff", invented("c", 40)); len(out.Errors) != 1 || out.codes()[0] != "QUERY_TOO_COMPLEX" {
		t.Errorf("40 ids for a quota of 30: %+v", out.Errors)
	}
	// another key's share is its own
	if resp, out := send("other", invented("d", 20)); resp.StatusCode != 200 || len(out.Errors) > 0 {
		t.Errorf("the other key: %d %+v", resp.StatusCode, out.Errors)
	}
}

// costGateway is the demo gateway with request limits l and an outbound
// quota far above what a test needs: these tests count the calls a query
// makes, and the demo Digital River key is a test key whose documented
// 25 req/s would otherwise throttle a query of a hundred calls.
func costGateway(t *testing.T, l api.Limits) *testGateway {
	t.Helper()
	return startGateway(t, costConfig(""), withLimits(l))
}

// costConfig is costGateway's configuration, after top-level YAML top.
// These tests count calls, not time: a quota and a per-provider budget
// that a busy machine does not run into (a request of 38 walks makes
// over 900 Digital River calls, which can take longer than the default
// 6 s budget when the machine's cores are shared).
func costConfig(top string) gatewayOption {
	return withSimulated(map[string]string{"": top, "*": "upstream: {rate: 10000, burst: 1000, timeout: 20s, budget: 25s}"})
}

// rekey is cursor c of the customers list filtered by from, signed for
// the list filtered by to (a test reaches a place deep in a list that a
// rare filter would take many calls to reach).
func (m *testGateway) rekey(t *testing.T, c string, from, to ds.Filter) string {
	t.Helper()
	pos, err := m.Service.Cursors.Decode("c", fingerprint(t, from), c)
	if err != nil {
		t.Fatal(err)
	}
	return m.Service.Cursors.Encode("c", fingerprint(t, to), pos)
}

// fingerprint is what a customers cursor of filter f is signed for.
func fingerprint(t *testing.T, f ds.Filter) string {
	t.Helper()
	f, err := federate.NormalizeFilter(f)
	if err != nil {
		t.Fatal(err)
	}
	return ds.Fingerprint(struct {
		F ds.Filter
		O *ds.Order
	}{f, nil})
}

// Issue 15, finding 3: a backward walk post-filtering a long list was
// bounded in reads, and each read could take several calls: estimated 28,
// made 75. The walk is now bounded in calls.
func TestABackwardScanStaysWithinItsEstimate(t *testing.T) {
	m := startGateway(t, costConfig(""), withPeople(5000))
	// searches no name or email matches: Digital River filters nothing
	// natively; Kintsugi's search_query also matches phone numbers, so
	// "+" returns its whole list, all of it post-filtered away
	for p, nobody := range map[ds.ProviderID]string{ds.Kintsugi: "+", ds.DigitalRiver: "zzzz-nobody"} {
		t.Run(p.String(), func(t *testing.T) {
			// a cursor deep in the list: after 30 pages of 100
			var cursor string
			for i := 0; i < 30; i++ {
				vars := map[string]any{"p": []string{p.String()}, "after": nil}
				if cursor != "" {
					vars["after"] = cursor
				}
				page := mustData[customersPage](t, m.query(t, `query($p: [Provider!], $after: String) {
					customers(first: 100, after: $after, filter: {providers: $p}) { pageInfo { endCursor } } }`, vars))
				if page.Customers.PageInfo.EndCursor == nil {
					break // the end of the list
				}
				cursor = *page.Customers.PageInfo.EndCursor
			}
			before := m.rekey(t, cursor, ds.Filter{Providers: []ds.ProviderID{p}}, ds.Filter{Providers: []ds.ProviderID{p}, Search: &nobody})
			if m.Service.Customers[p].Capabilities().Backward == ds.BackwardOffset {
				// an offset deep in the list the vendor's own search returns
				before = m.Service.Cursors.Encode("c", fingerprint(t, ds.Filter{Providers: []ds.ProviderID{p}, Search: &nobody}),
					ds.Position{Provider: p, Token: ds.OffsetToken(2450)})
			}
			m.resetKits(t)
			m.Cache.ForgetPages(context.Background(), []ds.CustomerProvider{m.Service.Customers[p]})
			r := m.queryExt(t, `query($p: [Provider!], $before: String, $q: String) {
				customers(last: 100, before: $before, filter: {providers: $p, search: $q}) { nodes { id } } }`,
				map[string]any{"p": []string{p.String()}, "before": before, "q": nobody}, map[string]any{"cost": true})
			if len(r.Errors) > 0 {
				t.Fatalf("%+v", r.Errors)
			}
			total, per := costOf(t, r.Extensions)
			made := m.upstreamCalls(t)[p]
			t.Logf("estimate %d (%s %d), made %d", total, p, per[p], made)
			if made > per[p] || made > total {
				t.Errorf("%d %s calls made, estimate %d (%d in all)", made, p, per[p], total)
			}
		})
	}
}
