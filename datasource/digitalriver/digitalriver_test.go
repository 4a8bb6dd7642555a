package digitalriver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/digitalriver"
	"github.com/federated-customers/gateway/datasource/digitalriver/sim"
	"github.com/federated-customers/gateway/datasource/providertest"
	"github.com/federated-customers/gateway/datasource/rest/resttest"
	"github.com/federated-customers/gateway/datasource/simkit"
)

type fixture struct {
	*resttest.Fixture[*sim.Sim, *digitalriver.Client]
}

func start(t *testing.T) *fixture {
	t.Helper()
	return &fixture{resttest.NewFixture(t, sim.New, (*sim.Sim).ClientConfig, nil, digitalriver.New)}
}

func TestConformance(t *testing.T) {
	providertest.Run(t, providertest.Harness{
		Provider:         ds.DigitalRiver,
		Start:            resttest.ConformanceStart(sim.New, func(c *digitalriver.Config) { c.APIKey = "sk_test_wrong" }, digitalriver.New),
		ValidationStatus: 400,
		RetryAfterHeader: true,
	})
}

// --- the simulator, over raw HTTP ---

type rawResp struct {
	status int
	header http.Header
	body   map[string]any
}

func (f *fixture) raw(t *testing.T, method, path string, hdr map[string]string, body string) rawResp {
	t.Helper()
	good := map[string]string{"Authorization": "Bearer " + sim.APIKey, "Content-Type": "application/json"} // documented for every request
	r := resttest.Call(t, method, f.Srv.URL+path, resttest.Headers(good, hdr), body)
	return rawResp{status: r.Status, header: r.Header, body: r.Object(t)}
}

// errInfo returns type, errors[0].code and errors[0].parameter of a DR Errors body.
func errInfo(b map[string]any) (typ, code, param string) {
	typ, _ = b["type"].(string)
	errs, _ := b["errors"].([]any)
	if len(errs) > 0 {
		e, _ := errs[0].(map[string]any)
		code, _ = e["code"].(string)
		param, _ = e["parameter"].(string)
		if m, _ := e["message"].(string); m == "" {
			code += "(no message)"
		}
	}
	return
}

func ids(b map[string]any) []string {
	return resttest.IDs(b, "data", "id")
}

