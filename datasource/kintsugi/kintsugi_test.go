package kintsugi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/kintsugi"
	"github.com/federated-customers/gateway/datasource/kintsugi/sim"
	"github.com/federated-customers/gateway/datasource/providertest"
	"github.com/federated-customers/gateway/datasource/rest/resttest"
	"github.com/federated-customers/gateway/datasource/simkit"
)

func TestConformance(t *testing.T) {
	providertest.Run(t, providertest.Harness{
		Provider:         ds.Kintsugi,
		Start:            resttest.ConformanceStart(sim.New, func(c *kintsugi.Config) { c.APIKey = "sk_wrong" }, kintsugi.New),
		ValidationStatus: http.StatusUnprocessableEntity,
		RetryAfterHeader: false,
	})
}

// fixture is a simulator, its server and a client with valid credentials.
type fixture struct {
	*resttest.Fixture[*sim.Sim, *kintsugi.Client]
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return &fixture{resttest.NewFixture(t, sim.New, (*sim.Sim).ClientConfig, nil, kintsugi.New)}
}

// kintsugiPeople are the people at Kintsugi, in native order.
func (f *fixture) kintsugiPeople() []demo.Person { return f.At(ds.Kintsugi) }

type rawResponse struct {
	status int
	header http.Header
	body   []byte
}

func (r rawResponse) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// detail returns the string detail of an error body.
func (r rawResponse) detail(t *testing.T) string {
	t.Helper()
	s, ok := r.json(t)["detail"].(string)
	if !ok {
		t.Fatalf("detail is not a string: %s", r.body)
	}
	return s
}

// firstError returns the first item of a 422 detail array.
func (r rawResponse) firstError(t *testing.T) map[string]any {
	t.Helper()
	arr, ok := r.json(t)["detail"].([]any)
	if !ok || len(arr) == 0 {
		t.Fatalf("detail is not a non-empty array: %s", r.body)
	}
	m, _ := arr[0].(map[string]any)
	return m
}

// raw sends one request with the given headers (nil: valid auth).
func raw(t *testing.T, method, u string, hdr map[string]string, body string) rawResponse {
	t.Helper()
	if hdr == nil {
		hdr = map[string]string{kintsugi.HeaderAPIKey: sim.APIKey, kintsugi.HeaderOrganization: sim.OrganizationID}
		if body != "" {
			hdr["Content-Type"] = "application/json"
		}
	}
	r := resttest.Call(t, method, u, hdr, body)
	return rawResponse{status: r.Status, header: r.Header, body: r.Body}
}

