package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/simkit"
	"github.com/federated-customers/gateway/internal/testnote"
)

type customerNode struct {
	ID         string `json:"id"`
	Provider   string `json:"provider"`
	ProviderID string `json:"providerId"`
	Email      string `json:"email"`
}

type customersPage struct {
	Customers struct {
		TotalCount *int `json:"totalCount"`
		PageInfo   struct {
			HasNextPage bool    `json:"hasNextPage"`
			EndCursor   *string `json:"endCursor"`
		} `json:"pageInfo"`
		Edges []struct {
			Cursor string       `json:"cursor"`
			Node   customerNode `json:"node"`
		} `json:"edges"`
	} `json:"customers"`
}

// pageQuery walks without totalCount, which would ask every provider for a count.
const pageQuery = `query($first: Int, $after: String, $filter: CustomerFilter) {
  customers(first: $first, after: $after, filter: $filter) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id provider providerId email } }
  }
}`

const customersQuery = `query($first: Int, $after: String, $filter: CustomerFilter) {
  customers(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id provider providerId email } }
  }
}`

// walk pages through customers until hasNextPage is false.
func (m *testGateway) walk(t *testing.T, first int, filter map[string]any) []customerNode {
	t.Helper()
	var out []customerNode
	var after any
	for i := 0; i < 1000; i++ {
		page := mustData[customersPage](t, m.query(t, customersQuery, map[string]any{"first": first, "after": after, "filter": filter}))
		if len(page.Customers.Edges) > first {
			t.Fatalf("page of %d for first %d", len(page.Customers.Edges), first)
		}
		for _, e := range page.Customers.Edges {
			out = append(out, e.Node)
		}
		if !page.Customers.PageInfo.HasNextPage {
			return out
		}
		after = *page.Customers.PageInfo.EndCursor
	}
	t.Fatal("walk did not end")
	return nil
}

// expected is the demo world's customers at the given providers, as provider/id keys.
func expected(providers ...ds.ProviderID) []string {
	var out []string
	for _, p := range demo.People(testPeople) {
		for _, q := range providers {
			if id, ok := p.IDs[q]; ok {
				out = append(out, q.String()+"/"+id)
			}
		}
	}
	sort.Strings(out)
	return out
}

func keys(nodes []customerNode) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.Provider + "/" + n.ProviderID
	}
	return out
}

// onceEach fails unless nodes are the demo world's customers at providers, each once.
func onceEach(t testing.TB, nodes []customerNode, providers ...ds.ProviderID) {
	t.Helper()
	got := keys(nodes)
	sort.Strings(got)
	if want := expected(providers...); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("got %d customers, want the %d at %v once each", len(got), len(want), providers)
	}
}

func TestWalkingCustomersReturnsEveryDemoCustomerOnce(t *testing.T) {
	t.Parallel()
	m := startGateway(t)
	for _, tc := range []struct {
		name      string
		filter    map[string]any
		providers []ds.ProviderID
	}{
		{"all providers", nil, demo.CustomerProviders},
		{"two providers", map[string]any{"providers": []string{"COMMERCE_LAYER", "DIGITAL_RIVER"}}, []ds.ProviderID{ds.DigitalRiver, ds.CommerceLayer}},
		{"one provider", map[string]any{"providers": []string{"TELNESS"}}, []ds.ProviderID{ds.Telness}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := m.walk(t, 37, tc.filter)
			k := keys(got)
			seen := map[string]bool{}
			for _, key := range k {
				if seen[key] {
					t.Fatalf("%s returned twice", key)
				}
				seen[key] = true
			}
			// providers come in enum order
			last := -1
			for _, n := range got {
				var p ds.ProviderID
				_ = p.UnmarshalGQL(n.Provider)
				if int(p) < last {
					t.Fatalf("provider %s after a later provider", n.Provider)
				}
				last = int(p)
			}
			// each record carries the simulator's data for that person
			emails := map[string]string{}
			for _, p := range demo.People(testPeople) {
				for q, id := range p.IDs {
					emails[q.String()+"/"+id] = strings.ToLower(p.EmailAt(q))
				}
			}
			for _, n := range got {
				if e := emails[n.Provider+"/"+n.ProviderID]; !strings.EqualFold(n.Email, e) {
					t.Fatalf("%s/%s: email %q, want %q", n.Provider, n.ProviderID, n.Email, e)
				}
			}
			onceEach(t, got, tc.providers...)
		})
	}
}

