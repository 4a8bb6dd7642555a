package telness_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/providertest"
	"github.com/federated-customers/gateway/datasource/rest/resttest"
	"github.com/federated-customers/gateway/datasource/simkit"
	"github.com/federated-customers/gateway/datasource/telness"
	"github.com/federated-customers/gateway/datasource/telness/sim"
)

func TestConformance(t *testing.T) {
	providertest.Run(t, providertest.Harness{
		Provider:         ds.Telness,
		Start:            resttest.ConformanceStart(sim.New, func(c *telness.Config) { c.APIKey = "not-the-right-key" }, telness.New),
		ValidationStatus: http.StatusBadRequest,
		RetryAfterHeader: true,
	})
}

// env is a simulator behind a real HTTP server and a client for it.
type env struct {
	*resttest.Fixture[*sim.Sim, *telness.Client]
}

// start serves the simulator, optionally behind wrap (to observe or alter traffic).
func start(t *testing.T, wrap func(http.Handler) http.Handler) *env {
	t.Helper()
	return &env{resttest.NewFixture(t, sim.New, (*sim.Sim).ClientConfig, wrap, telness.New)}
}

func (e *env) telnessPeople() []demo.Person { return e.At(ds.Telness) }

// raw calls the simulator directly.
func (e *env) raw(t *testing.T, method, path string, hdr map[string]string, body string) (int, []byte, http.Header) {
	t.Helper()
	r := resttest.Call(t, method, e.Srv.URL+path, hdr, body)
	return r.Status, r.Body, r.Header
}

func authed(extra ...string) map[string]string {
	h := map[string]string{"X-Api-Key": sim.APIKey}
	for i := 0; i+1 < len(extra); i += 2 {
		h[extra[i]] = extra[i+1]
	}
	return h
}

type rawPage struct {
	Items      []map[string]any           `json:"items"`
	Pagination map[string]json.RawMessage `json:"pagination"`
}

func decodePage(t *testing.T, b []byte) rawPage {
	t.Helper()
	var p rawPage
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("list body %q: %v", b, err)
	}
	return p
}

func nextCursor(t *testing.T, p rawPage) (string, bool) {
	t.Helper()
	raw, ok := p.Pagination["nextCursor"]
	if !ok {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("nextCursor %s is not a string", raw)
	}
	return s, true
}

func TestConfigValidate(t *testing.T) {
	resttest.CheckConfigs(t, "telness: ", telness.Config.Validate, telness.New, []resttest.ConfigCase[telness.Config]{
		{Name: "valid", Cfg: telness.Config{BaseURL: "https://api.example.com", APIKey: "k"}, Want: ""},
		{Name: "no base_url", Cfg: telness.Config{APIKey: "k"}, Want: "base_url is required"},
		{Name: "relative base_url", Cfg: telness.Config{BaseURL: "api.example.com", APIKey: "k"}, Want: "base_url"},
		{Name: "ftp base_url", Cfg: telness.Config{BaseURL: "ftp://api.example.com", APIKey: "k"}, Want: "base_url"},
		{Name: "no api_key", Cfg: telness.Config{BaseURL: "https://api.example.com"}, Want: "api_key is required"},
		{Name: "blank api_key", Cfg: telness.Config{BaseURL: "https://api.example.com", APIKey: "  "}, Want: "api_key is required"},
		{Name: "api_key with newline", Cfg: telness.Config{BaseURL: "https://api.example.com", APIKey: "a\nb"}, Want: "api_key must not"},
	})
}