func TestSimulatorAuth(t *testing.T) {
	f := newFixture(t)
	u := f.Srv.URL + "/v1/customers"
	for _, tc := range []struct {
		name       string
		hdr        map[string]string
		wantStatus int
		wantDetail string
	}{
		{"no headers", map[string]string{}, 401, "API key is missing or empty."},
		{"empty key", map[string]string{kintsugi.HeaderAPIKey: "", kintsugi.HeaderOrganization: sim.OrganizationID}, 401, "API key is missing or empty."},
		{"wrong key", map[string]string{kintsugi.HeaderAPIKey: "sk_wrong", kintsugi.HeaderOrganization: sim.OrganizationID}, 401, "API key is missing or empty."},
		{"key but no organization", map[string]string{kintsugi.HeaderAPIKey: sim.APIKey}, 403, "User does not have access to the specified organization"},
		{"wrong organization", map[string]string{kintsugi.HeaderAPIKey: sim.APIKey, kintsugi.HeaderOrganization: "orgn_other"}, 403, "User does not have access to the specified organization"},
		{"header names are case-insensitive", map[string]string{"x-api-key": sim.APIKey, "X-Organization-Id": sim.OrganizationID}, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := raw(t, http.MethodGet, u, tc.hdr, "")
			if r.status != tc.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", r.status, tc.wantStatus, r.body)
			}
			if tc.wantDetail != "" && r.detail(t) != tc.wantDetail {
				t.Errorf("detail = %q, want %q", r.detail(t), tc.wantDetail)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

func TestSimulatorListValidation(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		query    string
		wantType string
		wantLoc  []any
		wantMsg  string
	}{
		{"page=0", "greater_than_equal", []any{"query", "page"}, "Input should be greater than or equal to 1"},
		{"page=-3", "greater_than_equal", []any{"query", "page"}, "Input should be greater than or equal to 1"},
		{"size=0", "greater_than_equal", []any{"query", "size"}, "Input should be greater than or equal to 1"},
		{"size=101", "less_than_equal", []any{"query", "size"}, "Input should be less than or equal to 100"},
		{"page=abc", "int_parsing", []any{"query", "page"}, "Input should be a valid integer, unable to parse string as an integer"},
		{"size=1.5", "int_parsing", []any{"query", "size"}, "Input should be a valid integer, unable to parse string as an integer"},
		{"page=", "int_parsing", []any{"query", "page"}, "Input should be a valid integer, unable to parse string as an integer"},
		{"country=SE&country=XX", "enum", []any{"query", "country", float64(1)}, ""},
		{"country=se", "enum", []any{"query", "country", float64(0)}, ""},
	} {
		t.Run(tc.query, func(t *testing.T) {
			r := raw(t, http.MethodGet, f.Srv.URL+"/v1/customers?"+tc.query, nil, "")
			if r.status != 422 {
				t.Fatalf("status = %d, want 422 (%s)", r.status, r.body)
			}
			e := r.firstError(t)
			if e["type"] != tc.wantType || !reflect.DeepEqual(e["loc"], tc.wantLoc) {
				t.Errorf("error = %v, want type %s loc %v", e, tc.wantType, tc.wantLoc)
			}
			if tc.wantMsg != "" && e["msg"] != tc.wantMsg {
				t.Errorf("msg = %v, want %q", e["msg"], tc.wantMsg)
			}
			if tc.wantType == "enum" && !strings.Contains(e["msg"].(string), "'ZZ_EU'") {
				t.Errorf("enum msg does not list the values: %v", e["msg"])
			}
		})
	}

	t.Run("every invalid parameter is reported at once", func(t *testing.T) {
		r := raw(t, http.MethodGet, f.Srv.URL+"/v1/customers?page=0&size=101", nil, "")
		arr, _ := r.json(t)["detail"].([]any)
		if r.status != 422 || len(arr) != 2 {
			t.Fatalf("status %d, %d errors: %s", r.status, len(arr), r.body)
		}
	})
	t.Run("the example from the docs", func(t *testing.T) {
		r := raw(t, http.MethodGet, f.Srv.URL+"/v1/customers?page=0", nil, "")
		e := r.firstError(t)
		if e["input"] != "0" || !reflect.DeepEqual(e["ctx"], map[string]any{"ge": float64(1)}) {
			t.Errorf("error = %v", e)
		}
	})
}

func TestSimulatorListEnvelope(t *testing.T) {
	f := newFixture(t)
	n := len(f.kintsugiPeople())
	page := func(t *testing.T, q string) map[string]any {
		t.Helper()
		r := raw(t, http.MethodGet, f.Srv.URL+"/v1/customers"+q, nil, "")
		if r.status != 200 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		return r.json(t)
	}
	t.Run("defaults are page 1 size 50", func(t *testing.T) {
		m := page(t, "")
		if m["page"] != float64(1) || m["size"] != float64(50) || m["total"] != float64(n) || m["pages"] != float64((n+49)/50) {
			t.Errorf("envelope = page %v size %v total %v pages %v; %d customers", m["page"], m["size"], m["total"], m["pages"], n)
		}
		if items := m["items"].([]any); len(items) != min(50, n) {
			t.Errorf("%d items", len(items))
		}
	})
	t.Run("a page past the last is empty with the same total and pages", func(t *testing.T) {
		m := page(t, "?page=999&size=10")
		items, ok := m["items"].([]any)
		if !ok || len(items) != 0 || m["total"] != float64(n) || m["pages"] != float64((n+9)/10) || m["page"] != float64(999) {
			t.Errorf("got %s", mustJSON(m))
		}
	})
	t.Run("no match is total 0 and pages 0", func(t *testing.T) {
		m := page(t, "?search_query=nobody-has-this")
		if m["total"] != float64(0) || m["pages"] != float64(0) || len(m["items"].([]any)) != 0 {
			t.Errorf("got %s", mustJSON(m))
		}
	})
	t.Run("renders the demo world", func(t *testing.T) {
		m := page(t, "?size=100")
		items := m["items"].([]any)
		kp := f.kintsugiPeople()
		for i, it := range items {
			rec := it.(map[string]any)
			p := kp[i]
			if rec["id"] != p.IDs[ds.Kintsugi] || rec["organization_id"] != sim.OrganizationID || rec["name"] != p.Name() ||
				rec["email"] != p.EmailAt(ds.Kintsugi) || rec["country"] != p.Country || rec["address_status"] != "VERIFIED" {
				t.Fatalf("item %d = %s, person %+v", i, mustJSON(rec), p)
			}
			wantStatus := "ACTIVE"
			if (i+1)%9 == 0 {
				wantStatus = "ARCHIVED"
			}
			if rec["status"] != wantStatus {
				t.Errorf("item %d status = %v, want %s", i, rec["status"], wantStatus)
			}
			if _, ext, ok := p.Other(ds.Kintsugi); ok {
				if rec["source"] != "API" || rec["external_id"] != ext {
					t.Errorf("item %d source/external_id = %v/%v, want API/%s", i, rec["source"], rec["external_id"], ext)
				}
			} else if rec["source"] != "SHOPIFY" || rec["external_id"] != nil {
				t.Errorf("item %d source/external_id = %v/%v, want SHOPIFY/absent", i, rec["source"], rec["external_id"])
			}
		}
	})
	t.Run("search_query is a case-insensitive substring of name and other details", func(t *testing.T) {
		p := f.kintsugiPeople()[3]
		for _, q := range []string{strings.ToUpper(p.EmailAt(ds.Kintsugi)), strings.ToLower(p.Name()), strings.ToUpper(p.City)} {
			m := page(t, "?size=100&search_query="+url.QueryEscape(q))
			found := false
			for _, it := range m["items"].([]any) {
				if it.(map[string]any)["id"] == p.IDs[ds.Kintsugi] {
					found = true
				}
			}
			if !found {
				t.Errorf("search_query %q does not find %s", q, p.IDs[ds.Kintsugi])
			}
		}
	})
	t.Run("country is repeated and exact", func(t *testing.T) {
		m := page(t, "?size=100&country=SE&country=CZ")
		want := 0
		for _, p := range f.kintsugiPeople() {
			if p.Country == "SE" || p.Country == "CZ" {
				want++
			}
		}
		if m["total"] != float64(want) {
			t.Errorf("total = %v, want %d", m["total"], want)
		}
		for _, it := range m["items"].([]any) {
			if c := it.(map[string]any)["country"]; c != "SE" && c != "CZ" {
				t.Errorf("country %v", c)
			}
		}
	})
}

func TestSimulatorRoutesAndBodies(t *testing.T) {
	f := newFixture(t)
	id := f.kintsugiPeople()[0].IDs[ds.Kintsugi]
	for _, tc := range []struct {
		name, method, path, body string
		hdr                      map[string]string
		wantStatus               int
		wantDetail               string // string detail, or the first validation error's type
	}{
		{"get one", "GET", "/v1/customers/" + id, "", nil, 200, ""},
		{"get a missing one", "GET", "/v1/customers/cust_nope", "", nil, 404, "Customer with id 'cust_nope' not found for " + sim.OrganizationID},
		{"unknown path", "GET", "/v1/customer", "", nil, 404, "Resource Not Found"},
		{"routing comes before auth", "GET", "/v2/customers", "", map[string]string{}, 404, "Resource Not Found"},
		{"no delete", "DELETE", "/v1/customers/" + id, "", nil, 405, "Method Not Allowed"},
		{"auth on get one", "GET", "/v1/customers/" + id, "", map[string]string{}, 401, "API key is missing or empty."},
		{"transactions are a bare array", "GET", "/v1/customers/" + id + "/transactions", "", nil, 200, ""},
		{"create with an empty object", "POST", "/v1/customers", "{}", nil, 200, ""},
		{"create with a wrong content type", "POST", "/v1/customers", "{}", map[string]string{
			kintsugi.HeaderAPIKey: sim.APIKey, kintsugi.HeaderOrganization: sim.OrganizationID, "Content-Type": "text/plain"}, 422, "model_attributes_type"},
		{"create without a body", "POST", "/v1/customers", "", nil, 422, "missing"},
		{"create with bad JSON", "POST", "/v1/customers", "{", nil, 422, "json_invalid"},
		{"create with an array", "POST", "/v1/customers", "[]", nil, 422, "model_attributes_type"},
		{"create with a bad status", "POST", "/v1/customers", `{"status":"INACTIVE"}`, nil, 422, "enum"},
		{"create with a bad country", "POST", "/v1/customers", `{"country":"XX"}`, nil, 422, "enum"},
		{"create with a number name", "POST", "/v1/customers", `{"name":5}`, nil, 422, "string_type"},
		{"update a missing one", "PUT", "/v1/customers/cust_nope", `{"name":"x"}`, nil, 404, "Customer with id 'cust_nope' not found for " + sim.OrganizationID},
		{"update validates before looking up", "PUT", "/v1/customers/cust_nope", `{"country":"XX"}`, nil, 422, "enum"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := raw(t, tc.method, f.Srv.URL+tc.path, tc.hdr, tc.body)
			if r.status != tc.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", r.status, tc.wantStatus, r.body)
			}
			switch {
			case tc.wantStatus == 422:
				if typ := r.firstError(t)["type"]; typ != tc.wantDetail {
					t.Errorf("type = %v, want %s", typ, tc.wantDetail)
				}
			case tc.wantDetail != "":
				if d := r.detail(t); d != tc.wantDetail {
					t.Errorf("detail = %q, want %q", d, tc.wantDetail)
				}
			}
		})
	}

	t.Run("create answers 200 with a generated id and defaults", func(t *testing.T) {
		r := raw(t, "POST", f.Srv.URL+"/v1/customers", nil, `{"name":"Ada","country":"SE","street_1":"Storgatan 1","city":"Stockholm"}`)
		m := r.json(t)
		if r.status != 200 || !strings.HasPrefix(m["id"].(string), "cust_") || m["organization_id"] != sim.OrganizationID ||
			m["status"] != "ACTIVE" || m["address_status"] != "UNVERIFIED" || m["full_address"] != "Storgatan 1, Stockholm, SE" {
			t.Fatalf("%d %s", r.status, r.body)
		}
		got := raw(t, "GET", f.Srv.URL+"/v1/customers/"+m["id"].(string), nil, "").json(t)
		if got["name"] != "Ada" {
			t.Errorf("read back %v", got)
		}
	})
	t.Run("update sets what is sent, clears nulls and keeps the rest", func(t *testing.T) {
		r := raw(t, "PUT", f.Srv.URL+"/v1/customers/"+id, nil, `{"name":"Renamed","phone":null}`)
		m := r.json(t)
		if r.status != 200 || m["name"] != "Renamed" || m["phone"] != nil || m["email"] != f.kintsugiPeople()[0].Email {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("injected faults carry Kintsugi's bodies", func(t *testing.T) {
		f.Sim.Kit().Inject(simkit.Fault{Status: 503, Message: "maintenance"}, simkit.Fault{Status: 422, Message: "Input should be sane"})
		if r := raw(t, "GET", f.Srv.URL+"/v1/customers", nil, ""); r.status != 503 || r.detail(t) != "maintenance" {
			t.Errorf("%d %s", r.status, r.body)
		}
		if r := raw(t, "GET", f.Srv.URL+"/v1/customers", nil, ""); r.status != 422 || r.firstError(t)["msg"] != "Input should be sane" {
			t.Errorf("%d %s", r.status, r.body)
		}
	})
}

func TestErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		body, want string
	}{
		{`{"detail":"API key is missing or empty."}`, "API key is missing or empty."},
		{`{"detail":[{"type":"greater_than_equal","loc":["query","page"],"msg":"Input should be greater than or equal to 1","input":"0","ctx":{"ge":1}}]}`,
			"query.page: Input should be greater than or equal to 1"},
		{`{"detail":[{"loc":["query","country",1],"msg":"Input should be 'AF'"},{"loc":["query","size"],"msg":"too big"}]}`,
			"query.country.1: Input should be 'AF'; query.size: too big"},
		{`{"detail":[{"loc":[],"msg":"bare"}]}`, "bare"},
		{`{"message":"not kintsugi"}`, ""},
		{`<html>502 Bad Gateway</html>`, ""},
		{``, ""},
		{`{"detail":{"odd":true}}`, ""},
	} {
		if got := kintsugi.ErrorMessage(400, []byte(tc.body)); got != tc.want {
			t.Errorf("ErrorMessage(%s) = %q, want %q", tc.body, got, tc.want)
		}
	}
}

func TestListQueryBuilding(t *testing.T) {
	f := newFixture(t)
	n := len(f.kintsugiPeople())
	email := f.kintsugiPeople()[2].Email
	for _, tc := range []struct {
		name      string
		req       ds.ListRequest[ds.Filter]
		want      url.Values // nil: no upstream call
		wantTotal bool
	}{
		{"first page", ds.ListRequest[ds.Filter]{Limit: 10}, url.Values{"page": {"1"}, "size": {"10"}}, true},
		{"limit is capped at 100", ds.ListRequest[ds.Filter]{Limit: 1000}, url.Values{"page": {"1"}, "size": {"100"}}, true},
		{"no limit is the default 50", ds.ListRequest[ds.Filter]{}, url.Values{"page": {"1"}, "size": {"50"}}, true},
		{"offset on a page boundary", ds.ListRequest[ds.Filter]{Token: "20", Limit: 10}, url.Values{"page": {"3"}, "size": {"10"}}, true},
		{"offset inside a page", ds.ListRequest[ds.Filter]{Token: "25", Limit: 10}, url.Values{"page": {"3"}, "size": {"10"}}, true},
		{"email is a search_query superset", ds.ListRequest[ds.Filter]{Limit: 5, Filter: ds.Filter{Email: &email}},
			url.Values{"page": {"1"}, "size": {"5"}, "search_query": {email}}, false},
		{"search", ds.ListRequest[ds.Filter]{Limit: 5, Filter: ds.Filter{Search: resttest.Ptr("an")}},
			url.Values{"page": {"1"}, "size": {"5"}, "search_query": {"an"}}, false},
		{"email wins over search", ds.ListRequest[ds.Filter]{Limit: 5, Filter: ds.Filter{Email: &email, Search: resttest.Ptr("an")}},
			url.Values{"page": {"1"}, "size": {"5"}, "search_query": {email}}, false},
		{"countries are repeated, upper-cased, deduplicated", ds.ListRequest[ds.Filter]{Limit: 5, Filter: ds.Filter{Country: []string{"SE", "cz", "SE"}}},
			url.Values{"page": {"1"}, "size": {"5"}, "country": {"SE", "CZ"}}, true},
		{"a country outside the enum is dropped", ds.ListRequest[ds.Filter]{Limit: 5, Filter: ds.Filter{Country: []string{"XX", "US"}}},
			url.Values{"page": {"1"}, "size": {"5"}, "country": {"US"}}, true},
		{"only countries outside the enum: nothing can match", ds.ListRequest[ds.Filter]{Limit: 5, Filter: ds.Filter{Country: []string{"XX"}}}, nil, true},
		{"providers and ids are ignored", ds.ListRequest[ds.Filter]{Limit: 5, Filter: ds.Filter{
			Providers: []ds.ProviderID{ds.Telness}, IDs: []ds.CustomerKey{{Provider: ds.Kintsugi, ProviderID: "cust_x"}}}},
			url.Values{"page": {"1"}, "size": {"5"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, calls := resttest.ListCalls(t, f.Client, f.Sim.Kit(), tc.req)
			if tc.want == nil {
				if len(calls) != 0 || len(page.Items) != 0 || page.Next != "" || page.Total == nil || *page.Total != 0 {
					t.Errorf("calls %v, page %+v", calls, page)
				}
				return
			}
			if len(calls) != 1 || calls[0].Method != "GET" || calls[0].Path != "/v1/customers" {
				t.Fatalf("calls = %+v", calls)
			}
			got, _ := url.ParseQuery(calls[0].Query)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("query = %v, want %v", got, tc.want)
			}
			if (page.Total != nil) != tc.wantTotal {
				t.Errorf("total = %v, want present: %v", page.Total, tc.wantTotal)
			}
			if tc.wantTotal && len(tc.req.Filter.Country) == 0 && *page.Total != n {
				t.Errorf("total = %d, want %d", *page.Total, n)
			}
		})
	}
}

func TestListOffsets(t *testing.T) {
	f := newFixture(t)
	all, err := f.Client.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	ids := idsOf(all.Items)
	n := len(ids)
	if n < 30 || n > 100 {
		t.Fatalf("the test needs 30..100 customers, got %d", n)
	}
	if all.Next != "" {
		t.Errorf("one page of %d holds everything but Next = %q", n, all.Next)
	}
	for _, tc := range []struct {
		token    string
		limit    int
		wantFrom int
		wantTo   int // exclusive
		wantNext string
	}{
		{"", 7, 0, 7, "7"},
		{"7", 7, 7, 14, "14"},
		{"25", 10, 25, 30, "30"}, // page 3 of size 10 from its 6th item: a short page
		{strconv.Itoa(n - 1), 10, n - 1, n, ""},
		{strconv.Itoa(n), 10, n, n, ""},
		{strconv.Itoa(n + 500), 10, n, n, ""},
	} {
		t.Run(tc.token+"/"+strconv.Itoa(tc.limit), func(t *testing.T) {
			page, err := f.Client.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Token: tc.token, Limit: tc.limit})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := idsOf(page.Items), ids[tc.wantFrom:tc.wantTo]; strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("items = %v, want %v", got, want)
			}
			if page.Next != tc.wantNext {
				t.Errorf("next = %q, want %q", page.Next, tc.wantNext)
			}
		})
	}
}