func TestSimRejects(t *testing.T) {
	f := start(t)
	long := strings.Repeat("1", 41)
	first := ids(f.raw(t, "GET", "/customers?limit=1", nil, "").body)[0]
	srcFree := f.Sim.FreeSources()[0]
	for _, tc := range []struct {
		name, method, path string
		hdr                map[string]string
		body               string
		status             int
		typ, code, param   string
	}{
		{"no credentials", "GET", "/customers", map[string]string{"Authorization": ""}, "", 401, "unauthorized", "unauthorized", ""},
		{"wrong key", "GET", "/customers", map[string]string{"Authorization": "Bearer sk_test_nope"}, "", 401, "unauthorized", "unauthorized", ""},
		{"basic auth", "GET", "/customers", map[string]string{"Authorization": "Basic " + sim.APIKey}, "", 401, "unauthorized", "unauthorized", ""},
		{"limit 0", "GET", "/customers?limit=0", nil, "", 400, "bad_request", "invalid_parameter", "limit"},
		{"limit 101", "GET", "/customers?limit=101", nil, "", 400, "bad_request", "invalid_parameter", "limit"},
		{"limit not an int", "GET", "/customers?limit=ten", nil, "", 400, "bad_request", "invalid_parameter", "limit"},
		{"limit empty", "GET", "/customers?limit=", nil, "", 400, "bad_request", "invalid_parameter", "limit"},
		{"limit twice", "GET", "/customers?limit=5&limit=6", nil, "", 400, "bad_request", "invalid_parameter", "limit"},
		{"unknown startingAfter", "GET", "/customers?startingAfter=5899999999", nil, "", 400, "bad_request", "invalid_parameter", "startingAfter"},
		{"unknown endingBefore", "GET", "/customers?endingBefore=5899999999", nil, "", 400, "bad_request", "invalid_parameter", "endingBefore"},
		{"startingAfter too long", "GET", "/customers?startingAfter=" + long, nil, "", 400, "bad_request", "invalid_parameter", "startingAfter"},
		{"both cursors", "GET", "/customers?startingAfter=" + first + "&endingBefore=" + first, nil, "", 400, "bad_request", "invalid_request", ""},
		{"id in ids too long", "GET", "/customers?ids=" + first + "," + long, nil, "", 400, "bad_request", "invalid_parameter", "ids"},
		{"empty id in ids", "GET", "/customers?ids=" + first + ",,", nil, "", 400, "bad_request", "invalid_parameter", "ids"},
		{"unknown parameter", "GET", "/customers?sort=email", nil, "", 400, "bad_request", "invalid_parameter", "sort"},
		{"bad createdTime", "GET", "/customers?createdTime[gte]=yesterday", nil, "", 400, "bad_request", "invalid_parameter", "createdTime[gte]"},
		{"bad requestToBeForgotten", "GET", "/customers?requestToBeForgotten=1", nil, "", 400, "bad_request", "invalid_parameter", "requestToBeForgotten"},
		{"wrong Accept", "GET", "/customers", map[string]string{"Accept": "text/html"}, "", 406, "not_acceptable", "not_acceptable", ""},
		{"wrong method", "DELETE", "/customers", nil, "", 405, "method_not_allowed", "method_not_allowed", ""},
		{"unknown path", "GET", "/orders", nil, "", 404, "not_found", "not_found", ""},
		{"customer id too long", "GET", "/customers/" + long, nil, "", 400, "bad_request", "invalid_parameter", "id"},
		{"unknown customer", "GET", "/customers/5899999999", nil, "", 404, "not_found", "not_found", "id"},
		{"update unknown customer", "POST", "/customers/5899999999", nil, `{"locale":"en_US"}`, 404, "not_found", "not_found", "id"},
		{"delete unknown customer", "DELETE", "/customers/5899999999", nil, "", 404, "not_found", "not_found", "id"},
		{"create without JSON content type", "POST", "/customers", map[string]string{"Content-Type": "text/plain"}, `{}`, 400, "bad_request", "invalid_request", ""},
		{"list without a content type", "GET", "/customers", map[string]string{"Content-Type": ""}, "", 400, "bad_request", "invalid_request", ""},
		{"attach without a content type", "POST", "/customers/" + first + "/sources/" + srcFree, map[string]string{"Content-Type": ""}, "", 400, "bad_request", "invalid_request", ""},
		{"create without a body", "POST", "/customers", map[string]string{"Content-Type": "application/json"}, "", 400, "bad_request", "invalid_request", ""},
		{"create with an unknown field", "POST", "/customers", nil, `{"name":"x"}`, 400, "bad_request", "invalid_request", ""},
		{"create with an existing id", "POST", "/customers", nil, `{"id":"` + first + `"}`, 409, "conflict", "conflict", "id"},
		{"create with a long id", "POST", "/customers", nil, `{"id":"` + long + `"}`, 400, "bad_request", "invalid_parameter", "id"},
		{"create with a BCP-47 locale", "POST", "/customers", nil, `{"locale":"en-US"}`, 400, "bad_request", "invalid_parameter", "locale"},
		{"create with a bad type", "POST", "/customers", nil, `{"type":"person"}`, 400, "bad_request", "invalid_parameter", "type"},
		{"create with a bad email", "POST", "/customers", nil, `{"email":"nope"}`, 400, "bad_request", "invalid_parameter", "email"},
		{"create with nested metadata", "POST", "/customers", nil, `{"metadata":{"a":{"b":1}}}`, 400, "bad_request", "invalid_parameter", "metadata"},
		{"create with a lower-case country", "POST", "/customers", nil, `{"shipping":{"address":{"country":"se"}}}`, 400, "bad_request", "invalid_parameter", "shipping.address.country"},
		{"attach a non-uuid", "POST", "/customers/" + first + "/sources/not-a-uuid", nil, "", 400, "bad_request", "invalid_parameter", "sourceId"},
		{"attach an unknown source", "POST", "/customers/" + first + "/sources/00000000-0000-4000-a000-000000000000", nil, "", 404, "not_found", "not_found", "sourceId"},
		{"attach to an unknown customer", "POST", "/customers/5899999999/sources/" + srcFree, nil, "", 404, "not_found", "not_found", "id"},
		{"detach a source not attached", "DELETE", "/customers/" + first + "/sources/" + srcFree, nil, "", 404, "not_found", "not_found", "sourceId"},
		{"get on a source", "GET", "/customers/" + first + "/sources/" + srcFree, nil, "", 405, "method_not_allowed", "method_not_allowed", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.raw(t, tc.method, tc.path, tc.hdr, tc.body)
			if r.status != tc.status {
				t.Fatalf("status = %d, want %d (%v)", r.status, tc.status, r.body)
			}
			typ, code, param := errInfo(r.body)
			if typ != tc.typ || code != tc.code || param != tc.param {
				t.Errorf("error = %s/%s/%s, want %s/%s/%s (%v)", typ, code, param, tc.typ, tc.code, tc.param, r.body)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

func TestSimListing(t *testing.T) {
	f := start(t)
	all := f.raw(t, "GET", "/customers?limit=100", nil, "")
	if all.status != 200 || all.body["hasMore"] != false {
		t.Fatalf("status %d hasMore %v", all.status, all.body["hasMore"])
	}
	if _, ok := all.body["total"]; ok {
		t.Error("the list envelope carries a total")
	}
	data := all.body["data"].([]any)
	var prev string
	for i, d := range data {
		ct := d.(map[string]any)["createdTime"].(string)
		if len(ct) != len("2021-01-04T09:00:00Z") || !strings.HasSuffix(ct, "Z") {
			t.Errorf("createdTime %q is not ISO-8601 Z without millis", ct)
		}
		if i > 0 && ct > prev {
			t.Fatalf("not newest first: %s after %s", ct, prev)
		}
		prev = ct
	}
	every := ids(all.body)

	t.Run("default limit is 10", func(t *testing.T) {
		r := f.raw(t, "GET", "/customers", nil, "")
		if n := len(ids(r.body)); n != 10 || r.body["hasMore"] != true {
			t.Errorf("got %d items, hasMore %v", n, r.body["hasMore"])
		}
	})
	t.Run("startingAfter continues right after the id", func(t *testing.T) {
		r := f.raw(t, "GET", "/customers?limit=3&startingAfter="+every[4], nil, "")
		if got := ids(r.body); strings.Join(got, ",") != strings.Join(every[5:8], ",") {
			t.Errorf("got %v, want %v", got, every[5:8])
		}
	})
	t.Run("the last page says hasMore false", func(t *testing.T) {
		r := f.raw(t, "GET", "/customers?limit=5&startingAfter="+every[len(every)-3], nil, "")
		if got := ids(r.body); len(got) != 2 || r.body["hasMore"] != false {
			t.Errorf("got %v hasMore %v", got, r.body["hasMore"])
		}
	})
	t.Run("endingBefore returns the items right before the id", func(t *testing.T) {
		r := f.raw(t, "GET", "/customers?limit=3&endingBefore="+every[5], nil, "")
		if got := ids(r.body); strings.Join(got, ",") != strings.Join(every[2:5], ",") || r.body["hasMore"] != true {
			t.Errorf("got %v hasMore %v, want %v and true", got, r.body["hasMore"], every[2:5])
		}
		r = f.raw(t, "GET", "/customers?limit=3&endingBefore="+every[2], nil, "")
		if got := ids(r.body); strings.Join(got, ",") != strings.Join(every[:2], ",") || r.body["hasMore"] != false {
			t.Errorf("got %v hasMore %v, want %v and false", got, r.body["hasMore"], every[:2])
		}
	})
	t.Run("ids is comma separated", func(t *testing.T) {
		r := f.raw(t, "GET", "/customers?ids="+every[3]+","+every[0]+",5899999999", nil, "")
		if got := ids(r.body); strings.Join(got, ",") != every[0]+","+every[3] {
			t.Errorf("got %v", got)
		}
	})
	t.Run("email is exact and case-sensitive", func(t *testing.T) {
		d := data[7].(map[string]any)
		email := d["email"].(string)
		if email != strings.ToLower(email) {
			t.Fatalf("stored email %q is not lower case", email)
		}
		if got := ids(f.raw(t, "GET", "/customers?email="+url.QueryEscape(email), nil, "").body); len(got) != 1 || got[0] != d["id"] {
			t.Errorf("exact email: got %v", got)
		}
		if got := ids(f.raw(t, "GET", "/customers?email="+url.QueryEscape(strings.ToUpper(email)), nil, "").body); len(got) != 0 {
			t.Errorf("upper-cased email: got %v", got)
		}
	})
	t.Run("createdTime filters", func(t *testing.T) {
		d := data[10].(map[string]any)
		ct := d["createdTime"].(string)
		r := f.raw(t, "GET", "/customers?limit=100&createdTime[gte]="+ct, nil, "")
		if got := ids(r.body); strings.Join(got, ",") != strings.Join(every[:11], ",") {
			t.Errorf("gte: got %d ids", len(got))
		}
		r = f.raw(t, "GET", "/customers?createdTime="+ct, nil, "")
		if got := ids(r.body); len(got) != 1 || got[0] != d["id"] {
			t.Errorf("eq: got %v", got)
		}
	})
	t.Run("an absent Accept is fine, */* too", func(t *testing.T) {
		if r := f.raw(t, "GET", "/customers?limit=1", map[string]string{"Accept": "*/*"}, ""); r.status != 200 {
			t.Errorf("status %d", r.status)
		}
	})
}

func TestSimRendersDemoPeople(t *testing.T) {
	f := start(t)
	var p demo.Person
	for _, q := range f.People {
		if _, _, ok := q.Other(ds.DigitalRiver); ok && q.At(ds.DigitalRiver) && q.PaymentSourceID != "" && q.Business {
			p = q
			break
		}
	}
	if p.IDs == nil {
		t.Skip("no business with a payment source at Digital River in the demo world")
	}
	r := f.raw(t, "GET", "/customers/"+p.IDs[ds.DigitalRiver], nil, "")
	if r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	b := r.body
	_, other, _ := p.Other(ds.DigitalRiver)
	sh := b["shipping"].(map[string]any)
	addr := sh["address"].(map[string]any)
	srcs := b["sources"].([]any)
	checks := map[string][2]any{
		"email":        {b["email"], strings.ToLower(p.EmailAt(ds.DigitalRiver))},
		"type":         {b["type"], "business"},
		"locale":       {b["locale"], strings.ReplaceAll(p.Locale, "-", "_")},
		"enabled":      {b["enabled"], true},
		"liveMode":     {b["liveMode"], false},
		"rtbf":         {b["requestToBeForgotten"], false},
		"createdTime":  {b["createdTime"], p.CreatedAt.UTC().Format("2006-01-02T15:04:05Z")},
		"name":         {sh["name"], p.Name()},
		"organization": {sh["organization"], p.Company},
		"phone":        {sh["phone"], p.Phone},
		"country":      {addr["country"], p.Country},
		"crmId":        {b["metadata"].(map[string]any)["crmId"], other},
		"default":      {b["defaultSourceId"], p.PaymentSourceID},
		"source id":    {srcs[0].(map[string]any)["id"], p.PaymentSourceID},
		"source type":  {srcs[0].(map[string]any)["type"], "creditCard"},
	}
	for k, v := range checks {
		if v[0] != v[1] {
			t.Errorf("%s = %v, want %v", k, v[0], v[1])
		}
	}
}

// --- the client ---

func TestConfig(t *testing.T) {
	resttest.CheckConfigs(t, "digitalriver: ", digitalriver.Config.Validate, digitalriver.New, []resttest.ConfigCase[digitalriver.Config]{
		{Name: "no key", Cfg: digitalriver.Config{}, Want: "digitalriver: api_key is required"},
		{Name: "a key with a space", Cfg: digitalriver.Config{APIKey: "sk test"}, Want: "digitalriver: api_key must not contain"},
		{Name: "an ftp base", Cfg: digitalriver.Config{APIKey: "sk", BaseURL: "ftp://x"}, Want: "digitalriver: base_url"},
		{Name: "a relative base", Cfg: digitalriver.Config{APIKey: "sk", BaseURL: "/relative"}, Want: "digitalriver: base_url"},
		{Name: "the default base", Cfg: digitalriver.Config{APIKey: "sk"}, Want: ""},
		{Name: "an explicit base", Cfg: digitalriver.Config{APIKey: "sk", BaseURL: "https://api.digitalriver.com"}, Want: ""},
	})
	a, _ := digitalriver.New(digitalriver.Config{APIKey: "sk_test_secret"}, nil)
	if a.ID() != ds.DigitalRiver || a.Capabilities().LoaderCap != 100 {
		t.Errorf("ID %v LoaderCap %d", a.ID(), a.Capabilities().LoaderCap)
	}
}

func lastQuery(t *testing.T, kit *simkit.Kit) url.Values {
	t.Helper()
	calls := kit.Calls()
	if len(calls) == 0 {
		t.Fatal("no call")
	}
	q, err := url.ParseQuery(calls[len(calls)-1].Query)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestListQuery(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	page, err := f.Client.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	tok := page.Next
	if len(page.Items) != 3 || tok != page.Items[2].ProviderID || page.Total != nil {
		t.Fatalf("page of %d, next %q, total %v", len(page.Items), tok, page.Total)
	}
	email := "Some.One@Example.COM"
	for _, tc := range []struct {
		name string
		req  ds.ListRequest[ds.Filter]
		want url.Values
	}{
		{"no limit is the vendor default", ds.ListRequest[ds.Filter]{}, url.Values{"limit": {"10"}}},
		{"limit is capped at 100", ds.ListRequest[ds.Filter]{Limit: 1000}, url.Values{"limit": {"100"}}},
		{"token is startingAfter", ds.ListRequest[ds.Filter]{Limit: 5, Token: tok}, url.Values{"limit": {"5"}, "startingAfter": {tok}}},
		{"email is not sent: its exact match may not ignore case", ds.ListRequest[ds.Filter]{Limit: 5, Filter: ds.Filter{Email: &email}}, url.Values{"limit": {"5"}}},
		{"search, country, providers and ids are not sent", ds.ListRequest[ds.Filter]{Limit: 5, Filter: ds.Filter{
			Search: resttest.Ptr("an"), Country: []string{"SE"}, Providers: []ds.ProviderID{ds.DigitalRiver},
			IDs: []ds.CustomerKey{{Provider: ds.DigitalRiver, ProviderID: tok}}}}, url.Values{"limit": {"5"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := f.Client.ListCustomers(ctx, tc.req); err != nil {
				t.Fatal(err)
			}
			if got := lastQuery(t, f.Sim.Kit()); got.Encode() != tc.want.Encode() {
				t.Errorf("query = %s, want %s", got.Encode(), tc.want.Encode())
			}
		})
	}
	t.Run("the next page starts right after the token", func(t *testing.T) {
		next, err := f.Client.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Limit: 3, Token: tok})
		if err != nil {
			t.Fatal(err)
		}
		all, _ := f.Client.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Limit: 6})
		for i := range next.Items {
			if next.Items[i].ProviderID != all.Items[3+i].ProviderID {
				t.Errorf("item %d = %s, want %s", i, next.Items[i].ProviderID, all.Items[3+i].ProviderID)
			}
		}
	})
	t.Run("the last page has no next", func(t *testing.T) {
		all, _ := f.Client.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Limit: 100})
		last := all.Items[len(all.Items)-2].ProviderID
		p, err := f.Client.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Limit: 100, Token: last})
		if err != nil || len(p.Items) != 1 || p.Next != "" {
			t.Errorf("items %d next %q err %v", len(p.Items), p.Next, err)
		}
	})
}