func TestSimulatorIsStrict(t *testing.T) {
	e := start(t, nil)
	_, b, _ := e.raw(t, "GET", "/customers?limit=2", authed(), "")
	good, ok := nextCursor(t, decodePage(t, b))
	if !ok {
		t.Fatal("no nextCursor on a first page of 2")
	}
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	parts := strings.Split(string(raw), ":")
	if len(parts) != 3 || parts[0] != "o" || parts[1] != "2" {
		t.Fatalf("cursor %q decodes to %q, want o:2:<checksum>", good, raw)
	}
	tampered := base64.RawURLEncoding.EncodeToString([]byte("o:50:" + parts[2]))
	madeUp := base64.RawURLEncoding.EncodeToString([]byte("o:2:0000000000000000"))

	for _, tc := range []struct {
		name   string
		method string
		path   string
		hdr    map[string]string
		body   string
		status int
		code   string
	}{
		{"no api key", "GET", "/customers", nil, "", 401, "UNAUTHORIZED"},
		{"wrong api key", "GET", "/customers", map[string]string{"X-Api-Key": "nope"}, "", 401, "UNAUTHORIZED"},
		{"api key in the wrong header", "GET", "/customers", map[string]string{"Authorization": "Bearer " + sim.APIKey}, "", 401, "UNAUTHORIZED"},
		{"header name in the documented spelling", "GET", "/customers", map[string]string{"X-API-Key": sim.APIKey}, "", 200, ""},
		{"limit 0", "GET", "/customers?limit=0", authed(), "", 400, "VALIDATION_ERROR"},
		{"limit 1001", "GET", "/customers?limit=1001", authed(), "", 400, "VALIDATION_ERROR"},
		{"limit abc", "GET", "/customers?limit=abc", authed(), "", 400, "VALIDATION_ERROR"},
		{"limit -1", "GET", "/customers?limit=-1", authed(), "", 400, "VALIDATION_ERROR"},
		{"limit empty", "GET", "/customers?limit=", authed(), "", 400, "VALIDATION_ERROR"},
		{"limit 1000", "GET", "/customers?limit=1000", authed(), "", 200, ""},
		{"limit 1", "GET", "/customers?limit=1", authed(), "", 200, ""},
		{"issued cursor", "GET", "/customers?cursor=" + good, authed(), "", 200, ""},
		{"tampered cursor", "GET", "/customers?cursor=" + tampered, authed(), "", 400, "VALIDATION_ERROR"},
		{"made-up cursor", "GET", "/customers?cursor=" + madeUp, authed(), "", 400, "VALIDATION_ERROR"},
		{"garbage cursor", "GET", "/customers?cursor=zz", authed(), "", 400, "VALIDATION_ERROR"},
		{"empty cursor", "GET", "/customers?cursor=", authed(), "", 400, "VALIDATION_ERROR"},
		{"cursor of another search", "GET", "/customers?search=a&cursor=" + good, authed(), "", 400, "VALIDATION_ERROR"},
		{"Accept text/html", "GET", "/customers", authed("Accept", "text/html"), "", 406, "NOT_ACCEPTABLE"},
		{"Accept */*", "GET", "/customers", authed("Accept", "*/*"), "", 200, ""},
		{"unknown path", "GET", "/users", authed(), "", 404, "NOT_FOUND"},
		{"trailing slash", "GET", "/customers/", authed(), "", 404, "NOT_FOUND"},
		{"unknown customer", "GET", "/customers/00000000-0000-4000-a000-000000000000", authed(), "", 404, "NOT_FOUND"},
		{"delete is not in the API", "DELETE", "/customers/x", authed(), "", 405, "METHOD_NOT_ALLOWED"},
		{"create without Content-Type", "POST", "/customers", authed(), `{"customerType":"CONSUMER","name":"A"}`, 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"create with unknown field", "POST", "/customers", authed("Content-Type", "application/json"), `{"customerType":"CONSUMER","name":"A","status":"ACTIVE"}`, 400, "VALIDATION_ERROR"},
		{"create without customerType", "POST", "/customers", authed("Content-Type", "application/json"), `{"name":"A"}`, 400, "VALIDATION_ERROR"},
		{"create with a bad type", "POST", "/customers", authed("Content-Type", "application/json"), `{"customerType":"INDIVIDUAL","name":"A"}`, 400, "VALIDATION_ERROR"},
		{"create without name", "POST", "/customers", authed("Content-Type", "application/json"), `{"customerType":"CONSUMER"}`, 400, "VALIDATION_ERROR"},
		{"create with a bad msisdn", "POST", "/customers", authed("Content-Type", "application/json"), `{"customerType":"CONSUMER","name":"A","contact":{"msisdn":"0701"}}`, 400, "VALIDATION_ERROR"},
		{"idempotency key too long", "POST", "/customers", authed("Content-Type", "application/json", "X-Idempotency-Key", strings.Repeat("k", 257)), `{"customerType":"CONSUMER","name":"A"}`, 400, "VALIDATION_ERROR"},
		{"billing autoPay without profile", "PUT", "/customers/" + e.telnessPeople()[0].IDs[ds.Telness] + "/billing", authed("Content-Type", "application/json"), `{"method":"E_INVOICE","autoPay":true}`, 400, "VALIDATION_ERROR"},
		{"billing paper invoice without address", "PUT", "/customers/" + e.telnessPeople()[0].IDs[ds.Telness] + "/billing", authed("Content-Type", "application/json"), `{"method":"PAPER_INVOICE"}`, 400, "VALIDATION_ERROR"},
		{"billing of an unknown customer", "PUT", "/customers/nope/billing", authed("Content-Type", "application/json"), `{"method":"E_INVOICE"}`, 404, "NOT_FOUND"},
		{"create with billing without method", "POST", "/customers", authed("Content-Type", "application/json"), `{"customerType":"CONSUMER","name":"A","billing":{"address":{"street1":"S 1","city":"C","zip":"1","country":"SE"}}}`, 400, "VALIDATION_ERROR"},
		{"create with billing and method", "POST", "/customers", authed("Content-Type", "application/json"), `{"customerType":"CONSUMER","name":"A","billing":{"method":"E_INVOICE"}}`, 201, ""},
		{"unknown list parameter offset", "GET", "/customers?offset=10", authed(), "", 400, "VALIDATION_ERROR"},
		{"unknown list parameter q", "GET", "/customers?q=ann", authed(), "", 400, "VALIDATION_ERROR"},
		{"unknown list parameter email", "GET", "/customers?email=a@example.com", authed(), "", 400, "VALIDATION_ERROR"},
		{"unknown list parameter page", "GET", "/customers?page=2&limit=5", authed(), "", 400, "VALIDATION_ERROR"},
		{"api key as a query parameter", "GET", "/customers?api_key=" + sim.APIKey, authed(), "", 400, "VALIDATION_ERROR"},
		{"limit given twice", "GET", "/customers?limit=5&limit=2000", authed(), "", 400, "VALIDATION_ERROR"},
		{"search given twice", "GET", "/customers?search=a&search=b", authed(), "", 400, "VALIDATION_ERROR"},
		{"malformed query", "GET", "/customers?limit=%zz", authed(), "", 400, "VALIDATION_ERROR"},
		{"limit and search", "GET", "/customers?limit=5&search=a", authed(), "", 200, ""},
		{"a query on a customer lookup", "GET", "/customers/" + e.telnessPeople()[0].IDs[ds.Telness] + "?expand=users", authed(), "", 400, "VALIDATION_ERROR"},
		{"a query on a create", "POST", "/customers?dryRun=true", authed("Content-Type", "application/json"), `{"customerType":"CONSUMER","name":"A"}`, 400, "VALIDATION_ERROR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, _ := e.raw(t, tc.method, tc.path, tc.hdr, tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d (%s)", status, tc.status, body)
			}
			if tc.code == "" {
				return
			}
			var eb struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if err := json.Unmarshal(body, &eb); err != nil || eb.Error.Code != tc.code || eb.Error.Message == "" {
				t.Fatalf("error body %s, want code %s and a message", body, tc.code)
			}
		})
	}
}