func TestBadTokensAreRejectedWithoutACall(t *testing.T) {
	f := newFixture(t)
	resttest.RefusesTokens(t, f.Client, f.Sim.Kit(), []string{"-1", "zz", "%00", "007", "+5", " 5", "1e3", "0x10", strings.Repeat("9", 40), "99999999999999"})
}

func TestOrderIsUnsupported(t *testing.T) {
	f := newFixture(t)
	for _, field := range []ds.OrderField{ds.OrderCreatedAt, ds.OrderUpdatedAt, ds.OrderEmail, ds.OrderName} {
		o := ds.Order{Field: field}
		if err := f.Client.Capabilities().CanOrder(o); ds.ErrorCode(err) != ds.CodeUnsupportedByProvider || !strings.Contains(err.Error(), "created_at") {
			t.Errorf("CanOrder(%s) = %v", field, err)
		}
		f.Sim.Kit().Reset()
		_, err := f.Client.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 5, Order: &o})
		if ds.ErrorCode(err) != ds.CodeUnsupportedByProvider || f.Sim.Kit().Count() != 0 {
			t.Errorf("ListCustomers ordered by %s: %v after %d calls", field, err, f.Sim.Kit().Count())
		}
	}
	for _, flt := range []ds.Filter{{}, {Email: resttest.Ptr("a@b.c")}, {Search: resttest.Ptr("x")}, {Country: []string{"SE"}}} {
		if err := f.Client.Capabilities().CanFilter(flt); err != nil {
			t.Errorf("CanFilter(%+v) = %v", flt, err)
		}
	}
}