func TestNodesBatchOneCallPerBulkProvider(t *testing.T) {
	m := startGateway(t)
	// 12 ids per provider: CareCloud's are source records (it holds no customers).
	srcs := mustData[struct {
		CustomerSources struct {
			Nodes []struct{ ID string } `json:"nodes"`
		} `json:"customerSources"`
	}](t, m.query(t, `{ customerSources(first: 100) { nodes { id } } }`, nil))
	ccCustomers := map[string]bool{}
	var ids []string
	for _, n := range srcs.CustomerSources.Nodes {
		ref, err := ds.DecodeNodeID(n.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !ccCustomers[ref.CustomerID] && len(ccCustomers) < 12 {
			ccCustomers[ref.CustomerID] = true
			ids = append(ids, n.ID)
		}
	}
	perProvider := map[ds.ProviderID]int{}
	for _, p := range demo.People(testPeople) {
		for _, q := range demo.CustomerProviders {
			if id, ok := p.IDs[q]; ok && perProvider[q] < 12 {
				perProvider[q]++
				ids = append(ids, ds.CustomerNodeID(q, id))
			}
		}
	}
	if len(ids) != 60 {
		t.Fatalf("built %d ids", len(ids))
	}
	m.resetKits(t)
	r := m.query(t, `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Customer { providerId email } } }`, map[string]any{"ids": ids})
	got := mustData[struct {
		Nodes []*customerNode `json:"nodes"`
	}](t, r)
	if len(got.Nodes) != 60 {
		t.Fatalf("%d nodes", len(got.Nodes))
	}
	for i, n := range got.Nodes {
		if n == nil || n.ID != ids[i] {
			t.Fatalf("node %d = %+v, want id %s", i, n, ids[i])
		}
	}
	calls := m.upstreamCalls(t)
	for p, want := range map[ds.ProviderID]int{
		ds.DigitalRiver:  1,  // ids=a,b,c
		ds.CommerceLayer: 1,  // filter[q][id_in], 25 per call
		ds.Kintsugi:      12, // no bulk filter: one GET per id, at most 8 at once
		ds.Telness:       1,  // no bulk filter, but one list page of 1000 finds all 12
		ds.CareCloud:     12, // one records list per CareCloud customer
	} {
		if calls[p] != want {
			t.Errorf("%s: %d upstream calls, want %d", p, calls[p], want)
		}
	}
	// the report a client sees says the same
	for _, e := range r.Extensions["providers"].([]any) {
		st := e.(map[string]any)
		p, _ := ds.ParseProvider(st["provider"].(string))
		if int(st["calls"].(float64)) != calls[p] {
			t.Errorf("extensions.providers says %s made %v calls, the simulator saw %d", p, st["calls"], calls[p])
		}
	}
}

func TestBadInputIsBadUserInputWithNoUpstreamCall(t *testing.T) {
	t.Parallel()
	m := startGateway(t)
	page := mustData[customersPage](t, m.query(t, customersQuery, map[string]any{"first": 2}))
	cursor := page.Customers.Edges[1].Cursor
	tampered := cursor[:len(cursor)-3] + "AAA"
	srcPage := mustData[struct {
		CustomerSources struct{ PageInfo struct{ EndCursor string } } `json:"customerSources"`
	}](t, m.query(t, `{ customerSources(first: 1) { pageInfo { endCursor } } }`, nil))
	sourceCursor := srcPage.CustomerSources.PageInfo.EndCursor
	for _, tc := range []struct {
		name string
		q    string
		vars map[string]any
	}{
		{"negative first", customersQuery, map[string]any{"first": -1}},
		{"zero first", customersQuery, map[string]any{"first": 0}},
		{"first over 100", customersQuery, map[string]any{"first": 101}},
		{"garbage cursor", customersQuery, map[string]any{"after": "nope"}},
		{"tampered cursor", customersQuery, map[string]any{"after": tampered}},
		{"cursor from another filter", customersQuery, map[string]any{"after": cursor, "filter": map[string]any{"providers": []string{"TELNESS"}}}},
		{"empty cursor", customersQuery, map[string]any{"after": ""}},
		{"customerSources cursor for customers", customersQuery, map[string]any{"after": sourceCursor}},
		{"customers cursor for customerSources", `query($a: String) { customerSources(first: 5, after: $a) { totalCount } }`, map[string]any{"a": cursor}},
		{"cursor with a newline", customersQuery, map[string]any{"after": cursor[:10] + "\n" + cursor[10:]}},
		{"customer ID as cursor", customersQuery, map[string]any{"after": ds.CustomerNodeID(ds.Telness, "x")}},
		{"cursor as customer ID", `query($id: ID!) { customer(id: $id) { id } }`, map[string]any{"id": cursor}},
		{"first null-ish float", customersQuery, map[string]any{"first": 2.5}},
		{"ids filter over 100", customersQuery, map[string]any{"filter": map[string]any{"ids": repeat(ds.CustomerNodeID(ds.Kintsugi, "cust_1"), 101)}}},
		{"huge cursor", customersQuery, map[string]any{"after": strings.Repeat("x", 100000)}},
		{"bad id in filter", customersQuery, map[string]any{"filter": map[string]any{"ids": []string{"bad"}}}},
		{"bad email filter", customersQuery, map[string]any{"filter": map[string]any{"email": "not-an-email"}}},
		{"empty providers filter is not everything", customersQuery, map[string]any{"filter": map[string]any{"providers": []string{}}}},
		{"empty externalIds filter is not everything", `{ customerSources(filter: {externalIds: []}) { totalCount } }`, nil},
		{"bad country filter", customersQuery, map[string]any{"filter": map[string]any{"country": []string{"SWE"}}}},
		{"unknown provider enum", customersQuery, map[string]any{"filter": map[string]any{"providers": []string{"ACME"}}}},
		{"first as string", customersQuery, map[string]any{"first": "ten"}},
		{"customer with bad id", `{ customer(id: "x") { id } }`, nil},
		{"node with empty id", `{ node(id: "") { id } }`, nil},
		{"node with base64 garbage", `{ node(id: "dGVzdA") { id } }`, nil},
		{"nodes with one bad id", `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []string{ds.CustomerNodeID(ds.Kintsugi, "cust_x"), "bad"}}},
		{"too many nodes", `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": repeat(ds.CustomerNodeID(ds.DigitalRiver, "1"), 101)}},
		{"source id as customer", `query($id: ID!) { customer(id: $id) { id } }`, map[string]any{"id": ds.SourceNodeID(ds.CareCloud, "a", "b")}},
		{"malformed GraphQL", `{ customers(first: 1) { edges { node { id }`, nil},
		{"unknown field", `{ customers { nope } }`, nil},
		{"bad sources first", `{ customerSources(first: 500) { totalCount } }`, nil},
		{"update with bad email", `mutation($id: ID!) { updateCustomer(id: $id, input: {email: "nope"}) { id } }`, map[string]any{"id": ds.CustomerNodeID(ds.DigitalRiver, "5823594809")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m.resetKits(t)
			r := m.query(t, tc.q, tc.vars)
			if len(r.Errors) == 0 {
				t.Fatalf("no error; data %s", r.Data)
			}
			for _, c := range r.codes() {
				if c != "BAD_USER_INPUT" {
					t.Fatalf("codes %v, want BAD_USER_INPUT: %+v", r.codes(), r.Errors)
				}
			}
			if r.status >= 500 {
				t.Fatalf("status %d", r.status)
			}
			m.noUpstreamCall(t, "for bad input")
		})
	}
}

// The error for a bad page size names the argument the caller sent, on both
// connections.
func TestABadPageSizeNamesTheArgument(t *testing.T) {
	t.Parallel()
	m := startGateway(t)
	for _, tc := range []struct{ name, q, says string }{
		{"customers first", `{ customers(first: 0) { totalCount } }`, "first must be"},
		{"customers last", `{ customers(last: 101) { totalCount } }`, "last must be"},
		{"customerSources first", `{ customerSources(first: 500) { totalCount } }`, "first must be"},
		{"customerSources last", `{ customerSources(last: 500) { totalCount } }`, "last must be"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := m.query(t, tc.q, nil)
			if len(r.Errors) != 1 || r.codes()[0] != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, tc.says) {
				t.Fatalf("errors %+v, want one BAD_USER_INPUT saying %q", r.Errors, tc.says)
			}
		})
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestHTTPBadInputGetsAGraphQLErrorBody(t *testing.T) {
	t.Parallel()
	m := startGateway(t)
	url := "http://" + m.Addr + "/graphql"
	deep := "{ customers { nodes { linkedCustomers { linkedCustomers { linkedCustomers { linkedCustomers { linkedCustomers { linkedCustomers { linkedCustomers { linkedCustomers { linkedCustomers { linkedCustomers { id } } } } } } } } } } } } }"
	for _, tc := range []struct {
		name       string
		method, ct string
		body       string
		wantStatus int
		wantCode   string
	}{
		{"oversized body", "POST", "application/json", `{"query":"` + strings.Repeat(" ", 2<<20) + `{ providers { provider } }"}`, 413, "BAD_USER_INPUT"},
		{"not JSON", "POST", "application/json", `{"query":`, 400, "BAD_USER_INPUT"},
		{"wrong content type", "POST", "text/plain", `{ providers { provider } }`, 415, "BAD_USER_INPUT"},
		{"wrong method", "PUT", "application/json", `{}`, 405, "BAD_USER_INPUT"},
		{"too deep", "POST", "application/json", mustJSON(map[string]string{"query": deep}), 200, "QUERY_TOO_COMPLEX"},
		{"too complex", "POST", "application/json", mustJSON(map[string]string{"query": "{ customers(first: 100) { nodes { linkedCustomers { linkedCustomers { linkedCustomers { sources { customer { id name email } } } } } } } }"}), 200, "QUERY_TOO_COMPLEX"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m.resetKits(t)
			req, _ := http.NewRequest(tc.method, url, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.ct)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var r gqlResponse
			if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
				t.Fatalf("status %d, body is not GraphQL JSON: %v", resp.StatusCode, err)
			}
			if resp.StatusCode != tc.wantStatus || len(r.Errors) == 0 || r.codes()[0] != tc.wantCode {
				t.Fatalf("status %d codes %v, want %d %s (%+v)", resp.StatusCode, r.codes(), tc.wantStatus, tc.wantCode, r.Errors)
			}
			m.noUpstreamCall(t, "for bad input")
		})
	}
}