func TestSimulatorPaging(t *testing.T) {
	e := start(t, nil)
	n := len(e.telnessPeople())
	t.Run("default limit is 100", func(t *testing.T) {
		s := sim.New(demo.People(demo.DefaultSize))
		srv := httptest.NewServer(s)
		t.Cleanup(srv.Close)
		req, _ := http.NewRequest("GET", srv.URL+"/customers", nil)
		req.Header.Set("X-Api-Key", sim.APIKey)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		p := decodePage(t, b)
		if s.Len() <= 100 || len(p.Items) != 100 {
			t.Fatalf("%d items of %d, want 100", len(p.Items), s.Len())
		}
		if _, ok := nextCursor(t, p); !ok {
			t.Fatal("no nextCursor")
		}
	})
	for _, limit := range []int{1, 7, n - 1, n, 1000} {
		var ids []string
		cursor, pages := "", 0
		for {
			path := "/customers?limit=" + strconv.Itoa(limit)
			if cursor != "" {
				path += "&cursor=" + url.QueryEscape(cursor)
			}
			status, b, _ := e.raw(t, "GET", path, authed(), "")
			if status != 200 {
				t.Fatalf("limit %d: status %d %s", limit, status, b)
			}
			pages++
			p := decodePage(t, b)
			for _, it := range p.Items {
				ids = append(ids, it["customerId"].(string))
			}
			if !bytes.Contains(b, []byte(`"pagination":{`)) {
				t.Fatalf("limit %d: no pagination object: %s", limit, b)
			}
			next, ok := nextCursor(t, p)
			if !ok {
				break
			}
			if next == "" {
				t.Fatalf("limit %d: nextCursor present but empty", limit)
			}
			cursor = next
		}
		if len(ids) != n {
			t.Errorf("limit %d: %d ids, want %d", limit, len(ids), n)
		}
		if want := (n + limit - 1) / limit; pages != want {
			t.Errorf("limit %d: %d pages, want %d (nextCursor must be omitted on the last page)", limit, pages, want)
		}
		for i, p := range e.telnessPeople() {
			if i < len(ids) && ids[i] != p.IDs[ds.Telness] {
				t.Fatalf("limit %d: item %d is %s, want the people's order", limit, i, ids[i])
			}
		}
	}
}

func TestSimulatorSearch(t *testing.T) {
	e := start(t, nil)
	var linked demo.Person
	for _, p := range e.telnessPeople() {
		if p.IDs[ds.CareCloud] != "" {
			linked = p
			break
		}
	}
	if linked.Email == "" {
		t.Fatal("no Telness customer with a CareCloud id in the demo world")
	}
	status, b, _ := e.raw(t, "GET", "/customers/"+linked.IDs[ds.Telness], authed(), "")
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	var rec map[string]any
	_ = json.Unmarshal(b, &rec)
	hrid, _ := rec["humanReadableId"].(string)
	if len(hrid) != 12 || hrid[3] != '-' || hrid[8] != '-' {
		t.Fatalf("humanReadableId %q is not shaped like 29A-BY3Z-X78", hrid)
	}
	for _, tc := range []struct{ name, q string }{
		{"email upper-cased", strings.ToUpper(linked.EmailAt(ds.Telness))},
		{"name part", strings.ToLower(linked.Name())},
		{"humanReadableId", strings.ToLower(hrid)},
		{"referenceId", linked.IDs[ds.CareCloud]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, b, _ := e.raw(t, "GET", "/customers?limit=1000&search="+url.QueryEscape(tc.q), authed(), "")
			found := false
			for _, it := range decodePage(t, b).Items {
				found = found || it["customerId"] == linked.IDs[ds.Telness]
			}
			if !found {
				t.Errorf("search %q did not find %s", tc.q, linked.IDs[ds.Telness])
			}
		})
	}
	_, b, _ = e.raw(t, "GET", "/customers?search=no-such-text-anywhere", authed(), "")
	if p := decodePage(t, b); len(p.Items) != 0 || p.Items == nil {
		t.Errorf("a search without hits must be items: [], got %s", b)
	}
}

// fake is a small vendor stand-in answering the list with canned bodies.
type fake struct {
	mu      sync.Mutex
	queries []url.Values
	keys    []string
	status  int
	body    string
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.queries = append(f.queries, r.URL.Query())
	f.keys = append(f.keys, r.Header.Get("X-Api-Key"))
	status, body := f.status, f.body
	f.mu.Unlock()
	if status == 0 {
		status = 200
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func (f *fake) calls() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.queries...)
}

func startFake(t *testing.T, f *fake) *telness.Client {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := telness.New(telness.Config{BaseURL: srv.URL + "/connect", APIKey: "fake-key"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const item = `{"customerId":"c-1","customerType":"CONSUMER","name":"Ann","contact":{"email":"ann@example.com"}}`

func TestClientEndOfList(t *testing.T) {
	for _, tc := range []struct {
		name, body, next string
		items            int
	}{
		{"nextCursor absent", `{"items":[` + item + `],"pagination":{}}`, "", 1},
		{"pagination absent", `{"items":[` + item + `]}`, "", 1},
		{"nextCursor null", `{"items":[` + item + `],"pagination":{"nextCursor":null}}`, "", 1},
		{"nextCursor empty", `{"items":[` + item + `],"pagination":{"nextCursor":""}}`, "", 1},
		{"items empty with a cursor", `{"items":[],"pagination":{"nextCursor":"more?"}}`, "", 0},
		{"items null with a cursor", `{"items":null,"pagination":{"nextCursor":"more?"}}`, "", 0},
		// the docs do not promise items is sent when there are none
		{"items omitted", `{"pagination":{}}`, "", 0},
		{"items omitted, nextCursor null", `{"pagination":{"nextCursor":null}}`, "", 0},
		{"items and pagination omitted", `{}`, "", 0},
		{"cursor passed through unchanged", `{"items":[` + item + `],"pagination":{"nextCursor":"a+b/c==:d%20e"}}`, "a+b/c==:d%20e", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fake{body: tc.body}
			c := startFake(t, f)
			page, err := c.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if page.Next != tc.next || len(page.Items) != tc.items || page.Total != nil {
				t.Fatalf("next=%q items=%d total=%v, want next=%q items=%d total=nil", page.Next, len(page.Items), page.Total, tc.next, tc.items)
			}
		})
	}
	for _, tc := range []struct{ name, body string }{
		{"no items but another member", `{"data":[` + item + `],"pagination":{}}`},
		{"an array", `[` + item + `]`},
		{"null", `null`},
		{"items not an array", `{"items":{}}`},
		{"item without customerId", `{"items":[{"name":"x"}]}`},
		{"not JSON", `<html>`},
		{"empty body", ``},
		{"an uncarriable nextCursor", `{"items":[` + item + `],"pagination":{"nextCursor":"` + strings.Repeat("x", 2000) + `"}}`},
	} {
		t.Run("unreadable: "+tc.name, func(t *testing.T) {
			c := startFake(t, &fake{body: tc.body})
			_, err := c.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 10})
			if ds.ErrorCode(err) != ds.CodeProviderUnavailable {
				t.Fatalf("error %v, want PROVIDER_UNAVAILABLE", err)
			}
		})
	}
}