func TestBadTokens(t *testing.T) {
	f := start(t)
	resttest.RefusesTokens(t, f.Client, f.Sim.Kit(), []string{strings.Repeat("1", 41), "58\x00", "58\n1", "\xff\xfe"})
	// an id the client cannot judge goes to Digital River, whose 400 is BAD_USER_INPUT
	_, err := f.Client.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Token: "5899999999", Limit: 5})
	if ds.ErrorCode(err) != ds.CodeBadUserInput || !strings.Contains(err.Error(), "startingAfter") {
		t.Errorf("unknown id: %v", err)
	}
	if p, ok := ds.ErrorProvider(err); !ok || p != ds.DigitalRiver {
		t.Errorf("unknown id: error does not name DIGITAL_RIVER: %v", err)
	}
}

func TestFilterAndOrderSupport(t *testing.T) {
	f := start(t)
	for _, fl := range []ds.Filter{{Email: resttest.Ptr("a@b.c")}, {Search: resttest.Ptr("x")}, {Country: []string{"SE"}}} {
		if err := f.Client.Capabilities().CanFilter(fl); err != nil {
			t.Errorf("CanFilter(%+v) = %v", fl, err)
		}
	}
	for _, field := range []ds.OrderField{ds.OrderCreatedAt, ds.OrderUpdatedAt, ds.OrderEmail, ds.OrderName} {
		o := ds.Order{Field: field, Descending: true}
		if err := f.Client.Capabilities().CanOrder(o); ds.ErrorCode(err) != ds.CodeUnsupportedByProvider {
			t.Errorf("CanOrder(%s) = %v", field, err)
		}
		f.Sim.Kit().Reset()
		_, err := f.Client.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 5, Order: &o})
		if ds.ErrorCode(err) != ds.CodeUnsupportedByProvider || f.Sim.Kit().Count() != 0 {
			t.Errorf("ListCustomers ordered by %s: %v after %d calls", field, err, f.Sim.Kit().Count())
		}
	}
}