func TestAFailingProviderLeavesTheOthersDataAndIsWalkedLater(t *testing.T) {
	t.Parallel()
	m := startGateway(t)
	filter := map[string]any{"providers": []string{"KINTSUGI", "DIGITAL_RIVER", "TELNESS"}}
	// Digital River is down until the first page that reports it
	m.kit(t, ds.DigitalRiver).SetDown(&simkit.Fault{Status: 503, Message: "maintenance"})
	var after any
	var got []customerNode
	var failed gqlResponse
	var failedPage customersPage
	for i := 0; i < 20; i++ {
		r := m.query(t, pageQuery, map[string]any{"first": 100, "after": after, "filter": filter})
		var page customersPage
		if err := json.Unmarshal(r.Data, &page); err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Customers.Edges {
			got = append(got, e.Node)
		}
		if len(r.Errors) > 0 && len(failed.Errors) == 0 {
			failed, failedPage = r, page
			m.kit(t, ds.DigitalRiver).SetDown(nil)
		}
		if !page.Customers.PageInfo.HasNextPage {
			break
		}
		after = *page.Customers.PageInfo.EndCursor
	}
	if len(failed.Errors) == 0 {
		t.Fatal("the injected outage produced no error")
	}
	e := failed.Errors[0]
	if e.Extensions["code"] != "PROVIDER_UNAVAILABLE" || e.Extensions["provider"] != "DIGITAL_RIVER" {
		t.Fatalf("error %+v", e)
	}
	telness := 0
	for _, e := range failedPage.Customers.Edges {
		if e.Node.Provider == "TELNESS" {
			telness++
		}
	}
	if telness == 0 {
		t.Fatal("the page that met the outage has no Telness customers: one provider's failure hid another's data")
	}
	// walking on completes the list exactly once, Digital River included
	onceEach(t, got, ds.Kintsugi, ds.DigitalRiver, ds.Telness)
}