func TestMapping(t *testing.T) {
	f := newFixture(t)
	page, err := f.Client.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	kp := f.kintsugiPeople()
	for i, c := range page.Items {
		p := kp[i]
		if c.Provider != ds.Kintsugi || c.ProviderID != p.IDs[ds.Kintsugi] || deref(c.Name) != p.Name() || deref(c.Email) != p.EmailAt(ds.Kintsugi) ||
			deref(c.Phone) != p.Phone || c.Address == nil || deref(c.Address.Line1) != p.Street1 || deref(c.Address.Line2) != p.Street2 ||
			deref(c.Address.City) != p.City || deref(c.Address.County) != p.County || deref(c.Address.State) != p.State ||
			deref(c.Address.PostalCode) != p.PostalCode || deref(c.Address.Country) != p.Country {
			t.Fatalf("customer %d = %+v, person %+v", i, c, p)
		}
		if c.CreatedAt != nil || c.UpdatedAt != nil || c.Type != nil || c.Locale != nil {
			t.Errorf("%s: Kintsugi has no timestamps, type or locale", c.ProviderID)
		}
		wantStatus := "ACTIVE"
		if (i+1)%9 == 0 {
			wantStatus = "ARCHIVED"
		}
		if deref(c.Status) != wantStatus {
			t.Errorf("%s: status %s, want %s", c.ProviderID, deref(c.Status), wantStatus)
		}
		var rawRec map[string]any
		if err := json.Unmarshal(c.Raw, &rawRec); err != nil || rawRec["id"] != c.ProviderID {
			t.Errorf("%s: raw %s", c.ProviderID, c.Raw)
		}
		if _, ext, ok := p.Other(ds.Kintsugi); ok {
			want := []ds.Ref{{Kind: ds.SourceSystem, SourceID: "API", SourceName: "API", ExternalIDs: []string{ext}}}
			if !reflect.DeepEqual(c.Refs, want) {
				t.Errorf("%s: refs %+v, want %+v", c.ProviderID, c.Refs, want)
			}
		} else if len(c.Refs) != 0 {
			t.Errorf("%s: refs %+v, want none", c.ProviderID, c.Refs)
		}
	}
}