func TestClientTokensAndQuery(t *testing.T) {
	body := `{"items":[` + item + `],"pagination":{}}`
	long := strings.Repeat("A", telness.MaxTokenLength)
	for _, tc := range []struct {
		name  string
		req   ds.ListRequest[ds.Filter]
		want  url.Values // nil: rejected locally with BAD_USER_INPUT, no call
		other string     // unexpected parameter that must be absent
	}{
		{"default limit", ds.ListRequest[ds.Filter]{}, url.Values{"limit": {"100"}}, "cursor"},
		{"limit capped at 1000", ds.ListRequest[ds.Filter]{Limit: 5000}, url.Values{"limit": {"1000"}}, ""},
		{"token replayed unchanged", ds.ListRequest[ds.Filter]{Token: "b3A6MTI6YWJj", Limit: 5}, url.Values{"cursor": {"b3A6MTI6YWJj"}, "limit": {"5"}}, ""},
		{"1024-byte token", ds.ListRequest[ds.Filter]{Token: long, Limit: 5}, url.Values{"cursor": {long}}, ""},
		{"1025-byte token", ds.ListRequest[ds.Filter]{Token: long + "A", Limit: 5}, nil, ""},
		{"token with a newline", ds.ListRequest[ds.Filter]{Token: "abc\ndef", Limit: 5}, nil, ""},
		{"token with NUL", ds.ListRequest[ds.Filter]{Token: "abc\x00", Limit: 5}, nil, ""},
		{"token with a C1 control", ds.ListRequest[ds.Filter]{Token: "abc\u0085", Limit: 5}, nil, ""},
		{"search", ds.ListRequest[ds.Filter]{Limit: 5, Filter: ds.Filter{Search: resttest.Ptr("Novak")}}, url.Values{"search": {"Novak"}}, ""},
		{"email", ds.ListRequest[ds.Filter]{Limit: 5, Filter: ds.Filter{Email: resttest.Ptr("ann@example.com")}}, url.Values{"search": {"ann@example.com"}}, ""},
		{"email wins over search", ds.ListRequest[ds.Filter]{Limit: 5, Filter: ds.Filter{Email: resttest.Ptr("ann@example.com"), Search: resttest.Ptr("Ann")}}, url.Values{"search": {"ann@example.com"}}, ""},
		{"country sends nothing", ds.ListRequest[ds.Filter]{Limit: 5, Filter: ds.Filter{Country: []string{"SE"}}}, url.Values{"limit": {"5"}}, "search"},
		{"providers and ids are ignored", ds.ListRequest[ds.Filter]{Limit: 5, Filter: ds.Filter{Providers: []ds.ProviderID{ds.Telness}, IDs: []ds.CustomerKey{{Provider: ds.Telness, ProviderID: "x"}}}}, url.Values{"limit": {"5"}}, "search"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fake{body: body}
			c := startFake(t, f)
			_, err := c.ListCustomers(context.Background(), tc.req)
			calls := f.calls()
			if tc.want == nil {
				if ds.ErrorCode(err) != ds.CodeBadUserInput || len(calls) != 0 {
					t.Fatalf("err=%v calls=%d, want BAD_USER_INPUT without a call", err, len(calls))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(calls) != 1 {
				t.Fatalf("%d calls", len(calls))
			}
			for k, v := range tc.want {
				if got := calls[0][k]; len(got) != 1 || got[0] != v[0] {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if tc.other != "" && calls[0].Has(tc.other) {
				t.Errorf("%s sent: %v", tc.other, calls[0])
			}
			if f.keys[0] != "fake-key" {
				t.Errorf("X-Api-Key = %q", f.keys[0])
			}
		})
	}
}

func TestClientRejectsOrder(t *testing.T) {
	f := &fake{body: `{"items":[]}`}
	c := startFake(t, f)
	for _, o := range []ds.OrderField{ds.OrderCreatedAt, ds.OrderUpdatedAt, ds.OrderEmail, ds.OrderName} {
		if err := c.Capabilities().CanOrder(ds.Order{Field: o}); ds.ErrorCode(err) != ds.CodeUnsupportedByProvider {
			t.Errorf("CanOrder(%s) = %v", o, err)
		}
		_, err := c.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Order: &ds.Order{Field: o}})
		if p, ok := ds.ErrorProvider(err); ds.ErrorCode(err) != ds.CodeUnsupportedByProvider || !ok || p != ds.Telness {
			t.Errorf("ListCustomers ordered by %s = %v", o, err)
		}
	}
	if n := len(f.calls()); n != 0 {
		t.Errorf("%d calls", n)
	}
	for _, fl := range []ds.Filter{{}, {Search: resttest.Ptr("x")}, {Email: resttest.Ptr("a@b.c")}, {Country: []string{"SE"}}} {
		if err := c.Capabilities().CanFilter(fl); err != nil {
			t.Errorf("CanFilter(%+v) = %v", fl, err)
		}
	}
}

func TestClientErrorBodies(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		code   ds.Code
		msg    string // must appear in the error
		absent string // must not appear in the error
	}{
		{"documented shape", 400, `{"error":{"code":"VALIDATION_ERROR","message":"limit is wrong"}}`, ds.CodeInternal, "limit is wrong", "VALIDATION_ERROR"},
		{"error is a string", 400, `{"error":"bad thing"}`, ds.CodeInternal, "rejected the gateway's request", "bad thing"},
		{"message not a string", 404, `{"error":{"message":42}}`, ds.CodeNotFound, "not found", "42"},
		{"other JSON", 403, `{"detail":"nope"}`, ds.CodeProviderUnavailable, "refused", "nope"},
		{"array", 409, `[1,2]`, ds.CodeInternal, "rejected", ""},
		{"empty body", 401, ``, ds.CodeProviderUnavailable, "credentials", ""},
		{"html", 500, `<html>boom</html>`, ds.CodeProviderUnavailable, "failed", "boom"},
		{"control characters in the message", 400, `{"error":{"message":"line1\nline2"}}`, ds.CodeInternal, "line1 line2", "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := startFake(t, &fake{status: tc.status, body: tc.body})
			_, err := c.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 1})
			if ds.ErrorCode(err) != tc.code {
				t.Fatalf("code %s, want %s (%v)", ds.ErrorCode(err), tc.code, err)
			}
			var de *ds.Error
			if !asError(err, &de) || !strings.Contains(de.Message, tc.msg) || (tc.absent != "" && strings.Contains(de.Message, tc.absent)) {
				t.Fatalf("message %q, want %q and not %q", de.Message, tc.msg, tc.absent)
			}
		})
	}
}