func TestCustomerByIDMatchesTheListAndReportsProviderCalls(t *testing.T) {
	t.Parallel()
	m := startGateway(t)
	page := mustData[customersPage](t, m.query(t, customersQuery, map[string]any{"first": 3, "filter": map[string]any{"providers": []string{"COMMERCE_LAYER"}}}))
	want := page.Customers.Edges[2].Node
	r := m.query(t, `query($id: ID!) { customer(id: $id) { id provider providerId email raw } node(id: $id) { id } }`, map[string]any{"id": want.ID})
	got := mustData[struct {
		Customer struct {
			customerNode
			Raw map[string]any `json:"raw"`
		} `json:"customer"`
		Node struct{ ID string } `json:"node"`
	}](t, r)
	if got.Customer.customerNode != want || got.Node.ID != want.ID {
		t.Fatalf("customer %+v, want %+v", got.Customer.customerNode, want)
	}
	if got.Customer.Raw["id"] != want.ProviderID {
		t.Fatalf("raw %v does not carry the vendor record", got.Customer.Raw)
	}
	provs, _ := r.Extensions["providers"].([]any)
	if len(provs) != 1 {
		t.Fatalf("extensions.providers = %v", r.Extensions["providers"])
	}
	p := provs[0].(map[string]any)
	if p["provider"] != "COMMERCE_LAYER" || p["calls"].(float64) != 0 || p["freshness"] != "CACHE" {
		t.Fatalf("extensions.providers = %v (a customer the list just returned is served from the record store)", p)
	}

	// A customer no list has returned yet: customer and node of one id are one call.
	people := demo.People(testPeople)
	var unseen string
	for i := len(people) - 1; i >= 0 && unseen == ""; i-- {
		unseen = people[i].IDs[ds.CommerceLayer]
	}
	m.resetKits(t)
	r = m.query(t, `query($id: ID!) { customer(id: $id) { id providerId } node(id: $id) { id } }`, map[string]any{"id": ds.CustomerNodeID(ds.CommerceLayer, unseen)})
	if len(r.Errors) > 0 || !strings.Contains(string(r.Data), unseen) {
		t.Fatalf("unseen customer: %s %+v", r.Data, r.Errors)
	}
	provs, _ = r.Extensions["providers"].([]any)
	p = provs[0].(map[string]any)
	if p["calls"].(float64) != 1 || p["freshness"] != "LIVE" || m.kit(t, ds.CommerceLayer).Count() != 1 {
		t.Fatalf("extensions.providers = %v, simulator calls %d (customer and node of one id are one call)", p, m.kit(t, ds.CommerceLayer).Count())
	}
	missing := m.query(t, `query($id: ID!) { customer(id: $id) { id } }`, map[string]any{"id": ds.CustomerNodeID(ds.DigitalRiver, "5899999999")})
	if string(missing.Data) != `{"customer":null}` || len(missing.Errors) != 0 {
		t.Fatalf("unknown customer: %s %+v", missing.Data, missing.Errors)
	}
}