func TestGetCustomers(t *testing.T) {
	people := providertest.People()
	s := sim.New(people)
	var inFlight, peak atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		s.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := kintsugi.New(s.ClientConfig(srv.URL), nil)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range people {
		if id, ok := p.IDs[ds.Kintsugi]; ok {
			ids = append(ids, id)
		}
	}
	ids = ids[:30]
	bad := []string{"", ".", "..", "a/b", "../v1/customers", "cust_x?page=1", "cust x"}
	query := append(append(append([]string(nil), ids...), ids[0], "cust_missing"), bad...)
	got, err := c.GetCustomers(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	gotIDs := idsOf(got)
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	if len(gotIDs) != len(ids) {
		t.Errorf("got %d customers, want %d", len(gotIDs), len(ids))
	}
	for _, id := range gotIDs {
		if !want[id] {
			t.Errorf("unexpected %s", id)
		}
	}
	calls := s.Kit().Calls()
	if len(calls) != len(ids)+1 {
		t.Errorf("%d calls, want %d (one per distinct valid id)", len(calls), len(ids)+1)
	}
	for _, call := range calls {
		if call.Method != "GET" || !strings.HasPrefix(call.Path, "/v1/customers/cust_") || strings.Count(call.Path, "/") != 3 {
			t.Errorf("call %+v", call)
		}
	}
	if p := peak.Load(); p > 8 || p < 2 {
		t.Errorf("peak concurrency %d, want 2..8", p)
	}

	t.Run("a failure that is not a 404 fails the lookup", func(t *testing.T) {
		s.Kit().Inject(simkit.Fault{Status: 401, Message: "Unauthenticated request."})
		_, err := c.GetCustomers(context.Background(), ids[:3])
		if ds.ErrorCode(err) != ds.CodeProviderUnavailable || ds.ErrorReason(err) != ds.ReasonProviderAuth {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("nothing to look up makes no call", func(t *testing.T) {
		s.Kit().Reset()
		got, err := c.GetCustomers(context.Background(), []string{"", "a/b"})
		if err != nil || len(got) != 0 || s.Kit().Count() != 0 {
			t.Errorf("got %v, %v after %d calls", got, err, s.Kit().Count())
		}
	})
	if c.Capabilities().LoaderCap != 100 {
		t.Errorf("LoaderCap = %d", c.Capabilities().LoaderCap)
	}
}

func TestErrorsAreTyped(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name     string
		mutate   func(*kintsugi.Config)
		fault    *simkit.Fault
		wantCode ds.Code
		wantMsg  string
	}{
		{"wrong organization", func(c *kintsugi.Config) { c.OrganizationID = "orgn_other" }, nil, ds.CodeProviderUnavailable, "User does not have access to the specified organization"},
		{"wrong key", func(c *kintsugi.Config) { c.APIKey = "sk_other" }, nil, ds.CodeProviderUnavailable, "API key is missing or empty."},
		{"validation of a list the gateway built", nil, &simkit.Fault{Status: 422, Message: "Input should be sane"}, ds.CodeInternal, "query: Input should be sane"},
		{"server error", nil, &simkit.Fault{Status: 500, Message: "An unexpected error occurred."}, ds.CodeProviderUnavailable, "An unexpected error occurred."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := f.Sim.ClientConfig(f.Srv.URL)
			if tc.mutate != nil {
				tc.mutate(&cfg)
			}
			c, err := kintsugi.New(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.fault != nil {
				// a 5xx is retried twice: it must fail all three attempts
				f.Sim.Kit().Inject(*tc.fault, *tc.fault, *tc.fault)
				t.Cleanup(f.Sim.Kit().Reset)
			}
			_, err = c.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 5})
			if err == nil {
				t.Fatalf("no error, want %s", tc.wantCode)
			}
			if ds.ErrorCode(err) != tc.wantCode || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("err = %v, want %s with %q", err, tc.wantCode, tc.wantMsg)
			}
			if p, ok := ds.ErrorProvider(err); !ok || p != ds.Kintsugi {
				t.Errorf("error does not name KINTSUGI: %v", err)
			}
			if strings.Contains(err.Error(), cfg.APIKey) {
				t.Errorf("error reveals the key: %v", err)
			}
		})
	}
}