func TestClientVendorRejectsCursor(t *testing.T) {
	e := start(t, nil)
	for _, tok := range []string{"zz", base64.RawURLEncoding.EncodeToString([]byte("o:3:deadbeefdeadbeef"))} {
		_, err := e.Client.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Token: tok, Limit: 5})
		if ds.ErrorCode(err) != ds.CodeBadUserInput || !strings.Contains(err.Error(), "cursor is invalid") {
			t.Errorf("token %q: %v, want BAD_USER_INPUT with the vendor's message", tok, err)
		}
	}
}

func TestMapping(t *testing.T) {
	e := start(t, nil)
	var linked, lone *demo.Person
	for _, p := range e.telnessPeople() {
		p := p
		if p.IDs[ds.CareCloud] != "" && linked == nil {
			linked = &p
		}
		if p.IDs[ds.CareCloud] == "" && lone == nil {
			lone = &p
		}
	}
	if linked == nil || lone == nil {
		t.Fatal("demo world lacks a linked or an unlinked Telness customer")
	}
	got, err := e.Client.GetCustomers(context.Background(), []string{linked.IDs[ds.Telness], lone.IDs[ds.Telness]})
	if err != nil || len(got) != 2 {
		t.Fatalf("got %d, err %v", len(got), err)
	}
	by := map[string]*ds.Customer{got[0].ProviderID: got[0], got[1].ProviderID: got[1]}
	for _, p := range []*demo.Person{linked, lone} {
		c := by[p.IDs[ds.Telness]]
		wantType := ds.Individual
		if p.Business {
			wantType = ds.Business
		}
		check := func(field string, got *string, want string) {
			t.Helper()
			if got == nil || *got != want {
				t.Errorf("%s: %s = %v, want %q", p.IDs[ds.Telness], field, resttest.Deref(got), want)
			}
		}
		check("name", c.Name, p.Name())
		check("email", c.Email, p.EmailAt(ds.Telness))
		check("phone", c.Phone, p.Phone)
		check("locale", c.Locale, p.Locale)
		if c.Address == nil {
			t.Fatal("no address")
		}
		check("line1", c.Address.Line1, p.Street1)
		check("city", c.Address.City, p.City)
		check("county", c.Address.County, p.County)
		check("postal code", c.Address.PostalCode, p.PostalCode)
		check("country", c.Address.Country, p.Country)
		if p.Street2 != "" {
			check("line2", c.Address.Line2, p.Street2)
		} else if c.Address.Line2 != nil {
			t.Errorf("line2 = %q, want nil", *c.Address.Line2)
		}
		if c.Type == nil || *c.Type != wantType {
			t.Errorf("type = %v, want %s", c.Type, wantType)
		}
		if c.Status != nil {
			t.Errorf("status = %q, want nil (Telness has none)", *c.Status)
		}
		if c.CreatedAt == nil || !c.CreatedAt.Equal(p.CreatedAt.Truncate(time.Second)) || c.CreatedAt.Location() != time.UTC {
			t.Errorf("createdAt = %v, want %v in UTC", c.CreatedAt, p.CreatedAt)
		}
		if c.UpdatedAt == nil || !c.UpdatedAt.Equal(p.UpdatedAt.Truncate(time.Second)) {
			t.Errorf("updatedAt = %v, want %v", c.UpdatedAt, p.UpdatedAt)
		}
		var rec map[string]any
		if err := json.Unmarshal(c.Raw, &rec); err != nil || rec["customerId"] != p.IDs[ds.Telness] || rec["identity"] == "" {
			t.Errorf("raw %s", c.Raw)
		}
	}
	if refs := by[lone.IDs[ds.Telness]].Refs; len(refs) != 0 {
		t.Errorf("unlinked customer has refs %+v", refs)
	}
	refs := by[linked.IDs[ds.Telness]].Refs
	if len(refs) != 1 || refs[0].Kind != ds.SourceSystem || refs[0].SourceID != "referenceId" || refs[0].SourceName != "CRM reference" ||
		len(refs[0].ExternalIDs) != 1 || refs[0].ExternalIDs[0] != linked.IDs[ds.CareCloud] {
		t.Errorf("refs = %+v, want one SYSTEM referenceId ref to %s", refs, linked.IDs[ds.CareCloud])
	}
}