func TestTotalCountIsExactOrNull(t *testing.T) {
	t.Parallel()
	m := startGateway(t)
	for _, tc := range []struct {
		providers []string
		want      *int
	}{
		{[]string{"KINTSUGI", "COMMERCE_LAYER"}, intp(len(expected(ds.Kintsugi, ds.CommerceLayer)))},
		{[]string{"DIGITAL_RIVER"}, nil}, // Digital River's list has no total
	} {
		page := mustData[customersPage](t, m.query(t, customersQuery, map[string]any{"first": 1, "filter": map[string]any{"providers": tc.providers}}))
		got := page.Customers.TotalCount
		if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
			t.Errorf("%v: totalCount %v, want %v", tc.providers, deref(got), deref(tc.want))
		}
	}
}

func intp(n int) *int { return &n }

func deref(p *int) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

func TestFiltersAreExact(t *testing.T) {
	t.Parallel()
	m := startGateway(t)
	people := demo.People(testPeople)
	target := people[10]
	for _, tc := range []struct {
		name   string
		filter map[string]any
		match  func(demo.Person) bool
	}{
		{"email, any case", map[string]any{"email": strings.ToUpper(target.Email)}, func(p demo.Person) bool { return p.Email == target.Email }},
		{"country", map[string]any{"country": []string{"cz"}, "providers": []string{"KINTSUGI", "DIGITAL_RIVER", "TELNESS"}}, func(p demo.Person) bool { return p.Country == "CZ" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := keys(m.walk(t, 50, tc.filter))
			sort.Strings(got)
			var want []string
			provs := demo.CustomerProviders
			if ps, ok := tc.filter["providers"].([]string); ok {
				provs = nil
				for _, s := range ps {
					var p ds.ProviderID
					_ = p.UnmarshalGQL(s)
					provs = append(provs, p)
				}
			}
			for _, p := range people {
				if !tc.match(p) {
					continue
				}
				for _, q := range provs {
					if id, ok := p.IDs[q]; ok {
						want = append(want, q.String()+"/"+id)
					}
				}
			}
			sort.Strings(want)
			if len(want) == 0 || strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("got %v\nwant %v", got, want)
			}
		})
	}
}

func TestHealthReadyAndMetrics(t *testing.T) {
	t.Parallel()
	m := startGateway(t)
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready", "/metrics": "go_goroutines"} {
		resp, err := http.Get("http://" + m.Addr + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d %.80s", path, resp.StatusCode, b)
		}
	}
}