func TestWrites(t *testing.T) {
	ctx := context.Background()
	t.Run("create answers the mapped record, which later reads return", func(t *testing.T) {
		f := newFixture(t)
		f.Sim.Kit().Reset()
		c, err := f.Client.CreateCustomer(ctx, ds.CustomerInput{
			Name: resttest.Ptr("Ada Lovelace"), Email: resttest.Ptr("ada@example.com"), Phone: resttest.Ptr("+46700000000"),
			Address: &ds.Address{Line1: resttest.Ptr("Storgatan 1"), City: resttest.Ptr("Stockholm"), PostalCode: resttest.Ptr("11122"), Country: resttest.Ptr("se")},
		})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(c.ProviderID, "cust_") || deref(c.Name) != "Ada Lovelace" || deref(c.Email) != "ada@example.com" ||
			c.Address == nil || deref(c.Address.Country) != "SE" || deref(c.Status) != "ACTIVE" || len(c.Raw) == 0 {
			t.Fatalf("created %+v", c)
		}
		calls := f.Sim.Kit().Calls()
		if len(calls) != 1 || calls[0].Method != "POST" || calls[0].Path != "/v1/customers" {
			t.Errorf("calls %+v", calls)
		}
		got, err := f.Client.GetCustomers(ctx, []string{c.ProviderID})
		if err != nil || len(got) != 1 || deref(got[0].Email) != "ada@example.com" {
			t.Fatalf("read back %v, %v", got, err)
		}
		page, err := f.Client.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Limit: 5, Filter: ds.Filter{Email: resttest.Ptr("ada@example.com")}})
		if err != nil || len(page.Items) != 1 || page.Items[0].ProviderID != c.ProviderID {
			t.Errorf("listed %v, %v", page.Items, err)
		}
	})
	t.Run("update sends only the fields set and keeps the rest", func(t *testing.T) {
		f := newFixture(t)
		p := f.kintsugiPeople()[1]
		id := p.IDs[ds.Kintsugi]
		c, err := f.Client.UpdateCustomer(ctx, id, ds.CustomerInput{Name: resttest.Ptr("New Name"), Address: &ds.Address{City: resttest.Ptr("Brno"), Country: resttest.Ptr("CZ")}})
		if err != nil {
			t.Fatal(err)
		}
		if deref(c.Name) != "New Name" || deref(c.Email) != p.Email || deref(c.Address.City) != "Brno" ||
			deref(c.Address.Country) != "CZ" || deref(c.Address.Line1) != p.Street1 {
			t.Errorf("updated %+v", c)
		}
		got, _ := f.Client.GetCustomers(ctx, []string{id})
		if len(got) != 1 || deref(got[0].Name) != "New Name" {
			t.Errorf("read back %+v", got)
		}
	})
	t.Run("update of an unknown customer is NOT_FOUND", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.Client.UpdateCustomer(ctx, "cust_nope", ds.CustomerInput{Name: resttest.Ptr("x")})
		if ds.ErrorCode(err) != ds.CodeNotFound {
			t.Errorf("err = %v", err)
		}
		f.Sim.Kit().Reset()
		_, err = f.Client.UpdateCustomer(ctx, "../customers", ds.CustomerInput{Name: resttest.Ptr("x")})
		if ds.ErrorCode(err) != ds.CodeNotFound || f.Sim.Kit().Count() != 0 {
			t.Errorf("err = %v after %d calls", err, f.Sim.Kit().Count())
		}
	})
	t.Run("inputs Kintsugi cannot hold are refused without a call", func(t *testing.T) {
		f := newFixture(t)
		biz := ds.Business
		for _, tc := range []struct {
			name string
			in   ds.CustomerInput
			code ds.Code
		}{
			{"type", ds.CustomerInput{Name: resttest.Ptr("x"), Type: &biz}, ds.CodeUnsupportedByProvider},
			{"locale", ds.CustomerInput{Locale: resttest.Ptr("sv-SE")}, ds.CodeUnsupportedByProvider},
			{"metadata", ds.CustomerInput{Metadata: map[string]any{"a": 1}}, ds.CodeUnsupportedByProvider},
			{"country outside the enum", ds.CustomerInput{Address: &ds.Address{Country: resttest.Ptr("XX")}}, ds.CodeBadUserInput},
		} {
			f.Sim.Kit().Reset()
			_, err := f.Client.CreateCustomer(ctx, tc.in)
			if ds.ErrorCode(err) != tc.code {
				t.Errorf("create with %s: %v, want %s", tc.name, err, tc.code)
			}
			_, err = f.Client.UpdateCustomer(ctx, f.kintsugiPeople()[0].IDs[ds.Kintsugi], tc.in)
			if ds.ErrorCode(err) != tc.code {
				t.Errorf("update with %s: %v, want %s", tc.name, err, tc.code)
			}
			if n := f.Sim.Kit().Count(); n != 0 {
				t.Errorf("%s: %d calls", tc.name, n)
			}
		}
	})
	t.Run("delete is unsupported", func(t *testing.T) {
		f := newFixture(t)
		err := f.Client.DeleteCustomer(ctx, f.kintsugiPeople()[0].IDs[ds.Kintsugi])
		if ds.ErrorCode(err) != ds.CodeUnsupportedByProvider || f.Sim.Kit().Count() != 0 {
			t.Errorf("err = %v", err)
		}
		if p, ok := ds.ErrorProvider(err); !ok || p != ds.Kintsugi {
			t.Errorf("error does not name KINTSUGI: %v", err)
		}
	})
	t.Run("create is not retried, update is", func(t *testing.T) {
		f := newFixture(t)
		f.Sim.Kit().Inject(simkit.Fault{Status: 503, Message: "maintenance"})
		if _, err := f.Client.CreateCustomer(ctx, ds.CustomerInput{Name: resttest.Ptr("x")}); ds.ErrorCode(err) != ds.CodeProviderUnavailable {
			t.Errorf("create after a 503: %v", err)
		}
		if n := f.Sim.Kit().Count(); n != 1 {
			t.Errorf("create made %d calls, want 1", n)
		}
		f.Sim.Kit().Reset()
		f.Sim.Kit().Inject(simkit.Fault{Status: 503, Message: "maintenance"})
		if _, err := f.Client.UpdateCustomer(ctx, f.kintsugiPeople()[0].IDs[ds.Kintsugi], ds.CustomerInput{Name: resttest.Ptr("y")}); err != nil {
			t.Errorf("update after one 503: %v", err)
		}
		if n := f.Sim.Kit().Count(); n != 2 {
			t.Errorf("update made %d calls, want 2", n)
		}
	})
}