func TestGetCustomersConcurrencyAndAbsence(t *testing.T) {
	var inFlight, peak atomic.Int32
	e := start(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := inFlight.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			defer inFlight.Add(-1)
			h.ServeHTTP(w, r)
		})
	})
	e.Sim.Kit().SetLatency(15 * time.Millisecond)
	var ids []string
	for _, p := range e.telnessPeople() {
		ids = append(ids, p.IDs[ds.Telness])
	}
	ids = append(ids, ids[0], "00000000-0000-4000-a000-000000000000", "a/b", "", "..", "x\ny")
	e.Sim.Kit().Reset()
	got, err := e.Client.GetCustomers(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(e.telnessPeople()); len(got) != want {
		t.Errorf("got %d customers, want %d", len(got), want)
	}
	// Many ids: one list page of 1000 finds them all (the list ended, so the
	// unknown id is absent without a GET of its own).
	if calls := e.Sim.Kit().Count(); calls != 1 {
		t.Errorf("%d calls for %d ids, want 1 list scan", calls, len(ids))
	}
	// A few ids: single GETs, a few at a time.
	few := ids[:4]
	e.Sim.Kit().Reset()
	peak.Store(0)
	got, err = e.Client.GetCustomers(context.Background(), few)
	if err != nil || len(got) != 4 {
		t.Fatalf("4 ids: %d customers, %v", len(got), err)
	}
	if calls := e.Sim.Kit().Count(); calls != 4 {
		t.Errorf("%d calls, want one per id (4)", calls)
	}
	if p := peak.Load(); p > 4 || p < 2 {
		t.Errorf("peak concurrency %d, want 2..4", p)
	}
	e.Sim.Kit().SetLatency(0)
	e.Sim.Kit().Inject(simkit.Fault{Status: 403, Message: "not yours", Path: "/customers/"})
	if _, err := e.Client.GetCustomers(context.Background(), ids[:3]); ds.ErrorCode(err) != ds.CodeProviderUnavailable || ds.ErrorReason(err) != ds.ReasonProviderAuth {
		t.Errorf("a 403 on one id: %v, want PROVIDER_UNAVAILABLE (PROVIDER_AUTH)", err)
	}
}

func TestCreateCustomer(t *testing.T) {
	e := start(t, nil)
	before := e.Sim.Len()
	in := ds.CustomerInput{
		Email:  resttest.Ptr("new.person@example.com"),
		Name:   resttest.Ptr("New Person"),
		Phone:  resttest.Ptr("+46701234567"),
		Type:   resttest.Ptr(ds.Individual),
		Locale: resttest.Ptr("sv-SE"),
		Address: &ds.Address{Line1: resttest.Ptr("Storgatan 1"), City: resttest.Ptr("Stockholm"), County: resttest.Ptr("Stockholms län"),
			PostalCode: resttest.Ptr("11122"), Country: resttest.Ptr("se")},
		Metadata: map[string]any{"segment": "gold", "n": 3.0},
	}
	c, err := e.Client.CreateCustomer(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if c.Provider != ds.Telness || c.ProviderID == "" || resttest.Deref(c.Name) != "New Person" || resttest.Deref(c.Email) != "new.person@example.com" ||
		resttest.Deref(c.Phone) != "+46701234567" || c.Type == nil || *c.Type != ds.Individual || resttest.Deref(c.Locale) != "sv-SE" ||
		c.Address == nil || resttest.Deref(c.Address.Country) != "SE" || resttest.Deref(c.Address.County) != "Stockholms län" ||
		c.Metadata["segment"] != "gold" || c.CreatedAt == nil {
		t.Fatalf("created %+v", c)
	}
	var rec struct {
		CustomerType string `json:"customerType"`
		Shipping     struct {
			Address struct{ Street1, Region string } `json:"address"`
		} `json:"shipping"`
	}
	if err := json.Unmarshal(c.Raw, &rec); err != nil || rec.CustomerType != "CONSUMER" || rec.Shipping.Address.Region != "Stockholms län" || rec.Shipping.Address.Street1 != "Storgatan 1" {
		t.Errorf("raw %s", c.Raw)
	}
	if e.Sim.Len() != before+1 {
		t.Errorf("%d customers, want %d", e.Sim.Len(), before+1)
	}
	// a write changes what later reads return
	got, err := e.Client.GetCustomers(context.Background(), []string{c.ProviderID})
	if err != nil || len(got) != 1 || resttest.Deref(got[0].Email) != "new.person@example.com" {
		t.Fatalf("lookup after create: %v %v", got, err)
	}
	page, err := e.Client.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 1000, Filter: ds.Filter{Email: resttest.Ptr("new.person@example.com")}})
	if err != nil || len(page.Items) != 1 || page.Items[0].ProviderID != c.ProviderID {
		t.Fatalf("list after create: %+v %v", page, err)
	}

	// the vendor's validation reaches the caller as BAD_USER_INPUT
	_, err = e.Client.CreateCustomer(context.Background(), ds.CustomerInput{Name: resttest.Ptr("No Type")})
	if ds.ErrorCode(err) != ds.CodeBadUserInput || !strings.Contains(err.Error(), "customerType is required") {
		t.Errorf("create without type: %v", err)
	}
}