func TestGetCustomers(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	var known []string
	for _, p := range f.People {
		if id, ok := p.IDs[ds.DigitalRiver]; ok {
			known = append(known, id)
		}
	}
	t.Run("one bulk call, unknown and impossible ids absent", func(t *testing.T) {
		f.Sim.Kit().Reset()
		in := []string{known[0], known[1], known[0], "5899999999", strings.Repeat("9", 41), "", "a\x01b"}
		got, err := f.Client.GetCustomers(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Errorf("got %d customers, want 2", len(got))
		}
		calls := f.Sim.Kit().Calls()
		if len(calls) != 1 {
			t.Fatalf("%d calls, want 1", len(calls))
		}
		q, _ := url.ParseQuery(calls[0].Query)
		if q.Get("ids") != known[0]+","+known[1]+",5899999999" || q.Get("limit") != "100" {
			t.Errorf("query = %s", calls[0].Query)
		}
	})
	t.Run("batches of 100", func(t *testing.T) {
		var many []string
		for i := range 150 {
			many = append(many, "59"+strings.Repeat("0", 7)+string(rune('0'+i%10))+strings.Repeat("x", i/10))
		}
		many = append(many, known...)
		f.Sim.Kit().Reset()
		got, err := f.Client.GetCustomers(ctx, many)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(known) {
			t.Errorf("got %d, want %d", len(got), len(known))
		}
		want := (len(many) + 99) / 100
		if n := f.Sim.Kit().Count(); n != want {
			t.Errorf("%d calls, want %d", n, want)
		}
	})
	t.Run("an id with a comma is looked up alone", func(t *testing.T) {
		f.Sim.Kit().Reset()
		got, err := f.Client.GetCustomers(ctx, []string{known[2], "a,b"})
		if err != nil || len(got) != 1 {
			t.Fatalf("got %d, err %v", len(got), err)
		}
		calls := f.Sim.Kit().Calls()
		if len(calls) != 2 || calls[1].Path != "/customers/a,b" {
			t.Errorf("calls = %+v", calls)
		}
	})
	t.Run("nothing to look up is no call", func(t *testing.T) {
		f.Sim.Kit().Reset()
		got, err := f.Client.GetCustomers(ctx, []string{strings.Repeat("1", 41)})
		if err != nil || len(got) != 0 || f.Sim.Kit().Count() != 0 {
			t.Errorf("got %d err %v calls %d", len(got), err, f.Sim.Kit().Count())
		}
	})
}

func TestMapping(t *testing.T) {
	f := start(t)
	var p demo.Person
	for _, q := range f.People {
		if q.At(ds.DigitalRiver) && q.PaymentSourceID != "" {
			p = q
			break
		}
	}
	if p.IDs == nil {
		t.Fatal("no Digital River customer with a payment source in the demo world")
	}
	got, err := f.Client.GetCustomers(context.Background(), []string{p.IDs[ds.DigitalRiver]})
	if err != nil || len(got) != 1 {
		t.Fatalf("got %d, err %v", len(got), err)
	}
	c := got[0]
	wantType := ds.Individual
	if p.Business {
		wantType = ds.Business
	}
	for name, v := range map[string][2]any{
		"provider": {c.Provider, ds.DigitalRiver},
		"id":       {c.ProviderID, p.IDs[ds.DigitalRiver]},
		"email":    {resttest.Deref(c.Email), strings.ToLower(p.Email)},
		"name":     {resttest.Deref(c.Name), p.Name()},
		"phone":    {resttest.Deref(c.Phone), p.Phone},
		"type":     {*c.Type, wantType},
		"status":   {resttest.Deref(c.Status), "enabled"},
		"locale":   {resttest.Deref(c.Locale), strings.ReplaceAll(p.Locale, "-", "_")},
		"line1":    {resttest.Deref(c.Address.Line1), p.Street1},
		"city":     {resttest.Deref(c.Address.City), p.City},
		"postal":   {resttest.Deref(c.Address.PostalCode), p.PostalCode},
		"country":  {resttest.Deref(c.Address.Country), p.Country},
		"county":   {c.Address.County == nil, true},
		"created":  {*c.CreatedAt, p.CreatedAt.UTC().Truncate(time.Second)},
		"updated":  {*c.UpdatedAt, p.UpdatedAt.UTC().Truncate(time.Second)},
		"utc":      {c.CreatedAt.Location(), time.UTC},
		"refs":     {len(c.Refs), 1},
	} {
		if v[0] != v[1] {
			t.Errorf("%s = %v, want %v", name, v[0], v[1])
		}
	}
	if _, other, ok := p.Other(ds.DigitalRiver); ok && c.Metadata["crmId"] != other {
		t.Errorf("metadata = %v, want crmId %s", c.Metadata, other)
	}
	r := c.Refs[0]
	if r.Kind != ds.SourcePayment || r.SourceID != p.PaymentSourceID || r.SourceName != "creditCard" ||
		len(r.ExternalIDs) != 1 || r.ExternalIDs[0] != p.PaymentSourceID {
		t.Errorf("ref = %+v", r)
	}
	var raw map[string]any
	if err := json.Unmarshal(c.Raw, &raw); err != nil || raw["id"] != c.ProviderID || raw["liveMode"] != false {
		t.Errorf("raw = %s", c.Raw)
	}
	srcs := ds.RefSources(c)
	if len(srcs) != 1 || srcs[0].RecordID != p.PaymentSourceID || srcs[0].CustomerID != c.ProviderID {
		t.Errorf("RefSources = %+v", srcs)
	}
}