func TestConfig(t *testing.T) {
	ok := kintsugi.Config{APIKey: "sk_1", OrganizationID: "orgn_1"}
	resttest.CheckConfigs(t, "kintsugi: ", kintsugi.Config.Validate, kintsugi.New, []resttest.ConfigCase[kintsugi.Config]{
		{Name: "valid with the default base", Cfg: ok, Want: ""},
		{Name: "valid with a base", Cfg: kintsugi.Config{BaseURL: "http://127.0.0.1:9", APIKey: "k", OrganizationID: "o"}, Want: ""},
		{Name: "no key", Cfg: kintsugi.Config{OrganizationID: "o"}, Want: "kintsugi: api_key is required"},
		{Name: "blank key", Cfg: kintsugi.Config{APIKey: "  ", OrganizationID: "o"}, Want: "kintsugi: api_key is required"},
		{Name: "key with a newline", Cfg: kintsugi.Config{APIKey: "k\nX-Evil: 1", OrganizationID: "o"}, Want: "kintsugi: api_key must not contain"},
		{Name: "no organization", Cfg: kintsugi.Config{APIKey: "k"}, Want: "kintsugi: organization_id is required"},
		{Name: "bad base", Cfg: kintsugi.Config{BaseURL: "ftp://x", APIKey: "k", OrganizationID: "o"}, Want: "kintsugi: base_url"},
	})

}

// TestConcurrentReadsAndWrites exercises the simulator's locking under -race.
func TestConcurrentReadsAndWrites(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id := f.kintsugiPeople()[0].IDs[ds.Kintsugi]
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch i % 3 {
			case 0:
				if _, err := f.Client.CreateCustomer(ctx, ds.CustomerInput{Name: resttest.Ptr("n" + strconv.Itoa(i))}); err != nil {
					t.Error(err)
				}
			case 1:
				if _, err := f.Client.UpdateCustomer(ctx, id, ds.CustomerInput{Name: resttest.Ptr("n" + strconv.Itoa(i))}); err != nil {
					t.Error(err)
				}
			default:
				if _, err := f.Client.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Limit: 100}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
}