func TestCreateBodyHasNoBillingWithoutMethod(t *testing.T) {
	addr := &ds.Address{Line1: resttest.Ptr("Storgatan 1"), City: resttest.Ptr("Stockholm"), PostalCode: resttest.Ptr("11122"), Country: resttest.Ptr("SE")}
	for _, tc := range []struct {
		name         string
		in           ds.CustomerInput
		wantShipping bool
	}{
		{"with an address: shipping only", ds.CustomerInput{Name: resttest.Ptr("A"), Type: resttest.Ptr(ds.Individual), Address: addr}, true},
		{"without an address: neither", ds.CustomerInput{Name: resttest.Ptr("B"), Type: resttest.Ptr(ds.Business)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var body []byte
			e := start(t, func(h http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Method == http.MethodPost {
						b, _ := io.ReadAll(r.Body)
						mu.Lock()
						body = b
						mu.Unlock()
						r.Body = io.NopCloser(bytes.NewReader(b))
					}
					h.ServeHTTP(w, r)
				})
			})
			c, err := e.Client.CreateCustomer(context.Background(), tc.in)
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			var sent map[string]json.RawMessage
			if err := json.Unmarshal(body, &sent); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			if _, ok := sent["billing"]; ok {
				t.Errorf("sent billing without a method: %s", body)
			}
			if _, ok := sent["shipping"]; ok != tc.wantShipping {
				t.Errorf("shipping sent = %v, want %v: %s", ok, tc.wantShipping, body)
			}
			if tc.wantShipping && (c.Address == nil || resttest.Deref(c.Address.City) != "Stockholm") {
				t.Errorf("address not read back: %+v", c.Address)
			}
		})
	}
}