// TestGraphQLOverHTTPAudit runs the graphql-http package's server audits
// (tools/audit, installed by .ci/run) against the demo gateway.
// nodeTool finds node and an npm package of tools/audit, skipping (failing
// under CI=true) when they are not installed.
func nodeTool(t *testing.T, pkg string, files ...string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	missing := err != nil
	for _, f := range append([]string{filepath.Join("tools", "audit", "node_modules", pkg)}, files...) {
		if _, err := os.Stat(f); err != nil {
			missing = true
		}
	}
	if missing {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node, %s or %v missing under CI (.ci/run installs them)", pkg, files)
		}
		testnote.Skipped("browser and GraphQL-over-HTTP audit tests", "node, npm ci --prefix tools/audit, apt-get install chromium")
		t.Skipf("node, %s or %v missing: run npm ci --prefix tools/audit", pkg, files)
	}
	return node
}

func TestThePlaygroundRunsAQueryInABrowser(t *testing.T) {
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	node := nodeTool(t, "playwright-core", chromium)
	m := startGateway(t)
	// a frontend app's page on another origin (another port), which calls the gateway with fetch
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, "<!doctype html><title>app</title><p>a frontend on another origin</p>")
	}))
	t.Cleanup(app.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("tools", "audit", "playground.mjs"), "http://"+m.Addr+"/", app.URL+"/")
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium)
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("the playground did not run its query: %v", err)
	}
}

// TestThePlaygroundKeepsATypedKeyInABrowser: against a gateway that
// requires keys, the key typed once into Headers fetches the schema again
// and survives a reload (local storage), used by the very first fetch.
func TestThePlaygroundKeepsATypedKeyInABrowser(t *testing.T) {
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	node := nodeTool(t, "playwright-core", chromium)
	m, err := tryGateway(t, withConfig("auth: {api_keys: [{key: analyst-key}]}\nproviders: {telness: {simulate: true}, kintsugi: {simulate: true}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("tools", "audit", "playground.mjs"), "http://"+m.Addr+"/")
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium, "PLAYGROUND_KEY=analyst-key")
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("the playground did not keep the key: %v", err)
	}
}

func TestGraphQLOverHTTPAudit(t *testing.T) {
	node := nodeTool(t, "graphql-http")
	m := startGateway(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, filepath.Join("tools", "audit", "audit.mjs"), "http://"+m.Addr+"/graphql").CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("a MUST audit failed: %v", err)
	}
}

func TestWalkingCustomerSourcesReturnsEveryCareCloudRecordOnce(t *testing.T) {
	t.Parallel()
	m := startGateway(t)
	var want []string
	for _, p := range demo.People(testPeople) {
		if _, ok := p.IDs[ds.CareCloud]; !ok {
			continue
		}
		for _, q := range demo.CustomerProviders {
			if ext, ok := p.IDs[q]; ok {
				want = append(want, demo.Systems[q].ID+"/"+ext)
			}
		}
	}
	sort.Strings(want)
	const q = `query($after: String) { customerSources(first: 37, after: $after) {
	  pageInfo { hasNextPage endCursor }
	  edges { node { id provider kind sourceId externalIds } } } }`
	var got []string
	seen := map[string]bool{}
	var after any
	for i := 0; ; i++ {
		if i > 1000 {
			t.Fatal("walk did not end")
		}
		page := mustData[struct {
			CustomerSources struct {
				PageInfo struct {
					HasNextPage bool
					EndCursor   *string
				}
				Edges []struct {
					Node struct {
						ID, Provider, Kind, SourceID string
						ExternalIDs                  []string `json:"externalIds"`
					}
				}
			} `json:"customerSources"`
		}](t, m.query(t, q, map[string]any{"after": after}))
		for _, e := range page.CustomerSources.Edges {
			n := e.Node
			if seen[n.ID] {
				t.Fatalf("%s returned twice", n.ID)
			}
			seen[n.ID] = true
			if n.Provider != "CARECLOUD" || n.Kind != "SYSTEM" || len(n.ExternalIDs) != 1 {
				t.Fatalf("record %+v", n)
			}
			got = append(got, n.SourceID+"/"+n.ExternalIDs[0])
		}
		if !page.CustomerSources.PageInfo.HasNextPage {
			break
		}
		after = *page.CustomerSources.PageInfo.EndCursor
	}
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
}