func idsOf(cs []*ds.Customer) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.ProviderID)
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// fakeAPI serves h as an implementation of the API written from the docs
// (not our simulator) and returns a client for it.
func fakeAPI(t *testing.T, h http.HandlerFunc) *kintsugi.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := kintsugi.New(kintsugi.Config{BaseURL: srv.URL, APIKey: "sk_x", OrganizationID: "orgn_x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The envelope's counts are JSON Schema integers, which an integral number
// written as a float (1.0, 1e1) also is.
func TestEnvelopeCountsMayBeWrittenAsFloats(t *testing.T) {
	const items = `[{"id":"cust_a","organization_id":"orgn_x"},{"id":"cust_b","organization_id":"orgn_x"}]`
	for _, tc := range []struct {
		name, counts string
		wantTotal    int
		wantNext     string
		wantErr      bool
	}{
		{"integers", `"total":12,"page":1,"size":2,"pages":6`, 12, "2", false},
		{"integral floats", `"total":12.0,"page":1.0,"size":2.0,"pages":6.0`, 12, "2", false},
		{"exponents", `"total":1.2e1,"page":1E0,"size":2e0,"pages":6e0`, 12, "2", false},
		{"the last page as floats", `"total":2.0,"page":1.0,"size":2.0,"pages":1.0`, 2, "", false},
		{"a fraction is not a count", `"total":12,"page":1,"size":2,"pages":5.5`, 0, "", true},
		{"a string is not a count", `"total":"12","page":1,"size":2,"pages":6`, 0, "", true},
		{"a negative is not a count", `"total":-1,"page":1,"size":2,"pages":6`, 0, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"items":`+items+`,`+tc.counts+`}`)
			})
			page, err := c.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 2})
			if tc.wantErr {
				if ds.ErrorCode(err) != ds.CodeProviderUnavailable {
					t.Fatalf("err = %v, want PROVIDER_UNAVAILABLE", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) != 2 || page.Total == nil || *page.Total != tc.wantTotal || page.Next != tc.wantNext {
				t.Errorf("items %d, total %v, next %q; want 2, %d, %q", len(page.Items), page.Total, page.Next, tc.wantTotal, tc.wantNext)
			}
		})
	}
}

// That a page past the last is empty is fastapi-pagination's behaviour, not
// a documented promise: an implementation may answer it with the last page
// (clamping), whose records the client must not return again.
func TestAPageClampedToTheLastIsNotReturnedAgain(t *testing.T) {
	const n = 25
	c := fakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		size, _ := strconv.Atoi(r.URL.Query().Get("size"))
		if page < 1 || size < 1 || size > kintsugi.MaxSize {
			http.Error(w, `{"detail":"bad"}`, http.StatusUnprocessableEntity)
			return
		}
		pages := (n + size - 1) / size
		page = min(page, pages) // the clamp
		items := []map[string]string{}
		for i := (page - 1) * size; i < min(page*size, n); i++ {
			items = append(items, map[string]string{"id": "cust_" + strconv.Itoa(i), "organization_id": "orgn_x"})
		}
		simkit.WriteJSON(w, http.StatusOK, "", map[string]any{"items": items, "total": n, "page": page, "size": size, "pages": pages})
	})
	for _, tc := range []struct {
		token     string
		limit     int
		wantFirst string // "" = no items
		wantLen   int
		wantNext  string
	}{
		{"", 10, "cust_0", 10, "10"},
		{"20", 10, "cust_20", 5, ""},
		{"24", 10, "cust_24", 1, ""},
		{"25", 10, "", 0, ""},
		{"30", 10, "", 0, ""}, // page 4 of 3: the clamp answers page 3 again
		{"37", 10, "", 0, ""},
		{"500", 10, "", 0, ""},
	} {
		t.Run(tc.token+"/"+strconv.Itoa(tc.limit), func(t *testing.T) {
			page, err := c.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Token: tc.token, Limit: tc.limit})
			if err != nil {
				t.Fatal(err)
			}
			first := ""
			if len(page.Items) > 0 {
				first = page.Items[0].ProviderID
			}
			if len(page.Items) != tc.wantLen || first != tc.wantFirst || page.Next != tc.wantNext {
				t.Errorf("items %v, next %q; want %d from %q, next %q", idsOf(page.Items), page.Next, tc.wantLen, tc.wantFirst, tc.wantNext)
			}
		})
	}
}

func TestMalformedRecords(t *testing.T) {
	const a, b = `{ "id" : "cust_a",	"organization_id":"o", "name":"Ann\u00e9" }`, `{"id":"cust_b","organization_id":"o","name":null}`
	resttest.RecordCases(t, `{"items":ITEMS,"total":2,"page":1,"size":100,"pages":1}`, func(url string) kintsugi.Config {
		return kintsugi.Config{BaseURL: url, APIKey: "sk_x", OrganizationID: "orgn_x"}
	}, kintsugi.New, []providertest.RecordCase{
		{Name: "records as sent", Items: "[ " + a + " ,\n" + b + "]", Raws: []string{a, b}},
		{Name: "a number", Items: `[` + a + `,1]`, Err: "KINTSUGI: PROVIDER_UNAVAILABLE: the provider sent a response this gateway cannot read: a customer record that is not a CustomerRead object"},
		{Name: "a string", Items: `["cust_a"]`, Err: "KINTSUGI: PROVIDER_UNAVAILABLE: the provider sent a response this gateway cannot read: a customer record that is not a CustomerRead object"},
		{Name: "null", Items: `[null]`, Err: "KINTSUGI: PROVIDER_UNAVAILABLE: the provider sent a response this gateway cannot read: a customer record without an id"},
		{Name: "an id that is a number", Items: `[{"id":5}]`, Err: "KINTSUGI: PROVIDER_UNAVAILABLE: the provider sent a response this gateway cannot read: a customer record that is not a CustomerRead object"},
		{Name: "no id", Items: `[{"name":"x"}]`, Err: "KINTSUGI: PROVIDER_UNAVAILABLE: the provider sent a response this gateway cannot read: a customer record without an id"},
		{Name: "items not an array", Items: `{}`, Err: "KINTSUGI: PROVIDER_UNAVAILABLE: the provider sent a response this gateway cannot read: json: cannot unmarshal object into Go struct field pageResponse.items of type *"},
		{Name: "items null", Items: `null`, Err: "KINTSUGI: PROVIDER_UNAVAILABLE: the provider sent a response this gateway cannot read: a customer page without items, total or pages"},
	})
}

// BenchmarkListCustomers is one full page (MaxSize) of GET /v1/customers.
func BenchmarkListCustomers(b *testing.B) {
	resttest.BenchList(b, sim.New(demo.People(demo.DefaultSize)), kintsugi.MaxSize, "/v1/customers", kintsugi.New, kintsugi.DecodePage)
}