func TestClientTimestamps(t *testing.T) {
	want := time.Date(2023, 11, 7, 5, 31, 56, 0, time.UTC)
	for _, tc := range []struct {
		name, createdAt string // createdAt is raw JSON
		want            *time.Time
	}{
		{"documented form", `"2023-11-07T05:31:56Z"`, &want},
		{"fraction and offset", `"2023-11-07T07:31:56.000+02:00"`, &want},
		{"lower-case t and z (RFC 3339 allows them)", `"2023-11-07t05:31:56z"`, &want},
		{"space separator (RFC 3339 allows it)", `"2023-11-07 05:31:56Z"`, &want},
		{"null", `null`, nil},
		{"not a date", `"yesterday"`, nil},
		{"a number is no time, not a lost record", `1699335116`, nil},
		{"an object is no time, not a lost record", `{"seconds":1699335116}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := `{"customerId":"c-1","name":"Ann","createdAt":` + tc.createdAt + `,"updatedAt":` + tc.createdAt + `}`
			c := startFake(t, &fake{body: `{"items":[` + rec + `],"pagination":{}}`})
			page, err := c.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) != 1 {
				t.Fatalf("%d items", len(page.Items))
			}
			got := page.Items[0]
			for field, v := range map[string]*time.Time{"createdAt": got.CreatedAt, "updatedAt": got.UpdatedAt} {
				switch {
				case tc.want == nil && v != nil:
					t.Errorf("%s = %v, want none", field, v)
				case tc.want != nil && (v == nil || !v.Equal(*tc.want) || v.Location() != time.UTC):
					t.Errorf("%s = %v, want %v in UTC", field, v, tc.want)
				}
			}
		})
	}
}

func TestCreateIsIdempotent(t *testing.T) {
	t.Run("a retried create reuses its key and makes one customer", func(t *testing.T) {
		var mu sync.Mutex
		var keys []string
		failed := false
		e := start(t, func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost {
					h.ServeHTTP(w, r)
					return
				}
				mu.Lock()
				keys = append(keys, r.Header.Get("X-Idempotency-Key"))
				first := !failed
				failed = true
				mu.Unlock()
				if first {
					// the vendor creates the customer, but the answer is lost
					h.ServeHTTP(httptest.NewRecorder(), r)
					w.WriteHeader(http.StatusBadGateway)
					return
				}
				h.ServeHTTP(w, r)
			})
		})
		before := e.Sim.Len()
		c, err := e.Client.CreateCustomer(context.Background(), ds.CustomerInput{Name: resttest.Ptr("Retry Me"), Type: resttest.Ptr(ds.Business)})
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 2 || keys[0] == "" || keys[0] != keys[1] || len(keys[0]) > 256 {
			t.Fatalf("idempotency keys %q, want the same key twice", keys)
		}
		if e.Sim.Len() != before+1 || c.Type == nil || *c.Type != ds.Business {
			t.Errorf("%d customers (want %d), created %+v", e.Sim.Len(), before+1, c)
		}
		if _, err := e.Client.CreateCustomer(context.Background(), ds.CustomerInput{Name: resttest.Ptr("Retry Me"), Type: resttest.Ptr(ds.Business)}); err != nil {
			t.Fatal(err)
		}
		if len(keys) != 3 || keys[2] == keys[0] {
			t.Errorf("a second logical create reused key %q", keys[0])
		}
	})

	t.Run("same key: identical body replays, modified body is 409", func(t *testing.T) {
		e := start(t, nil)
		telness.SetIdempotencyKeys(e.Client, func() string { return "fixed-key-1" })
		before := e.Sim.Len()
		in := ds.CustomerInput{Name: resttest.Ptr("Once Only"), Type: resttest.Ptr(ds.Individual), Email: resttest.Ptr("once@example.com")}
		a, err := e.Client.CreateCustomer(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		b, err := e.Client.CreateCustomer(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if a.ProviderID != b.ProviderID || !bytes.Equal(a.Raw, b.Raw) || e.Sim.Len() != before+1 {
			t.Fatalf("replay made %s then %s (%d customers, want %d)", a.ProviderID, b.ProviderID, e.Sim.Len(), before+1)
		}
		in.Name = resttest.Ptr("Twice")
		_, err = e.Client.CreateCustomer(context.Background(), in)
		if p, ok := ds.ErrorProvider(err); ds.ErrorCode(err) != ds.CodeBadUserInput || !ok || p != ds.Telness {
			t.Fatalf("modified body under the same key: %v, want BAD_USER_INPUT from TELNESS", err)
		}
		var de *ds.Error
		if asError(err, &de); de.Status != http.StatusConflict || !strings.Contains(de.Message, "X-Idempotency-Key") {
			t.Errorf("error %+v, want the vendor's 409 message", de)
		}
		if e.Sim.Len() != before+1 {
			t.Errorf("%d customers after a conflict", e.Sim.Len())
		}
	})

	t.Run("raw: keys expire after 24 hours", func(t *testing.T) {
		e := start(t, nil)
		now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
		var mu sync.Mutex
		e.Sim.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
		hdr := authed("Content-Type", "application/json", "X-Idempotency-Key", "k-1")
		post := func(body string) (int, string) {
			status, b, _ := e.raw(t, "POST", "/customers", hdr, body)
			var rec struct {
				CustomerID string `json:"customerId"`
			}
			_ = json.Unmarshal(b, &rec)
			return status, rec.CustomerID
		}
		s1, id1 := post(`{"customerType":"CONSUMER","name":"A"}`)
		s2, id2 := post(`{"customerType":"CONSUMER","name":"A"}`)
		s3, _ := post(`{"customerType":"CONSUMER","name":"B"}`)
		if s1 != 201 || s2 != 201 || id1 == "" || id1 != id2 || s3 != 409 {
			t.Fatalf("statuses %d %d %d, ids %q %q", s1, s2, s3, id1, id2)
		}
		mu.Lock()
		now = now.Add(24 * time.Hour)
		mu.Unlock()
		s4, id4 := post(`{"customerType":"CONSUMER","name":"B"}`)
		if s4 != 201 || id4 == id1 {
			t.Fatalf("after 24 h: status %d id %q", s4, id4)
		}
	})
}

func TestUpdateAndDeleteAreUnsupported(t *testing.T) {
	e := start(t, nil)
	id := e.telnessPeople()[0].IDs[ds.Telness]
	e.Sim.Kit().Reset()
	_, err := e.Client.UpdateCustomer(context.Background(), id, ds.CustomerInput{Email: resttest.Ptr("x@example.com")})
	if p, ok := ds.ErrorProvider(err); ds.ErrorCode(err) != ds.CodeUnsupportedByProvider || !ok || p != ds.Telness || !strings.Contains(err.Error(), "billing") {
		t.Errorf("update: %v", err)
	}
	err = e.Client.DeleteCustomer(context.Background(), id)
	if p, ok := ds.ErrorProvider(err); ds.ErrorCode(err) != ds.CodeUnsupportedByProvider || !ok || p != ds.Telness {
		t.Errorf("delete: %v", err)
	}
	if n := e.Sim.Kit().Count(); n != 0 {
		t.Errorf("%d upstream calls", n)
	}
}

func TestSimulatorBillingUpdate(t *testing.T) {
	e := start(t, nil)
	id := e.telnessPeople()[0].IDs[ds.Telness]
	status, b, _ := e.raw(t, "PUT", "/customers/"+id+"/billing", authed("Content-Type", "application/json"),
		`{"method":"EMAIL_INVOICE","email":"ap@example.com","currency":"SEK","defaultPaymentProfileId":"c1d2e3f4-a5b6-7890-1234-901234567890","autoPay":true}`)
	if status != 200 {
		t.Fatalf("status %d %s", status, b)
	}
	_, b, _ = e.raw(t, "GET", "/customers/"+id, authed(), "")
	var rec struct {
		Billing struct {
			Method  string `json:"method"`
			AutoPay bool   `json:"autoPay"`
		} `json:"billing"`
	}
	if err := json.Unmarshal(b, &rec); err != nil || rec.Billing.Method != "EMAIL_INVOICE" || !rec.Billing.AutoPay {
		t.Errorf("after the billing update: %s", b)
	}
}

func asError(err error, target **ds.Error) bool {
	var e *ds.Error
	ok := err != nil && errors.As(err, &e)
	if ok {
		*target = e
	} else {
		*target = &ds.Error{}
	}
	return ok
}

func TestMalformedRecords(t *testing.T) {
	const a, b = `{ "customerId" : "c-a",	"name":"Ann\u00e9", "metadata":{"k":1} }`, `{"customerId":"c-b","contact":null}`
	const bad = "TELNESS: PROVIDER_UNAVAILABLE: the provider sent a response this gateway cannot read: telness: "
	resttest.RecordCases(t, `{"items":ITEMS,"pagination":{}}`, func(url string) telness.Config { return telness.Config{BaseURL: url, APIKey: "fake-key"} }, telness.New, []providertest.RecordCase{
		{Name: "records as sent", Items: "[ " + a + " ,\n" + b + "]", Raws: []string{a, b}},
		{Name: "a number", Items: `[` + a + `,1]`, Err: bad + "a customer that is not a JSON object"},
		{Name: "a string", Items: `["c-a"]`, Err: bad + "a customer that is not a JSON object"},
		{Name: "null", Items: `[null]`, Err: bad + "a customer that is not a JSON object"},
		{Name: "an id that is a number", Items: `[{"customerId":5}]`, Err: bad + "a customer that is not a JSON object"},
		{Name: "no id", Items: `[{"name":"x"}]`, Err: bad + "a customer without customerId"},
		{Name: "items not an array", Items: `{}`, Err: bad + "a customer list whose items are not an array"},
		{Name: "items a string", Items: `"x"`, Err: bad + "a customer list whose items are not an array"},
		{Name: "items null", Items: `null`, Raws: nil},
	})
}

// BenchmarkListCustomers is one full page (MaxLimit) of GET /customers, 1000.
func BenchmarkListCustomers(b *testing.B) {
	resttest.BenchList(b, sim.New(demo.People(2400)), telness.MaxLimit, "/customers", telness.New, telness.DecodePage) // about half are at Telness: more than a page
}