func TestWriteRoundTrip(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	biz := ds.Business
	in := ds.CustomerInput{
		Email:    resttest.Ptr("New.Person@Example.com"),
		Name:     resttest.Ptr("New Person AB"),
		Phone:    resttest.Ptr("+46700000001"),
		Type:     &biz,
		Locale:   resttest.Ptr("sv-SE"),
		Address:  &ds.Address{Line1: resttest.Ptr("1 Storgatan"), City: resttest.Ptr("Stockholm"), PostalCode: resttest.Ptr("11122"), Country: resttest.Ptr("se"), County: resttest.Ptr("Stockholms län")},
		Metadata: map[string]any{"crmId": "abc", "vip": true, "tier": 2},
	}
	f.Sim.Kit().Reset()
	created, err := f.Client.CreateCustomer(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	call := f.Sim.Kit().Calls()[0]
	if call.Method != "POST" || call.Path != "/customers" {
		t.Errorf("create call = %+v", call)
	}
	var raw map[string]any
	_ = json.Unmarshal(created.Raw, &raw)
	if raw["locale"] != "sv_SE" || raw["type"] != "business" {
		t.Errorf("raw = %s", created.Raw)
	}
	if created.ProviderID == "" || resttest.Deref(created.Name) != "New Person AB" || resttest.Deref(created.Locale) != "sv_SE" ||
		*created.Type != ds.Business || resttest.Deref(created.Address.Country) != "SE" || resttest.Deref(created.Phone) != "+46700000001" ||
		created.Metadata["vip"] != true || created.Metadata["tier"] != float64(2) || resttest.Deref(created.Status) != "enabled" {
		t.Errorf("created = %+v (raw %s)", created, created.Raw)
	}
	id := created.ProviderID

	got, err := f.Client.GetCustomers(ctx, []string{id})
	if err != nil || len(got) != 1 || resttest.Deref(got[0].Email) != "New.Person@Example.com" {
		t.Fatalf("get after create: %v %v", got, err)
	}
	page, err := f.Client.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Limit: 1})
	if err != nil || page.Items[0].ProviderID != id {
		t.Errorf("the newest customer is not first: %v", err)
	}
	byEmail := ds.Filter{Email: resttest.Ptr("NEW.PERSON@example.com")}
	page, err = f.Client.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Limit: 5, Filter: byEmail})
	var matched []string
	for _, c := range page.Items {
		if byEmail.Match(c) {
			matched = append(matched, c.ProviderID)
		}
	}
	if err != nil || len(matched) != 1 || matched[0] != id {
		t.Errorf("email filter after create: matched %v, %v", matched, err)
	}

	// update only the name: the address and the rest of shipping stay
	updated, err := f.Client.UpdateCustomer(ctx, id, ds.CustomerInput{Name: resttest.Ptr("Renamed AB")})
	if err != nil {
		t.Fatal(err)
	}
	if resttest.Deref(updated.Name) != "Renamed AB" || resttest.Deref(updated.Phone) != "+46700000001" || updated.Address == nil ||
		resttest.Deref(updated.Address.City) != "Stockholm" || resttest.Deref(updated.Email) != "New.Person@Example.com" {
		t.Errorf("after name update: %s", updated.Raw)
	}
	// update the type and locale only: no read first, shipping untouched
	f.Sim.Kit().Reset()
	ind := ds.Individual
	updated, err = f.Client.UpdateCustomer(ctx, id, ds.CustomerInput{Type: &ind, Locale: resttest.Ptr("en-us")})
	if err != nil {
		t.Fatal(err)
	}
	if n := f.Sim.Kit().Count(); n != 1 {
		t.Errorf("%d calls for an update without shipping fields, want 1", n)
	}
	if *updated.Type != ds.Individual || resttest.Deref(updated.Locale) != "en_US" || resttest.Deref(updated.Name) != "Renamed AB" {
		t.Errorf("after type update: %s", updated.Raw)
	}
	// a new address replaces the old one as a unit
	updated, err = f.Client.UpdateCustomer(ctx, id, ds.CustomerInput{Address: &ds.Address{City: resttest.Ptr("Brno"), Country: resttest.Ptr("CZ")}})
	if err != nil {
		t.Fatal(err)
	}
	if resttest.Deref(updated.Address.City) != "Brno" || updated.Address.Line1 != nil || resttest.Deref(updated.Name) != "Renamed AB" {
		t.Errorf("after address update: %s", updated.Raw)
	}
	// the vendor's validation message reaches the caller
	_, err = f.Client.UpdateCustomer(ctx, id, ds.CustomerInput{Locale: resttest.Ptr("swedish")})
	if ds.ErrorCode(err) != ds.CodeBadUserInput || !strings.Contains(err.Error(), "not a valid locale") {
		t.Errorf("bad locale: %v", err)
	}

	if err := f.Client.DeleteCustomer(ctx, id); err != nil {
		t.Fatal(err)
	}
	got, err = f.Client.GetCustomers(ctx, []string{id})
	if err != nil || len(got) != 0 {
		t.Errorf("after delete: %d customers, %v", len(got), err)
	}
	if err := f.Client.DeleteCustomer(ctx, id); ds.ErrorCode(err) != ds.CodeNotFound {
		t.Errorf("second delete: %v", err)
	}
	if _, err := f.Client.UpdateCustomer(ctx, id, ds.CustomerInput{Name: resttest.Ptr("x")}); ds.ErrorCode(err) != ds.CodeNotFound {
		t.Errorf("update after delete: %v", err)
	}
	if _, err := f.Client.UpdateCustomer(ctx, id, ds.CustomerInput{Locale: resttest.Ptr("en-US")}); ds.ErrorCode(err) != ds.CodeNotFound {
		t.Errorf("update without read after delete: %v", err)
	}
	resttest.RefusesIDs(t, f.Client, f.Sim.Kit().Count, []string{"", strings.Repeat("1", 41), "a/b", ".."})
}

func TestAttachDetach(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	page, err := f.Client.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var cust *ds.Customer
	for _, c := range page.Items {
		if len(c.Refs) == 0 {
			cust = c
			break
		}
	}
	if cust == nil {
		t.Fatal("no customer without sources")
	}
	const srcID = "0b9c8d7e-6f5a-4b3c-9d2e-1f0a9b8c7d6e"
	if err := f.Sim.AddSource(srcID, "payPal"); err != nil {
		t.Fatal(err)
	}
	src, err := f.Client.AttachSource(ctx, cust.ProviderID, srcID)
	if err != nil {
		t.Fatal(err)
	}
	if src.Provider != ds.DigitalRiver || src.Kind != ds.SourcePayment || src.RecordID != srcID || src.SourceID != srcID ||
		src.CustomerID != cust.ProviderID || resttest.Deref(src.SourceName) != "payPal" || len(src.ExternalIDs) != 1 ||
		src.ExternalIDs[0] != srcID || len(src.Raw) == 0 {
		t.Errorf("source = %+v", src)
	}
	var raw map[string]any
	if err := json.Unmarshal(src.Raw, &raw); err != nil || raw["state"] != "chargeable" || raw["flow"] != "standard" {
		t.Errorf("raw source = %s", src.Raw)
	}
	got, _ := f.Client.GetCustomers(ctx, []string{cust.ProviderID})
	refs := ds.RefSources(got[0])
	if len(refs) != 1 || refs[0].NodeID() != src.NodeID() {
		t.Errorf("after attach the customer's sources are %+v", refs)
	}
	// attaching it elsewhere is a conflict
	other := page.Items[0].ProviderID
	if other == cust.ProviderID {
		other = page.Items[1].ProviderID
	}
	if _, err := f.Client.AttachSource(ctx, other, srcID); ds.ErrorCode(err) != ds.CodeBadUserInput {
		t.Errorf("attach to a second customer: %v", err)
	}
	if err := f.Client.DetachSource(ctx, cust.ProviderID, srcID); err != nil {
		t.Fatal(err)
	}
	got, _ = f.Client.GetCustomers(ctx, []string{cust.ProviderID})
	if len(got[0].Refs) != 0 {
		t.Errorf("after detach: refs %+v", got[0].Refs)
	}
	if err := f.Client.DetachSource(ctx, cust.ProviderID, srcID); ds.ErrorCode(err) != ds.CodeNotFound {
		t.Errorf("second detach: %v", err)
	}
	if _, err := f.Client.AttachSource(ctx, cust.ProviderID, "00000000-0000-4000-a000-000000000000"); ds.ErrorCode(err) != ds.CodeNotFound {
		t.Errorf("attach an unknown source: %v", err)
	}
	if _, err := f.Client.AttachSource(ctx, "5899999999", srcID); ds.ErrorCode(err) != ds.CodeNotFound {
		t.Errorf("attach to an unknown customer: %v", err)
	}
	f.Sim.Kit().Reset()
	for _, tc := range [][2]string{{cust.ProviderID, "not-a-uuid"}, {cust.ProviderID, ""}, {"", srcID}, {"a/b", srcID}} {
		if _, err := f.Client.AttachSource(ctx, tc[0], tc[1]); ds.ErrorCode(err) != ds.CodeBadUserInput {
			t.Errorf("attach %q: %v", tc, err)
		}
		if err := f.Client.DetachSource(ctx, tc[0], tc[1]); ds.ErrorCode(err) != ds.CodeBadUserInput {
			t.Errorf("detach %q: %v", tc, err)
		}
	}
	if n := f.Sim.Kit().Count(); n != 0 {
		t.Errorf("%d calls for ids rejected locally", n)
	}
	if err := f.Sim.AddSource("nope", ""); err == nil {
		t.Error("AddSource accepted a non-uuid")
	}
}

func TestVendorErrors(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	t.Run("messages are joined, never the whole body", func(t *testing.T) {
		f.Sim.Kit().Inject(simkit.Fault{Status: 400, Message: "Limit is wrong"})
		_, err := f.Client.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Limit: 5})
		if ds.ErrorCode(err) != ds.CodeInternal || !strings.Contains(err.Error(), "Limit is wrong") ||
			strings.Contains(err.Error(), "bad_request") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("the injected 429 carries the DR body and Retry-After", func(t *testing.T) {
		hdr := http.Header{}
		hdr.Set("Retry-After", "7")
		f.Sim.Kit().Inject(simkit.Fault{Status: 429, Message: "Too many requests", Header: hdr})
		r := f.raw(t, "GET", "/customers", nil, "")
		typ, code, _ := errInfo(r.body)
		if r.status != 429 || typ != "too_many_requests" || code != "too_many_requests" || r.header.Get("Retry-After") != "7" {
			t.Errorf("%d %s %s %q", r.status, typ, code, r.header.Get("Retry-After"))
		}
	})
	t.Run("bad gateway credentials are PROVIDER_UNAVAILABLE, reason PROVIDER_AUTH", func(t *testing.T) {
		c, err := digitalriver.New(digitalriver.Config{BaseURL: f.Srv.URL, APIKey: "sk_test_wrong"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.GetCustomers(ctx, []string{"5823594809"})
		if ds.ErrorCode(err) != ds.CodeProviderUnavailable || ds.ErrorReason(err) != ds.ReasonProviderAuth || strings.Contains(err.Error(), "sk_test_wrong") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("a create carries the id it makes, so it is retried and made once", func(t *testing.T) {
		f.Sim.Kit().Reset()
		f.Sim.Kit().Inject(simkit.Fault{Status: 503, Message: "down"})
		cu, err := f.Client.CreateCustomer(ctx, ds.CustomerInput{Email: resttest.Ptr("x@example.com")})
		if err != nil || f.Sim.Kit().Count() != 2 || !strings.HasPrefix(cu.ProviderID, "gw") {
			t.Errorf("customer %+v, err %v after %d calls; want it made on the retry", cu, err, f.Sim.Kit().Count())
		}
		n := 0
		for _, e := range f.Sim.Emails() {
			if e == "x@example.com" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("the simulator holds %d customers with the email, want 1", n)
		}
	})
}

func TestUnreadableResponses(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"neither hasMore nor data", `{}`},
		{"a record without an id", `{"hasMore":false,"data":[{"email":"a@b.c"}]}`},
		{"more promised but nothing sent", `{"hasMore":true,"data":[]}`},
		{"not JSON", `<html>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, tc.body)
			}))
			t.Cleanup(srv.Close)
			c, err := digitalriver.New(digitalriver.Config{BaseURL: srv.URL, APIKey: "sk_test_x"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 5})
			if ds.ErrorCode(err) != ds.CodeProviderUnavailable {
				t.Errorf("err = %v, want PROVIDER_UNAVAILABLE", err)
			}
			if p, ok := ds.ErrorProvider(err); !ok || p != ds.DigitalRiver {
				t.Errorf("err %v does not name DIGITAL_RIVER", err)
			}
		})
	}
}

// Reading backward from any position gives the records a forward walk put
// before it, in order, and costs two calls when the position has records
// after its token (the token's own record needs no lookup then).
func TestListBeforeMatchesTheForwardWalk(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	var all []string
	for tok := ""; ; {
		p, err := f.Client.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Limit: 7, Token: tok})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range p.Items {
			all = append(all, c.ProviderID)
		}
		if tok = p.Next; tok == "" {
			break
		}
	}
	for _, tc := range []struct {
		name        string
		token       string
		skip, limit int
		end         int // index in all right after the position
		calls       int
	}{
		{"from inside a page", all[9], 3, 5, 13, 2},
		{"more than the tail", all[20], 2, 10, 23, 2},
		{"right after a record", all[9], 0, 4, 10, 2},
		{"from the start of the list", "", 6, 4, 6, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.Sim.Kit().Reset()
			items, _, _, _, err := f.Client.ListBefore(ctx, ds.Filter{}, tc.token, tc.skip, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range items {
				got = append(got, c.ProviderID)
			}
			if want := all[tc.end-tc.limit : tc.end]; strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("got %v, want %v", got, want)
			}
			if n := f.Sim.Kit().Count(); n != tc.calls {
				t.Errorf("%d calls, want %d", n, tc.calls)
			}
		})
	}
	// A before cursor naming a customer that is gone is the caller's bad input.
	_, _, _, _, err := f.Client.ListBefore(ctx, ds.Filter{}, "5899999999", 2, 5)
	if ds.ErrorCode(err) != ds.CodeBadUserInput || !strings.Contains(err.Error(), "startingAfter") {
		t.Errorf("unknown token: %v, want BAD_USER_INPUT naming startingAfter", err)
	}
}

// --- what the docs promise and no more ---

// walkMatching walks the whole list with f and keeps what f matches, as the
// federation layer does (it post-filters every page).
func walkMatching(t *testing.T, c *digitalriver.Client, f ds.Filter) []string {
	t.Helper()
	var out []string
	for tok := ""; ; {
		p, err := c.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 100, Token: tok, Filter: f})
		if err != nil {
			t.Fatal(err)
		}
		for _, cu := range p.Items {
			if f.Match(cu) {
				out = append(out, cu.ProviderID)
			}
		}
		if tok = p.Next; tok == "" {
			return out
		}
	}
}

// Digital River's email parameter is an exact match and its docs do not say
// it folds case: a record stored in mixed case is found whatever the case of
// the (case-insensitive) federated filter.
func TestEmailFilterFindsARecordStoredInAnyCase(t *testing.T) {
	f := start(t)
	const stored = "Mixed.Case@Example.com"
	r := f.raw(t, "POST", "/customers", nil, `{"email":"`+stored+`"}`)
	if r.status != 201 {
		t.Fatalf("create: %d %v", r.status, r.body)
	}
	id, _ := r.body["id"].(string)
	for _, tc := range []struct{ name, email string }{
		{"lower case", strings.ToLower(stored)},
		{"upper case", strings.ToUpper(stored)},
		{"as stored", stored},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := walkMatching(t, f.Client, ds.Filter{Email: resttest.Ptr(tc.email)})
			if len(got) != 1 || got[0] != id {
				t.Errorf("got %v, want [%s]", got, id)
			}
		})
	}
}

// ids is form style, explode=false: the ids are separated by literal commas,
// and an encoded comma (%2C) is part of one id.
func TestIDsAreSeparatedByLiteralCommas(t *testing.T) {
	f := start(t)
	every := ids(f.raw(t, "GET", "/customers?limit=3", nil, "").body)
	t.Run("the client sends literal commas", func(t *testing.T) {
		f.Sim.Kit().Reset()
		got, err := f.Client.GetCustomers(context.Background(), every)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(every) {
			t.Errorf("found %d of %d customers", len(got), len(every))
		}
		calls := f.Sim.Kit().Calls()
		if len(calls) != 1 || !strings.Contains(calls[0].Query, "ids="+strings.Join(every, ",")) {
			t.Errorf("calls = %+v, want one with ids=%s", calls, strings.Join(every, ","))
		}
	})
	for _, tc := range []struct {
		name, ids string
		want      int
	}{
		{"the simulator splits on literal commas", every[0] + "," + every[1], 2},
		{"the simulator reads an encoded comma as part of an id", every[0] + "%2C" + every[1], 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.raw(t, "GET", "/customers?ids="+tc.ids, nil, "")
			if r.status != 200 || len(ids(r.body)) != tc.want {
				t.Errorf("status %d, ids %v, want %d", r.status, ids(r.body), tc.want)
			}
		})
	}
}

// recorded is one request a recorder saw.
type recorded struct{ method, path, contentType, body string }

// recorder serves h and keeps each request's method, path, Content-Type and body.
type recorder struct {
	h    http.Handler
	mu   sync.Mutex
	reqs []recorded
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, recorded{r.Method, r.URL.Path, r.Header.Get("Content-Type"), string(b)})
	rc.mu.Unlock()
	rc.h.ServeHTTP(w, r)
}

func (rc *recorder) take() []recorded {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := rc.reqs
	rc.reqs = nil
	return out
}

// Digital River documents Content-Type: application/json on every request;
// a POST carries a JSON object (a JSON parser given that type and no body
// fails), bodiless methods carry none.
func TestEveryRequestCarriesJSONContentType(t *testing.T) {
	s := sim.New(providertest.People())
	rec := &recorder{h: s}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	c, err := digitalriver.New(s.ClientConfig(srv.URL), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	src := s.FreeSources()[0]
	var id string
	for _, tc := range []struct {
		name string
		do   func() error
	}{
		{"list", func() error { _, err := c.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Limit: 5}); return err }},
		{"create", func() error {
			cu, err := c.CreateCustomer(ctx, ds.CustomerInput{Email: resttest.Ptr("ct@example.com")})
			if err == nil {
				id = cu.ProviderID
			}
			return err
		}},
		{"bulk lookup", func() error { _, err := c.GetCustomers(ctx, []string{id}); return err }},
		{"lookup of an id with a comma", func() error { _, err := c.GetCustomers(ctx, []string{"a,b"}); return err }},
		{"update that reads first", func() error {
			_, err := c.UpdateCustomer(ctx, id, ds.CustomerInput{Name: resttest.Ptr("CT")})
			return err
		}},
		{"attach", func() error { _, err := c.AttachSource(ctx, id, src); return err }},
		{"detach", func() error { return c.DetachSource(ctx, id, src) }},
		{"list before", func() error { _, _, _, _, err := c.ListBefore(ctx, ds.Filter{}, id, 0, 3); return err }},
		{"delete", func() error { return c.DeleteCustomer(ctx, id) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec.take()
			if err := tc.do(); err != nil {
				t.Fatal(err)
			}
			for _, r := range rec.take() {
				if r.contentType != "application/json" {
					t.Errorf("%s %s: Content-Type %q", r.method, r.path, r.contentType)
				}
				var obj map[string]any
				if r.method == http.MethodPost && json.Unmarshal([]byte(r.body), &obj) != nil {
					t.Errorf("%s %s: body %q is not a JSON object", r.method, r.path, r.body)
				}
				if r.method != http.MethodPost && r.body != "" {
					t.Errorf("%s %s: body %q", r.method, r.path, r.body)
				}
			}
		})
	}
}

// serveList is a Digital River stand-in that answers GET /customers with
// body, and a list with a cursor with status (a DR Errors body) when status
// is not 0.
func serveList(t *testing.T, status int, body string) *digitalriver.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if status != 0 && (q.Has("startingAfter") || q.Has("endingBefore")) {
			w.WriteHeader(status)
			_, _ = io.WriteString(w, `{"type":"not_found","errors":[{"code":"not_found","parameter":"startingAfter","message":"Customer 'c9' not found."}]}`)
			return
		}
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	c, err := digitalriver.New(digitalriver.Config{BaseURL: srv.URL, APIKey: "sk_test_x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The spec marks hasMore optional: without it (or null) a full page may have
// more after it and a short page ends the list.
func TestAListWithoutHasMore(t *testing.T) {
	const two = `[{"id":"c1"},{"id":"c2"}]`
	for _, tc := range []struct {
		name, body   string
		limit, items int
		next         string
	}{
		{"a full page may have more", `{"data":` + two + `}`, 2, 2, "c2"},
		{"a short page ends the list", `{"data":` + two + `}`, 5, 2, ""},
		{"hasMore null is hasMore absent", `{"hasMore":null,"data":` + two + `}`, 2, 2, "c2"},
		{"an empty page ends the list", `{"data":[]}`, 2, 0, ""},
		{"hasMore false ends even a full page", `{"hasMore":false,"data":` + two + `}`, 2, 2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := serveList(t, 0, tc.body)
			p, err := c.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: tc.limit})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Items) != tc.items || p.Next != tc.next {
				t.Errorf("%d items, next %q, want %d and %q", len(p.Items), p.Next, tc.items, tc.next)
			}
		})
	}
}

// The docs leave open how an unknown cursor id is answered: a 400 (what the
// simulator does) or a 404 both say the caller's cursor is stale.
func TestAnUnknownCursorIsTheCallersBadInput(t *testing.T) {
	for _, status := range []int{400, 404} {
		c := serveList(t, status, `{"hasMore":false,"data":[{"id":"c9"}]}`)
		for _, tc := range []struct {
			name string
			do   func() error
		}{
			{"startingAfter", func() error {
				_, err := c.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 5, Token: "c9"})
				return err
			}},
			{"endingBefore", func() error {
				_, _, _, _, err := c.ListBefore(context.Background(), ds.Filter{}, "c9", 0, 5)
				return err
			}},
		} {
			t.Run(fmt.Sprintf("%s answered %d", tc.name, status), func(t *testing.T) {
				err := tc.do()
				if ds.ErrorCode(err) != ds.CodeBadUserInput || !strings.Contains(err.Error(), "not found") {
					t.Errorf("err = %v, want BAD_USER_INPUT with the vendor's message", err)
				}
			})
		}
	}
}

// Reading backward from the end of the list to its start, limit records at a
// time, gives the forward walk; a limit a little over MaxLimit (the backward
// walk asks for last+2) is read in pages Digital River accepts and never
// mistaken for the start of the list.
func TestReadingBackToTheStartGivesTheForwardWalk(t *testing.T) {
	s := sim.New(demo.People(demo.DefaultSize))
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c, err := digitalriver.New(s.ClientConfig(srv.URL), nil)
	if err != nil {
		t.Fatal(err)
	}
	forward := walkMatching(t, c, ds.Filter{})
	if len(forward) <= digitalriver.MaxLimit+2 {
		t.Fatalf("only %d customers: too few to read past one page", len(forward))
	}
	for _, limit := range []int{7, digitalriver.MaxLimit, digitalriver.MaxLimit + 2} {
		t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
			var got []string
			pos := ds.Position{Token: forward[len(forward)-1]}
			for reads := 0; ; reads++ {
				if reads > len(forward) {
					t.Fatal("no end")
				}
				items, _, start, atStart, err := c.ListBefore(context.Background(), ds.Filter{}, pos.Token, pos.Skip, limit)
				if err != nil {
					t.Fatal(err)
				}
				if len(items) > limit {
					t.Fatalf("%d items for limit %d", len(items), limit)
				}
				page := make([]string, 0, len(items))
				for _, cu := range items {
					page = append(page, cu.ProviderID)
				}
				got = append(page, got...)
				if atStart {
					break
				}
				pos = start
			}
			if strings.Join(got, ",") != strings.Join(forward, ",") {
				t.Errorf("read back %d customers, want the %d of the forward walk in its order", len(got), len(forward))
			}
			for _, call := range s.Kit().Calls() {
				q, _ := url.ParseQuery(call.Query)
				if n, _ := strconv.Atoi(q.Get("limit")); n > digitalriver.MaxLimit {
					t.Fatalf("sent limit %d", n)
				}
			}
		})
	}
}

func TestMalformedRecords(t *testing.T) {
	const a, b = `{ "id" : "cus_a",	"email":"ann@example.com", "metadata":{"k":"v"} }`, `{"id":"cus_b","enabled":true}`
	const bad = "DIGITAL_RIVER: PROVIDER_UNAVAILABLE: the provider sent a response this gateway cannot read: digitalriver: "
	resttest.RecordCases(t, `{"hasMore":false,"data":ITEMS}`, func(url string) digitalriver.Config { return digitalriver.Config{BaseURL: url, APIKey: "sk_test_x"} }, digitalriver.New, []providertest.RecordCase{
		{Name: "records as sent", Items: "[ " + a + " ,\n" + b + "]", Raws: []string{a, b}},
		{Name: "a number", Items: `[` + a + `,1]`, Err: bad + "a customer record that is not a JSON object: json: cannot unmarshal number into Go value of type digitalriver.wireCustomer"},
		{Name: "a string", Items: `["cus_a"]`, Err: bad + "a customer record that is not a JSON object: json: cannot unmarshal string into Go value of type digitalriver.wireCustomer"},
		{Name: "null", Items: `[null]`, Err: bad + "a customer record without an id"},
		{Name: "an id that is a number", Items: `[{"id":5}]`, Err: bad + "a customer record that is not a JSON object: json: cannot unmarshal number into Go struct field wireCustomer.id of type string"},
		{Name: "metadata not an object", Items: `[{"id":"cus_a","metadata":[]}]`, Err: bad + "a customer record that is not a JSON object: json: cannot unmarshal array into Go struct field wireCustomer.metadata of type map[string]interface {}"},
		{Name: "no id", Items: `[{"email":"x@y.z"}]`, Err: bad + "a customer record without an id"},
		{Name: "data not an array", Items: `{}`, Err: "DIGITAL_RIVER: PROVIDER_UNAVAILABLE: the provider sent a response this gateway cannot read: json: cannot unmarshal object into Go struct field listResponse.data of type *"},
		{Name: "data null", Items: `null`, Raws: nil},
	})
}

// BenchmarkListCustomers is one full page (MaxLimit) of GET /customers.
func BenchmarkListCustomers(b *testing.B) {
	resttest.BenchList(b, sim.New(demo.People(demo.DefaultSize)), digitalriver.MaxLimit, "/customers", digitalriver.New, digitalriver.DecodePage)
}
