package commercelayer_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/commercelayer"
	"github.com/federated-customers/gateway/datasource/commercelayer/sim"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/providertest"
	"github.com/federated-customers/gateway/datasource/rest/resttest"
	"github.com/federated-customers/gateway/datasource/simkit"
)

// configFor picks a credential form for a simulator at a server URL.
type configFor func(s *sim.Sim, serverURL string) commercelayer.Config

var (
	clientCredentials configFor = (*sim.Sim).ClientConfig
	staticToken       configFor = (*sim.Sim).ClientConfigToken
)

type fixture struct {
	*resttest.Fixture[*sim.Sim, *commercelayer.Client]
}

// start serves a simulator over real HTTP and builds a client with cfg.
func start(t *testing.T, cfg configFor) *fixture {
	t.Helper()
	return &fixture{resttest.NewFixture(t, sim.New, cfg, nil, commercelayer.New)}
}

// clIDs are the demo world's Commerce Layer ids, in the simulator's default order (created_at).
func (f *fixture) clIDs() []string {
	ps := f.At(ds.CommerceLayer)
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].CreatedAt.Before(ps[j].CreatedAt) })
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.IDs[ds.CommerceLayer]
	}
	return out
}

func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		good configFor
		bad  func(c commercelayer.Config) commercelayer.Config
	}{
		{"client credentials", clientCredentials, func(c commercelayer.Config) commercelayer.Config {
			c.ClientSecret = "wrong"
			return c
		}},
		{"static access token", staticToken, func(c commercelayer.Config) commercelayer.Config {
			c.AccessToken = "wrong"
			return c
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			providertest.Run(t, providertest.Harness{
				Provider: ds.CommerceLayer,
				Start: func(t *testing.T, people []demo.Person, o providertest.Options) (ds.CustomerProvider, *simkit.Kit) {
					s := sim.New(people)
					c, _ := resttest.Start(t, s, func(u string) commercelayer.Config { return tc.good(s, u) },
						resttest.Spoil(o, func(c *commercelayer.Config) { *c = tc.bad(*c) }), commercelayer.New)
					return c, s.Kit()
				},
				ValidationStatus: http.StatusBadRequest,
				RetryAfterHeader: false,
			})
		})
	}
}

// --- the simulator, over raw HTTP ---

type rawResp struct {
	status int
	header http.Header
	body   map[string]any
}

// goodHeaders are what a correct read sends.
func goodHeaders() map[string]string {
	return map[string]string{"Accept": commercelayer.MediaType, "Authorization": "Bearer " + sim.AccessToken}
}

// raw sends a request straight to the simulator; hdr entries with "" remove a header.
func (f *fixture) raw(t *testing.T, method, path string, hdr map[string]string, body string) rawResp {
	t.Helper()
	h := goodHeaders()
	if body != "" {
		h["Content-Type"] = commercelayer.MediaType
	}
	r := resttest.Call(t, method, f.Srv.URL+path, resttest.Headers(h, hdr), body)
	return rawResp{status: r.Status, header: r.Header, body: r.Object(t)}
}

// errInfo returns errors[0].code, .status (a string in CL's body) and .source.pointer.
func errInfo(b map[string]any) (code string, status any, pointer string) {
	errs, _ := b["errors"].([]any)
	if len(errs) == 0 {
		return "", nil, ""
	}
	e, _ := errs[0].(map[string]any)
	code, _ = e["code"].(string)
	if src, ok := e["source"].(map[string]any); ok {
		pointer, _ = src["pointer"].(string)
	}
	return code, e["status"], pointer
}

func dataIDs(b map[string]any) []string {
	return resttest.IDs(b, "data", "id")
}

func TestSimRejects(t *testing.T) {
	f := start(t, staticToken)
	id := f.clIDs()[0]
	// a token issued and then expired
	tok := f.fetchToken(t)
	f.Sim.ExpireTokens()
	jsonCT := map[string]string{"Content-Type": commercelayer.MediaType}
	for _, tc := range []struct {
		name, method, path string
		hdr                map[string]string
		body               string
		status             int
		code, pointer      string
	}{
		{"missing Accept is 406", "GET", "/api/customers", map[string]string{"Accept": ""}, "", 406, "NOT_ACCEPTABLE", ""},
		{"plain JSON Accept is 406", "GET", "/api/customers", map[string]string{"Accept": "application/json"}, "", 406, "NOT_ACCEPTABLE", ""},
		{"Accept with media type parameters is 406", "GET", "/api/customers", map[string]string{"Accept": commercelayer.MediaType + "; ext=bulk"}, "", 406, "NOT_ACCEPTABLE", ""},
		{"no token is 401", "GET", "/api/customers", map[string]string{"Authorization": ""}, "", 401, "UNAUTHORIZED", ""},
		{"bad token is 401", "GET", "/api/customers", map[string]string{"Authorization": "Bearer nope"}, "", 401, "UNAUTHORIZED", ""},
		{"expired token is 401", "GET", "/api/customers", map[string]string{"Authorization": "Bearer " + tok}, "", 401, "UNAUTHORIZED", ""},
		{"basic auth is 401", "GET", "/api/customers", map[string]string{"Authorization": "Basic " + sim.AccessToken}, "", 401, "UNAUTHORIZED", ""},
		{"page[size]=26 is INVALID_PAGE_VALUE", "GET", "/api/customers?page%5Bsize%5D=26", nil, "", 400, "INVALID_PAGE_VALUE", ""},
		{"page[size]=0 is INVALID_PAGE_VALUE", "GET", "/api/customers?page%5Bsize%5D=0", nil, "", 400, "INVALID_PAGE_VALUE", ""},
		{"page[size] not a number is INVALID_PAGE_VALUE", "GET", "/api/customers?page%5Bsize%5D=ten", nil, "", 400, "INVALID_PAGE_VALUE", ""},
		{"page[number]=0 is INVALID_PAGE_VALUE", "GET", "/api/customers?page%5Bnumber%5D=0", nil, "", 400, "INVALID_PAGE_VALUE", ""},
		{"page[number]=-1 is INVALID_PAGE_VALUE", "GET", "/api/customers?page%5Bnumber%5D=-1", nil, "", 400, "INVALID_PAGE_VALUE", ""},
		{"unknown sort is INVALID_SORT_CRITERIA", "GET", "/api/customers?sort=shoe_size", nil, "", 400, "INVALID_SORT_CRITERIA", ""},
		{"sort with a space is INVALID_SORT_CRITERIA", "GET", "/api/customers?sort=email,%20id", nil, "", 400, "INVALID_SORT_CRITERIA", ""},
		{"unknown filter attribute is FILTER_NOT_ALLOWED", "GET", "/api/customers?filter%5Bq%5D%5Bshoe_size_eq%5D=9", nil, "", 400, "FILTER_NOT_ALLOWED", ""},
		{"unknown predicate is FILTER_NOT_ALLOWED", "GET", "/api/customers?filter%5Bq%5D%5Bemail_like%5D=a", nil, "", 400, "FILTER_NOT_ALLOWED", ""},
		{"filter outside q is FILTER_NOT_ALLOWED", "GET", "/api/customers?filter%5Bemail%5D=a", nil, "", 400, "FILTER_NOT_ALLOWED", ""},
		{"a time filter needs a time", "GET", "/api/customers?filter%5Bq%5D%5Bcreated_at_gt%5D=yesterday", nil, "", 400, "INVALID_FILTER_VALUE", ""},
		{"unknown parameter is PARAM_NOT_ALLOWED", "GET", "/api/customers?limit=5", nil, "", 400, "PARAM_NOT_ALLOWED", ""},
		{"unknown include is INVALID_INCLUDE", "GET", "/api/customers?include=shoes", nil, "", 400, "INVALID_INCLUDE", ""},
		{"unknown field is INVALID_FIELD", "GET", "/api/customers?fields%5Bcustomers%5D=email,shoe_size", nil, "", 400, "INVALID_FIELD", ""},
		{"unknown id is RECORD_NOT_FOUND", "GET", "/api/customers/ZZZZZZZZZZ", nil, "", 404, "RECORD_NOT_FOUND", ""},
		{"unknown resource is 404", "GET", "/api/orders", nil, "", 404, "RECORD_NOT_FOUND", ""},
		{"outside /api is 404", "GET", "/customers", nil, "", 404, "RECORD_NOT_FOUND", ""},
		{"PUT is 405", "PUT", "/api/customers/" + id, nil, "", 405, "METHOD_NOT_ALLOWED", ""},
		{"DELETE on the list is 405", "DELETE", "/api/customers", nil, "", 405, "METHOD_NOT_ALLOWED", ""},
		{"write without Content-Type is 415", "POST", "/api/customers", map[string]string{"Content-Type": ""}, `{"data":{"type":"customers","attributes":{"email":"x@example.com"}}}`, 415, "UNSUPPORTED_MEDIA_TYPE", ""},
		{"write as plain JSON is 415", "POST", "/api/customers", map[string]string{"Content-Type": "application/json"}, `{"data":{"type":"customers","attributes":{"email":"x@example.com"}}}`, 415, "UNSUPPORTED_MEDIA_TYPE", ""},
		{"PATCH without Content-Type is 415", "PATCH", "/api/customers/" + id, map[string]string{"Content-Type": ""}, `{"data":{"type":"customers","id":"` + id + `","attributes":{}}}`, 415, "UNSUPPORTED_MEDIA_TYPE", ""},
		{"PATCH with another id is KEY_NOT_INCLUDED_IN_URL", "PATCH", "/api/customers/" + id, jsonCT, `{"data":{"type":"customers","id":"AAAAAAAAAA","attributes":{}}}`, 400, "KEY_NOT_INCLUDED_IN_URL", ""},
		{"PATCH without an id is KEY_NOT_INCLUDED_IN_URL", "PATCH", "/api/customers/" + id, jsonCT, `{"data":{"type":"customers","attributes":{}}}`, 400, "KEY_NOT_INCLUDED_IN_URL", ""},
		{"PATCH of an unknown id is RECORD_NOT_FOUND", "PATCH", "/api/customers/ZZZZZZZZZZ", jsonCT, `{"data":{"type":"customers","id":"ZZZZZZZZZZ","attributes":{}}}`, 404, "RECORD_NOT_FOUND", ""},
		{"create without email is VALIDATION_ERROR", "POST", "/api/customers", jsonCT, `{"data":{"type":"customers","attributes":{}}}`, 422, "VALIDATION_ERROR", "/data/attributes/email"},
		{"create with a bad email is VALIDATION_ERROR", "POST", "/api/customers", jsonCT, `{"data":{"type":"customers","attributes":{"email":"nope"}}}`, 422, "VALIDATION_ERROR", "/data/attributes/email"},
		{"create with a taken email is VALIDATION_ERROR", "POST", "/api/customers", jsonCT, `{"data":{"type":"customers","attributes":{"email":"` + strings.ToLower(f.person(id).EmailAt(ds.CommerceLayer)) + `"}}}`, 422, "VALIDATION_ERROR", "/data/attributes/email"},
		{"create with metadata not an object is VALIDATION_ERROR", "POST", "/api/customers", jsonCT, `{"data":{"type":"customers","attributes":{"email":"m@example.com","metadata":[1]}}}`, 422, "VALIDATION_ERROR", "/data/attributes/metadata"},
		{"create with an unknown attribute is PARAM_NOT_ALLOWED", "POST", "/api/customers", jsonCT, `{"data":{"type":"customers","attributes":{"email":"n@example.com","first_name":"N"}}}`, 400, "PARAM_NOT_ALLOWED", ""},
		{"create with a client id is PARAM_NOT_ALLOWED", "POST", "/api/customers", jsonCT, `{"data":{"type":"customers","id":"AAAAAAAAAA","attributes":{"email":"o@example.com"}}}`, 400, "PARAM_NOT_ALLOWED", ""},
		{"create of another type is INVALID_RESOURCE", "POST", "/api/customers", jsonCT, `{"data":{"type":"orders","attributes":{}}}`, 400, "INVALID_RESOURCE", ""},
		{"create without data is PARAM_MISSING", "POST", "/api/customers", jsonCT, `{"email":"p@example.com"}`, 400, "PARAM_MISSING", ""},
		{"create with a broken body is INVALID_DATA_FORMAT", "POST", "/api/customers", jsonCT, `{"data":`, 400, "INVALID_DATA_FORMAT", ""},
		{"delete of an unknown id is RECORD_NOT_FOUND", "DELETE", "/api/customers/ZZZZZZZZZZ", nil, "", 404, "RECORD_NOT_FOUND", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.raw(t, tc.method, tc.path, tc.hdr, tc.body)
			if r.status != tc.status {
				t.Fatalf("status = %d, want %d (%v)", r.status, tc.status, r.body)
			}
			code, st, ptr := errInfo(r.body)
			if code != tc.code || ptr != tc.pointer {
				t.Errorf("error = %s %s, want %s %s (%v)", code, ptr, tc.code, tc.pointer, r.body)
			}
			if st != strconv.Itoa(tc.status) {
				t.Errorf("errors[0].status = %#v, want the string %q", st, strconv.Itoa(tc.status))
			}
			if ct := r.header.Get("Content-Type"); ct != commercelayer.MediaType {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

func (f *fixture) person(clID string) demo.Person {
	for _, p := range f.People {
		if p.IDs[ds.CommerceLayer] == clID {
			return p
		}
	}
	return demo.Person{}
}

// fetchToken gets a token from the simulator's token endpoint with the
// documented JSON body.
func (f *fixture) fetchToken(t *testing.T) string {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"grant_type": "client_credentials", "client_id": sim.ClientID, "client_secret": sim.ClientSecret})
	resp, err := http.Post(f.Srv.URL+sim.TokenPath, "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 || out.AccessToken == "" {
		t.Fatalf("token: status %d, %v", resp.StatusCode, err)
	}
	return out.AccessToken
}

func TestSimTokenEndpoint(t *testing.T) {
	f := start(t, staticToken)
	post := func(t *testing.T, ct, body string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Post(f.Srv.URL+sim.TokenPath, ct, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	good := map[string]string{"grant_type": "client_credentials", "client_id": sim.ClientID, "client_secret": sim.ClientSecret, "scope": "market:id:abc"}
	asJSON := func(m map[string]string) string {
		b, _ := json.Marshal(m)
		return string(b)
	}
	t.Run("a JSON body with client credentials gets a two-hour bearer token", func(t *testing.T) {
		st, out := post(t, "application/json", asJSON(good))
		if st != 200 || out["token_type"] != "bearer" || out["expires_in"] != float64(7200) || out["scope"] != "market:id:abc" {
			t.Fatalf("%d %v", st, out)
		}
		if _, ok := out["created_at"].(float64); !ok {
			t.Errorf("created_at = %v", out["created_at"])
		}
		r := f.raw(t, "GET", "/api/customers?page%5Bsize%5D=1", map[string]string{"Authorization": "Bearer " + out["access_token"].(string)}, "")
		if r.status != 200 {
			t.Errorf("the issued token is refused: %d", r.status)
		}
	})
	t.Run("a form body is invalid_request (the docs send JSON)", func(t *testing.T) {
		form := url.Values{}
		for k, v := range good {
			form.Set(k, v)
		}
		if st, out := post(t, "application/x-www-form-urlencoded", form.Encode()); st != 400 || out["error"] != "invalid_request" {
			t.Fatalf("%d %v", st, out)
		}
	})
	for _, tc := range []struct {
		name   string
		change func(v map[string]string)
		status int
		code   string
	}{
		{"a wrong secret is invalid_client", func(v map[string]string) { v["client_secret"] = "nope" }, 401, "invalid_client"},
		{"an unknown client is invalid_client", func(v map[string]string) { v["client_id"] = "nope" }, 401, "invalid_client"},
		{"another grant is unsupported_grant_type", func(v map[string]string) { v["grant_type"] = "password" }, 400, "unsupported_grant_type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := map[string]string{}
			for k, x := range good {
				v[k] = x
			}
			tc.change(v)
			if st, out := post(t, "application/json", asJSON(v)); st != tc.status || out["error"] != tc.code {
				t.Fatalf("%d %v", st, out)
			}
		})
	}
	t.Run("token requests are counted apart from API calls", func(t *testing.T) {
		f.Sim.Kit().Reset()
		f.Sim.AuthKit().Reset()
		f.fetchToken(t)
		if f.Sim.Kit().Count() != 0 || f.Sim.AuthKit().Count() != 1 {
			t.Errorf("api %d, auth %d", f.Sim.Kit().Count(), f.Sim.AuthKit().Count())
		}
	})
}

func TestSimListing(t *testing.T) {
	f := start(t, staticToken)
	all := f.clIDs()
	get := func(t *testing.T, query string) rawResp {
		t.Helper()
		r := f.raw(t, "GET", "/api/customers?"+query, nil, "")
		if r.status != 200 {
			t.Fatalf("%s: status %d %v", query, r.status, r.body)
		}
		return r
	}
	meta := func(r rawResp) (int, int) {
		m := r.body["meta"].(map[string]any)
		return int(m["record_count"].(float64)), int(m["page_count"].(float64))
	}
	links := func(r rawResp) map[string]any { return r.body["links"].(map[string]any) }
	pages := (len(all) + 24) / 25

	t.Run("the default page is 10 in created_at order with counts", func(t *testing.T) {
		r := get(t, "")
		if got := dataIDs(r.body); strings.Join(got, ",") != strings.Join(all[:10], ",") {
			t.Errorf("got %v, want %v", got, all[:10])
		}
		if n, p := meta(r); n != len(all) || p != (len(all)+9)/10 {
			t.Errorf("meta = %d %d", n, p)
		}
		if _, ok := links(r)["prev"]; ok {
			t.Error("page 1 has a prev link")
		}
	})
	t.Run("the last page has no next link", func(t *testing.T) {
		r := get(t, "page[size]=25&page[number]=1")
		if _, ok := links(r)["next"]; !ok {
			t.Fatal("page 1 has no next link")
		}
		r = get(t, "page[size]=25&page[number]="+strconv.Itoa(pages))
		if _, ok := links(r)["next"]; ok {
			t.Error("the last page has a next link")
		}
		if got := dataIDs(r.body); strings.Join(got, ",") != strings.Join(all[(pages-1)*25:], ",") {
			t.Errorf("last page = %v", got)
		}
	})
	for name, number := range map[string]string{"a page past the end is an empty 200": "99", "a huge page number is an empty 200": "368934881474191034"} {
		t.Run(name, func(t *testing.T) {
			r := get(t, "page[size]=25&page[number]="+number)
			if data, ok := r.body["data"].([]any); !ok || len(data) != 0 {
				t.Errorf("data = %v", r.body["data"])
			}
			if _, ok := links(r)["next"]; ok {
				t.Error("a next link past the end")
			}
		})
	}
	t.Run("links keep the filter and sort", func(t *testing.T) {
		r := get(t, "page[size]=2&sort=-email&filter[q][email_cont]=a")
		next, _ := links(r)["next"].(string)
		u, err := url.Parse(next)
		if err != nil || u.Query().Get("sort") != "-email" || u.Query().Get("filter[q][email_cont]") != "a" || u.Query().Get("page[number]") != "2" {
			t.Errorf("next = %q", next)
		}
	})
	t.Run("timestamps have milliseconds and Z", func(t *testing.T) {
		r := get(t, "page[size]=1")
		a := r.body["data"].([]any)[0].(map[string]any)["attributes"].(map[string]any)
		re := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
		for _, k := range []string{"created_at", "updated_at"} {
			if s, _ := a[k].(string); !re.MatchString(s) {
				t.Errorf("%s = %v", k, a[k])
			}
		}
	})
	for _, tc := range []struct {
		name, query string
		want        func() []string
	}{
		{"sort=-created_at,-id is newest first", "page[size]=25&sort=-created_at,-id", func() []string {
			out := make([]string, 0, 25)
			for i := len(all) - 1; i >= 0 && len(out) < 25; i-- {
				out = append(out, all[i])
			}
			return out
		}},
		{"sort=id is id order", "page[size]=25&sort=id", func() []string {
			s := append([]string(nil), all...)
			sort.Strings(s)
			return s[:25]
		}},
		{"id_gt with sort=id continues after the id", "page[size]=3&sort=id&filter[q][id_gt]=" + sorted(all)[4], func() []string {
			return sorted(all)[5:8]
		}},
		{"id_in returns just those ids", "filter[q][id_in]=" + all[3] + "," + all[0] + ",ZZZZZZZZZZ", func() []string {
			return []string{all[0], all[3]}
		}},
		{"email_eq is exact", "filter[q][email_eq]=" + url.QueryEscape(strings.ToLower(f.person(all[7]).EmailAt(ds.CommerceLayer))), func() []string {
			return []string{all[7]}
		}},
		{"email_eq is case-sensitive (emails are stored lower-cased)", "filter[q][email_eq]=" + url.QueryEscape(strings.ToUpper(f.person(all[7]).EmailAt(ds.CommerceLayer))), func() []string {
			return nil
		}},
		{"email_cont is a case-insensitive substring", "page[size]=25&filter[q][email_cont]=" + url.QueryEscape(strings.ToUpper(f.person(all[9]).EmailAt(ds.CommerceLayer)[:len(f.person(all[9]).EmailAt(ds.CommerceLayer))-12])), func() []string {
			return []string{all[9]}
		}},
		{"a blank filter value is ignored", "page[size]=5&filter[q][email_eq]=", func() []string { return all[:5] }},
		{"reference_origin filters", "page[size]=25&filter[q][reference_origin_eq]=nobody", func() []string { return nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := dataIDs(get(t, tc.query).body)
			if strings.Join(got, ",") != strings.Join(tc.want(), ",") {
				t.Errorf("got %v, want %v", got, tc.want())
			}
		})
	}
	t.Run("a trailing slash lists too", func(t *testing.T) {
		r := f.raw(t, "GET", "/api/customers/?page%5Bsize%5D=1", nil, "")
		if r.status != 200 || len(dataIDs(r.body)) != 1 {
			t.Errorf("%d %v", r.status, r.body)
		}
	})
	t.Run("fields[customers] is a sparse fieldset", func(t *testing.T) {
		r := get(t, "page[size]=1&fields[customers]=email,status")
		d := r.body["data"].([]any)[0].(map[string]any)
		if a := d["attributes"].(map[string]any); len(a) != 2 || a["email"] == nil || a["status"] == nil {
			t.Errorf("attributes = %v", a)
		}
	})
	t.Run("include adds relationship data and included", func(t *testing.T) {
		r := get(t, "page[size]=1&include=customer_group,customer_addresses")
		rels := r.body["data"].([]any)[0].(map[string]any)["relationships"].(map[string]any)
		if inc, ok := r.body["included"].([]any); !ok || len(inc) != 0 {
			t.Errorf("included = %v", r.body["included"])
		}
		if g := rels["customer_group"].(map[string]any); g["data"] != nil || !hasKey(g, "data") {
			t.Errorf("customer_group = %v", g)
		}
		if _, ok := rels["orders"].(map[string]any)["data"]; ok {
			t.Error("orders was not included but has data")
		}
	})
}

func hasKey(m map[string]any, k string) bool { _, ok := m[k]; return ok }

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func TestSimRendersDemoPeople(t *testing.T) {
	f := start(t, staticToken)
	idRE := regexp.MustCompile(`^[A-Za-z0-9]{10}$`)
	seen := 0
	for _, p := range f.People {
		id, ok := p.IDs[ds.CommerceLayer]
		if !ok {
			continue
		}
		r := f.raw(t, "GET", "/api/customers/"+id, nil, "")
		if r.status != 200 {
			t.Fatalf("%s: %d", id, r.status)
		}
		d := r.body["data"].(map[string]any)
		a := d["attributes"].(map[string]any)
		if d["id"] != id || d["type"] != "customers" || !idRE.MatchString(id) {
			t.Errorf("id %v type %v", d["id"], d["type"])
		}
		if e, _ := a["email"].(string); !strings.EqualFold(e, p.EmailAt(ds.CommerceLayer)) || a["created_at"] != p.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z") {
			t.Errorf("%s: email %v created_at %v", id, a["email"], a["created_at"])
		}
		if q, other, ok := p.Other(ds.CommerceLayer); ok {
			seen++
			if a["reference"] != other || a["reference_origin"] != q.Key() {
				t.Errorf("%s: reference %v/%v, want %s/%s", id, a["reference"], a["reference_origin"], other, q.Key())
			}
		} else if a["reference"] != nil || a["reference_origin"] != nil {
			t.Errorf("%s: reference %v/%v for a person known nowhere else", id, a["reference"], a["reference_origin"])
		}
		switch a["status"] {
		case "prospect", "acquired", "repeat":
		default:
			t.Errorf("%s: status %v", id, a["status"])
		}
	}
	if seen == 0 {
		t.Error("nobody in the demo world has a reference")
	}
	// deterministic: a second simulator renders the same first page
	g := start(t, staticToken)
	a := f.raw(t, "GET", "/api/customers?page%5Bsize%5D=25", nil, "")
	b := g.raw(t, "GET", "/api/customers?page%5Bsize%5D=25", nil, "")
	if strings.Join(dataIDs(a.body), ",") != strings.Join(dataIDs(b.body), ",") {
		t.Error("two simulators over the same people differ")
	}
}

func TestSimRateLimitHeaders(t *testing.T) {
	f := start(t, staticToken)
	f.Sim.Kit().Inject(simkit.Fault{Status: 429, Message: "Too many requests"})
	r := f.raw(t, "GET", "/api/customers", nil, "")
	code, _, _ := errInfo(r.body)
	if r.status != 429 || code != "TOO_MANY_REQUESTS" {
		t.Fatalf("%d %s", r.status, code)
	}
	for _, h := range []string{"X-Ratelimit-Limit", "X-Ratelimit-Interval", "X-Ratelimit-Remaining"} {
		if r.header.Get(h) == "" {
			t.Errorf("no %s", h)
		}
	}
	if r.header.Get("Retry-After") != "" || r.header.Get("X-Ratelimit-Reset") != "" {
		t.Error("a 429 promises a time")
	}
}

// --- the client ---

func TestTokenRefreshAfterExpiry(t *testing.T) {
	f := start(t, clientCredentials)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if _, err := f.Client.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Limit: 5}); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.Sim.AuthKit().Count(); n != 1 {
		t.Fatalf("%d token requests for three calls, want 1 (cached)", n)
	}
	f.Sim.ExpireTokens()
	f.Sim.Kit().Reset()
	if _, err := f.Client.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Limit: 5}); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if n := f.Sim.AuthKit().Count(); n != 2 {
		t.Errorf("%d token requests, want 2 (exactly one renewal)", n)
	}
	if n := f.Sim.Kit().Count(); n != 2 {
		t.Errorf("%d API requests, want 2 (the 401, then the retry with the new token)", n)
	}
}

func TestConcurrentCallsShareOneToken(t *testing.T) {
	f := start(t, clientCredentials)
	resttest.Concurrently(t, 16, func(int) error {
		_, err := f.Client.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 3})
		return err
	})
	if n := f.Sim.AuthKit().Count(); n != 1 {
		t.Errorf("%d token requests for 16 concurrent calls, want 1", n)
	}
}

func TestTokenEndpointFailures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(f *fixture) commercelayer.Config
	}{
		{"token endpoint down is PROVIDER_UNAVAILABLE or RATE_LIMITED naming the provider", func(f *fixture) commercelayer.Config {
			for i := 0; i < 4; i++ {
				f.Sim.AuthKit().Inject(simkit.Fault{Status: 503, Message: "down"})
			}
			return f.Sim.ClientConfig(f.Srv.URL)
		}},
		{"token endpoint rate limiting is PROVIDER_UNAVAILABLE or RATE_LIMITED naming the provider", func(f *fixture) commercelayer.Config {
			for i := 0; i < 4; i++ {
				f.Sim.AuthKit().Inject(simkit.Fault{Status: 429, Message: "slow down"})
			}
			return f.Sim.ClientConfig(f.Srv.URL)
		}},
		{"refused client credentials are UNAUTHENTICATED naming the provider", func(f *fixture) commercelayer.Config {
			cfg := f.Sim.ClientConfig(f.Srv.URL)
			cfg.ClientSecret = "wrong-secret-value"
			return cfg
		}},
		{"an unreachable token endpoint is PROVIDER_UNAVAILABLE or RATE_LIMITED naming the provider", func(f *fixture) commercelayer.Config {
			dead := httptest.NewServer(http.NotFoundHandler())
			dead.Close()
			cfg := f.Sim.ClientConfig(f.Srv.URL)
			cfg.TokenURL = dead.URL + "/oauth/token"
			return cfg
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := start(t, staticToken)
			cfg := tc.setup(f)
			c, err := commercelayer.New(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			f.Sim.Kit().Reset()
			_, err = c.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 5})
			// the gateway has no token: never the caller's UNAUTHENTICATED
			if c := ds.ErrorCode(err); c != ds.CodeProviderUnavailable && c != ds.CodeProviderRateLimited {
				t.Fatalf("err = %v, want PROVIDER_UNAVAILABLE or PROVIDER_RATE_LIMITED", err)
			}
			if p, ok := ds.ErrorProvider(err); !ok || p != ds.CommerceLayer {
				t.Fatalf("error does not name the provider: %v", err)
			}
			if strings.Contains(err.Error(), cfg.ClientSecret) {
				t.Fatal("error leaks the client secret")
			}
			if n := f.Sim.Kit().Count(); n != 0 {
				t.Errorf("%d API calls without a token", n)
			}
		})
	}
}

func TestStaticTokenIsNotRenewed(t *testing.T) {
	f := start(t, staticToken)
	cfg := f.Sim.ClientConfigToken(f.Srv.URL)
	cfg.AccessToken = "revoked-token"
	c, err := commercelayer.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.Sim.Kit().Reset()
	_, err = c.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 5})
	if ds.ErrorCode(err) != ds.CodeProviderUnavailable || ds.ErrorReason(err) != ds.ReasonProviderAuth || strings.Contains(err.Error(), "revoked-token") {
		t.Fatalf("err = %v", err)
	}
	if n := f.Sim.Kit().Count(); n != 1 {
		t.Errorf("%d calls, want 1 (a static token cannot be renewed)", n)
	}
	if n := f.Sim.AuthKit().Count(); n != 0 {
		t.Errorf("%d token requests with a static token", n)
	}
}

func TestRequestsCarryJSONAPIHeaders(t *testing.T) {
	var mu sync.Mutex
	var seen []http.Header
	s := sim.New(providertest.People())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		mu.Unlock()
		s.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := commercelayer.New(s.ClientConfigToken(srv.URL), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Limit: 1}); err != nil {
		t.Fatal(err)
	}
	email := "headers@example.com"
	if _, err := c.CreateCustomer(ctx, ds.CustomerInput{Email: &email}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 {
		t.Fatalf("%d requests", len(seen))
	}
	for i, h := range seen {
		if h.Get("Accept") != commercelayer.MediaType || h.Get("Authorization") != "Bearer "+sim.AccessToken {
			t.Errorf("request %d: Accept %q Authorization %q", i, h.Get("Accept"), h.Get("Authorization"))
		}
	}
	if seen[0].Get("Content-Type") != "" || seen[1].Get("Content-Type") != commercelayer.MediaType {
		t.Errorf("Content-Type read %q write %q", seen[0].Get("Content-Type"), seen[1].Get("Content-Type"))
	}
}

func TestFilterPushDown(t *testing.T) {
	f := start(t, staticToken)
	email, search, empty := "Some.One@Example.com", "Anna", ""
	for _, tc := range []struct {
		name    string
		req     ds.ListRequest[ds.Filter]
		want    map[string]string // "" = must be absent
		noTotal bool
	}{
		{"email is email_matches with every letter a wildcard, and the total is not claimed", ds.ListRequest[ds.Filter]{Limit: 5, Filter: ds.Filter{Email: &email}},
			map[string]string{"filter[q][email_matches]": "____.___@_______.___", "filter[q][email_eq]": "", "page[size]": "5", "page[number]": "1", "filter[q][email_cont]": "", "sort": ""}, true},
		{"search is email_cont lower-cased and the total is not claimed", ds.ListRequest[ds.Filter]{Limit: 50, Filter: ds.Filter{Search: &search}},
			map[string]string{"filter[q][email_cont]": "anna", "page[size]": "25"}, true},
		{"an empty email is not sent (Ransack would ignore it)", ds.ListRequest[ds.Filter]{Limit: 5, Filter: ds.Filter{Email: &empty}},
			map[string]string{"filter[q][email_eq]": ""}, true},
		{"an empty search is no filter", ds.ListRequest[ds.Filter]{Limit: 5, Filter: ds.Filter{Search: &empty}},
			map[string]string{"filter[q][email_cont]": ""}, false},
		{"providers and ids are left to the caller", ds.ListRequest[ds.Filter]{Limit: 5, Filter: ds.Filter{
			Providers: []ds.ProviderID{ds.CommerceLayer}, IDs: []ds.CustomerKey{{Provider: ds.CommerceLayer, ProviderID: "AAAAAAAAAA"}}}},
			map[string]string{"filter[q][id_in]": ""}, false},
		{"created_at ascending breaks ties by id", ds.ListRequest[ds.Filter]{Limit: 5, Order: &ds.Order{Field: ds.OrderCreatedAt}},
			map[string]string{"sort": "created_at,id"}, false},
		{"created_at descending breaks ties by -id", ds.ListRequest[ds.Filter]{Limit: 5, Order: &ds.Order{Field: ds.OrderCreatedAt, Descending: true}},
			map[string]string{"sort": "-created_at,-id"}, false},
		{"updated_at", ds.ListRequest[ds.Filter]{Limit: 5, Order: &ds.Order{Field: ds.OrderUpdatedAt}},
			map[string]string{"sort": "updated_at,id"}, false},
		{"updated_at descending", ds.ListRequest[ds.Filter]{Limit: 5, Order: &ds.Order{Field: ds.OrderUpdatedAt, Descending: true}},
			map[string]string{"sort": "-updated_at,-id"}, false},
		{"the limit is capped at 25", ds.ListRequest[ds.Filter]{Limit: 1000},
			map[string]string{"page[size]": "25", "page[number]": "1"}, false},
		{"no limit is the default page size", ds.ListRequest[ds.Filter]{},
			map[string]string{"page[size]": "10"}, false},
		{"an offset on a page boundary reads that page", ds.ListRequest[ds.Filter]{Limit: 10, Token: "30"},
			map[string]string{"page[size]": "10", "page[number]": "4"}, false},
		{"an offset inside a page reads the page that holds it", ds.ListRequest[ds.Filter]{Limit: 7, Token: "24"},
			map[string]string{"page[size]": "7", "page[number]": "4"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, calls := resttest.ListCalls(t, f.Client, f.Sim.Kit(), tc.req)
			if len(calls) != 1 || calls[0].Method != "GET" || calls[0].Path != "/api/customers" {
				t.Fatalf("calls = %+v", calls)
			}
			if !strings.Contains(calls[0].Query, "%5B") || strings.Contains(calls[0].Query, "[") {
				t.Errorf("brackets are not percent-encoded: %s", calls[0].Query)
			}
			q, _ := url.ParseQuery(calls[0].Query)
			for k, v := range tc.want {
				if v == "" && q.Has(k) {
					t.Errorf("%s sent (query %s)", k, calls[0].Query)
				} else if v != "" && q.Get(k) != v {
					t.Errorf("%s = %q, want %q (query %s)", k, q.Get(k), v, calls[0].Query)
				}
			}
			if (page.Total == nil) != tc.noTotal {
				t.Errorf("total = %v, want absent %t", page.Total, tc.noTotal)
			}
		})
	}
	t.Run("country cannot be filtered and costs no call", func(t *testing.T) {
		if err := f.Client.Capabilities().CanFilter(ds.Filter{Country: []string{"SE"}}); ds.ErrorCode(err) != ds.CodeUnsupportedByProvider {
			t.Fatalf("CanFilter = %v", err)
		}
		if p, ok := ds.ErrorProvider(f.Client.Capabilities().CanFilter(ds.Filter{Country: []string{"SE"}})); !ok || p != ds.CommerceLayer {
			t.Error("CanFilter does not name the provider")
		}
		f.Sim.Kit().Reset()
		_, err := f.Client.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 5, Filter: ds.Filter{Country: []string{"SE"}}})
		if ds.ErrorCode(err) != ds.CodeUnsupportedByProvider || f.Sim.Kit().Count() != 0 {
			t.Fatalf("list with country: %v after %d calls", err, f.Sim.Kit().Count())
		}
	})
	t.Run("email and search filters need no country", func(t *testing.T) {
		if err := f.Client.Capabilities().CanFilter(ds.Filter{Email: &email, Search: &search}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ordering by name is unsupported", func(t *testing.T) {
		f.Sim.Kit().Reset()
		if err := f.Client.Capabilities().CanOrder(ds.Order{Field: ds.OrderName}); ds.ErrorCode(err) != ds.CodeUnsupportedByProvider {
			t.Fatalf("CanOrder = %v", err)
		}
		_, err := f.Client.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 5, Order: &ds.Order{Field: ds.OrderName}})
		if ds.ErrorCode(err) != ds.CodeUnsupportedByProvider || f.Sim.Kit().Count() != 0 {
			t.Fatalf("list by name: %v after %d calls", err, f.Sim.Kit().Count())
		}
	})
}

func TestPagingFromAnOffset(t *testing.T) {
	f := start(t, clientCredentials)
	ctx := context.Background()
	all := f.clIDs()
	ids := func(p ds.Page[*ds.Customer]) []string {
		var out []string
		for _, c := range p.Items {
			out = append(out, c.ProviderID)
		}
		return out
	}
	for _, tc := range []struct {
		name, token string
		limit       int
		want        []string
		next        string
	}{
		{"from the start", "", 5, all[:5], "5"},
		{"an offset inside a page returns the rest of that page", "7", 5, all[7:10], "10"},
		{"an offset on a boundary returns a full page", "10", 5, all[10:15], "15"},
		{"the last page has no next", strconv.Itoa(len(all) - 3), 25, all[len(all)-3:], ""},
		{"an offset past the end is empty and final", strconv.Itoa(len(all) + 40), 25, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, err := f.Client.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Token: tc.token, Limit: tc.limit})
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(page); strings.Join(got, ",") != strings.Join(tc.want, ",") || page.Next != tc.next {
				t.Errorf("got %v next %q, want %v next %q", got, page.Next, tc.want, tc.next)
			}
			if page.Total == nil || *page.Total != len(all) {
				t.Errorf("total = %v, want %d", page.Total, len(all))
			}
		})
	}
	t.Run("a sorted walk is in order", func(t *testing.T) {
		var stamps []string // updated_at, as text that sorts like the time
		tok := ""
		for i := 0; ; i++ {
			page, err := f.Client.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Limit: 7, Token: tok, Order: &ds.Order{Field: ds.OrderUpdatedAt, Descending: true}})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range page.Items {
				stamps = append(stamps, c.UpdatedAt.UTC().Format("2006-01-02T15:04:05.000000000Z"))
			}
			if page.Next == "" {
				break
			}
			tok = page.Next
		}
		if len(stamps) != len(all) {
			t.Fatalf("%d records, want %d", len(stamps), len(all))
		}
		for i := 1; i < len(stamps); i++ {
			if stamps[i-1] < stamps[i] {
				t.Fatalf("%s before %s", stamps[i-1], stamps[i])
			}
		}
	})
}

func TestBadPageTokens(t *testing.T) {
	f := start(t, staticToken)
	resttest.RefusesTokens(t, f.Client, f.Sim.Kit(), []string{"-1", "01", "+5", "x", "1e3", "5.0", " 5", "99999999999", "%00", strings.Repeat("9", 40)})
}

func TestGetCustomers(t *testing.T) {
	f := start(t, clientCredentials)
	ctx := context.Background()
	all := f.clIDs()
	t.Run("60 ids take 3 calls of at most 25", func(t *testing.T) {
		ids := append([]string(nil), all...)
		for i := 0; len(ids) < 60; i++ {
			ids = append(ids, fmt.Sprintf("ZZZZZZZZ%02d", i)) // absent
		}
		f.Sim.Kit().Reset()
		got, err := f.Client.GetCustomers(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(all) {
			t.Errorf("got %d customers, want %d", len(got), len(all))
		}
		calls := f.Sim.Kit().Calls()
		if len(calls) != 3 {
			t.Fatalf("%d calls, want 3", len(calls))
		}
		for _, c := range calls {
			q, _ := url.ParseQuery(c.Query)
			if n := len(strings.Split(q.Get("filter[q][id_in]"), ",")); n > 25 || q.Get("page[size]") != "25" {
				t.Errorf("a batch of %d ids with page[size]=%s", n, q.Get("page[size]"))
			}
		}
	})
	t.Run("duplicates and impossible ids cost nothing", func(t *testing.T) {
		f.Sim.Kit().Reset()
		got, err := f.Client.GetCustomers(ctx, []string{all[0], all[0], "", "a,b", "a/b", strings.Repeat("x", 65)})
		if err != nil || len(got) != 1 || got[0].ProviderID != all[0] || f.Sim.Kit().Count() != 1 {
			t.Errorf("got %d, err %v, %d calls", len(got), err, f.Sim.Kit().Count())
		}
		f.Sim.Kit().Reset()
		got, err = f.Client.GetCustomers(ctx, []string{"", "a,b"})
		if err != nil || len(got) != 0 || f.Sim.Kit().Count() != 0 {
			t.Errorf("got %d, err %v, %d calls", len(got), err, f.Sim.Kit().Count())
		}
	})
}

func TestMapping(t *testing.T) {
	f := start(t, staticToken)
	var p demo.Person
	for _, q := range f.People {
		if _, _, ok := q.Other(ds.CommerceLayer); ok && q.At(ds.CommerceLayer) {
			p = q
			break
		}
	}
	id := p.IDs[ds.CommerceLayer]
	got, err := f.Client.GetCustomers(context.Background(), []string{id})
	if err != nil || len(got) != 1 {
		t.Fatalf("%v %v", got, err)
	}
	c := got[0]
	q, other, _ := p.Other(ds.CommerceLayer)
	for name, v := range map[string][2]any{
		"provider": {c.Provider, ds.CommerceLayer},
		"id":       {c.ProviderID, id},
		"email":    {resttest.Deref(c.Email), strings.ToLower(p.EmailAt(ds.CommerceLayer))},
		"created":  {*c.CreatedAt, p.CreatedAt.UTC().Truncate(time.Millisecond)},
		"updated":  {*c.UpdatedAt, p.UpdatedAt.UTC().Truncate(time.Millisecond)},
		"utc":      {c.CreatedAt.Location(), time.UTC},
		"name":     {c.Name == nil && c.Phone == nil && c.Address == nil && c.Type == nil && c.Locale == nil, true},
		"refs":     {len(c.Refs), 1},
	} {
		if v[0] != v[1] {
			t.Errorf("%s = %v, want %v", name, v[0], v[1])
		}
	}
	switch resttest.Deref(c.Status) {
	case "prospect", "acquired", "repeat":
	default:
		t.Errorf("status = %s", resttest.Deref(c.Status))
	}
	r := c.Refs[0]
	if r.Kind != ds.SourceSystem || r.SourceID != q.Key() || len(r.ExternalIDs) != 1 || r.ExternalIDs[0] != other {
		t.Errorf("ref = %+v", r)
	}
	srcs := ds.RefSources(c)
	if len(srcs) != 1 || srcs[0].Target == nil || srcs[0].Target.Provider != q || srcs[0].Target.ProviderID != other {
		t.Errorf("sources %+v, want a link to %s %s", srcs, q, other)
	}
	raw := f.raw(t, "GET", "/api/customers/"+id, nil, "")
	want, _ := json.Marshal(raw.body["data"])
	if !jsonEqual(t, c.Raw, want) {
		t.Errorf("raw = %s\nwant %s", c.Raw, want)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

// fakeServer answers every request with status and body (a CL-shaped envelope or not).
func fakeServer(t *testing.T, status int, body string) *commercelayer.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", commercelayer.MediaType)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	c, err := commercelayer.New(commercelayer.Config{BaseURL: srv.URL + "/api", AccessToken: "t"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMappingOfVendorRecords(t *testing.T) {
	record := func(attrs string) string {
		return `{"data":[{"id":"XAyRWNUzyN","type":"customers","attributes":{"email":"a@b.co","status":"repeat",` +
			`"created_at":"2018-01-01T13:00:00.123+01:00","updated_at":"2018-01-01T12:00:00.000Z","metadata":{"foo":"bar"}` + attrs +
			`}}],"meta":{"record_count":1,"page_count":1},"links":{}}`
	}
	for _, tc := range []struct {
		name, attrs string
		ref         *ds.Ref
	}{
		{"a provider key origin is a reference to that provider", `,"reference":"cust_1","reference_origin":"kintsugi"`,
			&ds.Ref{Kind: ds.SourceSystem, SourceID: "kintsugi", SourceName: "kintsugi", ExternalIDs: []string{"cust_1"}}},
		{"a provider enum origin is a reference to that provider", `,"reference":"5800000001","reference_origin":"DIGITAL_RIVER"`,
			&ds.Ref{Kind: ds.SourceSystem, SourceID: "digitalriver", SourceName: "DIGITAL_RIVER", ExternalIDs: []string{"5800000001"}}},
		{"an unknown origin is ignored", `,"reference":"ANY-EXTERNAL-REFERENCE","reference_origin":"ANY-EXTERNAL-REFERENCE-ORIGIN"`, nil},
		{"a reference without an origin is ignored", `,"reference":"x","reference_origin":null`, nil},
		{"an origin naming Commerce Layer itself is ignored", `,"reference":"x","reference_origin":"commercelayer"`, nil},
		{"null reference is none", `,"reference":null,"reference_origin":null`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := record(tc.attrs)
			c := fakeServer(t, 200, body)
			page, err := c.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 5})
			if err != nil || len(page.Items) != 1 {
				t.Fatalf("%v %v", page.Items, err)
			}
			cu := page.Items[0]
			var env struct{ Data []json.RawMessage }
			_ = json.Unmarshal([]byte(body), &env)
			if string(cu.Raw) != string(env.Data[0]) {
				t.Errorf("raw is not the record as received: %s", cu.Raw)
			}
			if cu.CreatedAt.Location() != time.UTC || cu.CreatedAt.Format(time.RFC3339Nano) != "2018-01-01T12:00:00.123Z" {
				t.Errorf("created = %v", cu.CreatedAt)
			}
			if resttest.Deref(cu.Status) != "repeat" || cu.Metadata["foo"] != "bar" || page.Next != "" || page.Total == nil || *page.Total != 1 {
				t.Errorf("customer %+v page next %q total %v", cu, page.Next, page.Total)
			}
			switch {
			case tc.ref == nil && len(cu.Refs) != 0:
				t.Errorf("refs = %+v, want none", cu.Refs)
			case tc.ref != nil && (len(cu.Refs) != 1 || fmt.Sprint(cu.Refs[0]) != fmt.Sprint(*tc.ref)):
				t.Errorf("refs = %+v, want %+v", cu.Refs, *tc.ref)
			}
		})
	}
}

func TestUnreadableResponses(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"no data", `{"meta":{"record_count":0}}`},
		{"a record without an id", `{"data":[{"type":"customers","attributes":{}}],"links":{}}`},
		{"a record of another type", `{"data":[{"id":"AAAAAAAAAA","type":"orders","attributes":{}}],"links":{}}`},
		{"not JSON", `<html>`},
	} {
		t.Run(tc.name+" is PROVIDER_UNAVAILABLE", func(t *testing.T) {
			c := fakeServer(t, 200, tc.body)
			_, err := c.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 5})
			if ds.ErrorCode(err) != ds.CodeProviderUnavailable {
				t.Errorf("err = %v, want PROVIDER_UNAVAILABLE", err)
			}
			if p, ok := ds.ErrorProvider(err); !ok || p != ds.CommerceLayer {
				t.Errorf("err %v does not name COMMERCE_LAYER", err)
			}
		})
	}
}

func TestVendorErrorMessages(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
		code       ds.Code
		want, not  string
	}{
		{"the detail is the message", `{"errors":[{"title":"Invalid page value","detail":"26 is not a valid value for size page parameter.","code":"INVALID_PAGE_VALUE","status":"400"}]}`,
			400, ds.CodeInternal, "26 is not a valid value", "INVALID_PAGE_VALUE"},
		{"the title when there is no detail", `{"errors":[{"title":"Record not found","code":"RECORD_NOT_FOUND","status":"404"}]}`,
			404, ds.CodeNotFound, "Record not found", "RECORD_NOT_FOUND"},
		{"the code when there is nothing else", `{"errors":[{"code":"FILTER_NOT_ALLOWED","status":"400"}]}`,
			400, ds.CodeInternal, "FILTER_NOT_ALLOWED", "status"},
		{"a validation error names the attribute", `{"errors":[{"title":"is invalid","detail":"is invalid","code":"VALIDATION_ERROR","status":"422","source":{"pointer":"/data/attributes/email"},"meta":{"error":"invalid"}}]}`,
			422, ds.CodeInternal, "email: is invalid", "pointer"},
		{"several errors are joined", `{"errors":[{"detail":"one","status":"422"},{"detail":"two","status":"422"}]}`,
			422, ds.CodeInternal, "one; two", "errors"},
		{"401 is the gateway's credentials, PROVIDER_UNAVAILABLE", `{"errors":[{"title":"Unauthorized","detail":"Invalid token","code":"UNAUTHORIZED","status":"401"}]}`,
			401, ds.CodeProviderUnavailable, "Invalid token", "UNAUTHORIZED"},
		{"406 is a gateway bug, not the user's", `{"errors":[{"title":"Not acceptable","code":"NOT_ACCEPTABLE","status":"406"}]}`,
			406, ds.CodeInternal, "Not acceptable", "status"},
		{"an unreadable body gives no message", `<html>oops</html>`, 500, ds.CodeProviderUnavailable, "", "oops"},
		{"errors as one object instead of an array", `{"errors":{"title":"Unauthorized","detail":"Token expired","code":"UNAUTHORIZED","status":"401"}}`,
			401, ds.CodeProviderUnavailable, "Token expired", "UNAUTHORIZED"},
		{"an entry of another shape does not hide the others", `{"errors":[{"detail":"one","source":"query","status":400},"two?",{"detail":"three","code":7}]}`,
			400, ds.CodeInternal, "one; three", "two?"},
		{"an OAuth-style body gives its description", `{"error":"invalid_token","error_description":"The access token expired"}`,
			401, ds.CodeProviderUnavailable, "The access token expired", "invalid_token"},
		{"an OAuth-style body without a description gives its error", `{"error":"invalid_token"}`,
			401, ds.CodeProviderUnavailable, "invalid_token", "{"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fakeServer(t, tc.status, tc.body)
			_, err := c.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 5})
			if ds.ErrorCode(err) != tc.code {
				t.Fatalf("code %s, want %s (%v)", ds.ErrorCode(err), tc.code, err)
			}
			var e *ds.Error
			if !errors.As(err, &e) || !strings.Contains(e.Message, tc.want) || strings.Contains(e.Message, tc.not) {
				t.Errorf("message %q, want it to contain %q and not %q", e.Message, tc.want, tc.not)
			}
		})
	}
}

func TestWritesRoundTrip(t *testing.T) {
	f := start(t, clientCredentials)
	ctx := context.Background()
	email := "New.Person@Example.com"
	f.Sim.Kit().Reset()
	created, err := f.Client.CreateCustomer(ctx, ds.CustomerInput{Email: &email, Metadata: map[string]any{"tier": "gold"}})
	if err != nil {
		t.Fatal(err)
	}
	if call := f.Sim.Kit().Calls()[0]; call.Method != "POST" || call.Path != "/api/customers" {
		t.Errorf("create call = %+v", call)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9]{10}$`).MatchString(created.ProviderID) || resttest.Deref(created.Email) != email ||
		created.Metadata["tier"] != "gold" || resttest.Deref(created.Status) != "prospect" || created.CreatedAt == nil {
		t.Fatalf("created %+v", created)
	}
	id := created.ProviderID

	page, err := f.Client.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Limit: 5, Filter: ds.Filter{Email: resttest.Ptr("NEW.PERSON@example.com")}})
	if err != nil || len(page.Items) == 0 || page.Items[0].ProviderID != id || page.Total != nil {
		t.Fatalf("email filter after create: %v %v (a superset with no claimed total)", page.Items, err)
	}

	for _, tc := range []struct {
		name string
		in   ds.CustomerInput
		code ds.Code
		msg  string
	}{
		{"a taken email is BAD_USER_INPUT with the vendor's message", ds.CustomerInput{Email: &email}, ds.CodeBadUserInput, "has already been taken"},
		{"a bad email is BAD_USER_INPUT naming the attribute", ds.CustomerInput{Email: resttest.Ptr("nope")}, ds.CodeBadUserInput, "email - is invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.Client.CreateCustomer(ctx, tc.in)
			if ds.ErrorCode(err) != tc.code || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	t.Run("fields a customer cannot hold are UNSUPPORTED_BY_PROVIDER with no call", func(t *testing.T) {
		biz := ds.Business
		for _, in := range []ds.CustomerInput{
			{Email: resttest.Ptr("x@example.com"), Name: resttest.Ptr("X")}, {Email: resttest.Ptr("x@example.com"), Phone: resttest.Ptr("+1")},
			{Email: resttest.Ptr("x@example.com"), Type: &biz}, {Email: resttest.Ptr("x@example.com"), Locale: resttest.Ptr("en-US")},
			{Email: resttest.Ptr("x@example.com"), Address: &ds.Address{Country: resttest.Ptr("SE")}},
		} {
			f.Sim.Kit().Reset()
			if _, err := f.Client.CreateCustomer(ctx, in); ds.ErrorCode(err) != ds.CodeUnsupportedByProvider {
				t.Errorf("create %+v: %v", in, err)
			}
			if _, err := f.Client.UpdateCustomer(ctx, id, in); ds.ErrorCode(err) != ds.CodeUnsupportedByProvider {
				t.Errorf("update %+v: %v", in, err)
			}
			if n := f.Sim.Kit().Count(); n != 0 {
				t.Errorf("%d calls", n)
			}
		}
	})
	t.Run("a create without an email is BAD_USER_INPUT with no call", func(t *testing.T) {
		f.Sim.Kit().Reset()
		if _, err := f.Client.CreateCustomer(ctx, ds.CustomerInput{Metadata: map[string]any{"a": 1}}); ds.ErrorCode(err) != ds.CodeBadUserInput || f.Sim.Kit().Count() != 0 {
			t.Errorf("err %v after %d calls", err, f.Sim.Kit().Count())
		}
	})

	changed := "changed@example.com"
	f.Sim.Kit().Reset()
	updated, err := f.Client.UpdateCustomer(ctx, id, ds.CustomerInput{Email: &changed})
	if err != nil {
		t.Fatal(err)
	}
	if call := f.Sim.Kit().Calls()[0]; call.Method != "PATCH" || call.Path != "/api/customers/"+id {
		t.Errorf("update call = %+v", call)
	}
	if resttest.Deref(updated.Email) != changed || updated.Metadata["tier"] != "gold" || !updated.UpdatedAt.After(*created.CreatedAt) && !updated.UpdatedAt.Equal(*created.CreatedAt) {
		t.Errorf("after the email update: %s", updated.Raw)
	}
	updated, err = f.Client.UpdateCustomer(ctx, id, ds.CustomerInput{Metadata: map[string]any{"tier": "silver"}})
	if err != nil || updated.Metadata["tier"] != "silver" || resttest.Deref(updated.Email) != changed {
		t.Fatalf("after the metadata update: %v %v", updated, err)
	}
	got, err := f.Client.GetCustomers(ctx, []string{id})
	if err != nil || len(got) != 1 || resttest.Deref(got[0].Email) != changed || got[0].Metadata["tier"] != "silver" {
		t.Fatalf("read after update: %+v %v", got, err)
	}

	if err := f.Client.DeleteCustomer(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.Client.GetCustomers(ctx, []string{id}); len(got) != 0 {
		t.Error("the deleted customer is still found")
	}
	if err := f.Client.DeleteCustomer(ctx, id); ds.ErrorCode(err) != ds.CodeNotFound {
		t.Errorf("second delete: %v", err)
	}
	if _, err := f.Client.UpdateCustomer(ctx, id, ds.CustomerInput{Email: &changed}); ds.ErrorCode(err) != ds.CodeNotFound {
		t.Errorf("update after delete: %v", err)
	}
	resttest.RefusesIDs(t, f.Client, f.Sim.Kit().Count, []string{"", "a/b", "..", "a,b", strings.Repeat("x", 65)})
}

func TestWriteRetries(t *testing.T) {
	f := start(t, staticToken)
	ctx := context.Background()
	id := f.clIDs()[0]
	for _, tc := range []struct {
		name  string
		do    func() error
		calls int
	}{
		// a lost create or delete is not retried but looked up (one GET):
		// the 503 came before the write, so it is NOT_APPLIED
		{"a create is not retried after a 503", func() error {
			_, err := f.Client.CreateCustomer(ctx, ds.CustomerInput{Email: resttest.Ptr("retry@example.com")})
			return err
		}, 1},
		{"a delete is not retried after a 503", func() error { return f.Client.DeleteCustomer(ctx, id) }, 1},
		{"an update (the same PATCH) is retried after a 503", func() error {
			_, err := f.Client.UpdateCustomer(ctx, id, ds.CustomerInput{Metadata: map[string]any{"k": "v"}})
			return err
		}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.Sim.Kit().Reset()
			f.Sim.Kit().Inject(simkit.Fault{Status: 503, Message: "down"})
			err := tc.do()
			writes := 0
			for _, c := range f.Sim.Kit().Calls() {
				if c.Method != http.MethodGet {
					writes++
				}
			}
			if writes != tc.calls {
				t.Errorf("%d writes, want %d (err %v)", writes, tc.calls, err)
			}
			if tc.calls == 1 && (ds.ErrorCode(err) != ds.CodeProviderUnavailable || !strings.Contains(err.Error(), "not applied")) {
				t.Errorf("err = %v", err)
			}
			if tc.calls == 2 && err != nil {
				t.Errorf("err = %v", err)
			}
		})
	}
	t.Run("a write after an expired token is renewed and sent once more", func(t *testing.T) {
		g := start(t, clientCredentials)
		if _, err := g.Client.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Limit: 1}); err != nil {
			t.Fatal(err)
		}
		g.Sim.ExpireTokens()
		g.Sim.Kit().Reset()
		if _, err := g.Client.CreateCustomer(ctx, ds.CustomerInput{Email: resttest.Ptr("after.expiry@example.com")}); err != nil {
			t.Fatal(err)
		}
		if n := g.Sim.Kit().Count(); n != 2 {
			t.Errorf("%d calls, want 2 (401, then the create)", n)
		}
	})
}

func TestConfigValidate(t *testing.T) {
	base := "https://acme.commercelayer.io/api"
	resttest.CheckConfigs(t, "commercelayer: ", commercelayer.Config.Validate, commercelayer.New, []resttest.ConfigCase[commercelayer.Config]{
		{Name: "client credentials are valid", Cfg: commercelayer.Config{BaseURL: base, ClientID: "id", ClientSecret: "s"}, Want: ""},
		{Name: "client credentials with token_url and scope are valid", Cfg: commercelayer.Config{BaseURL: base, ClientID: "id", ClientSecret: "s", TokenURL: "https://auth.example.com/oauth/token", Scope: "market:id:x"}, Want: ""},
		{Name: "an access token is valid", Cfg: commercelayer.Config{BaseURL: base, AccessToken: "t"}, Want: ""},
		{Name: "base_url is required", Cfg: commercelayer.Config{AccessToken: "t"}, Want: "commercelayer: base_url is required"},
		{Name: "a relative base_url is refused", Cfg: commercelayer.Config{BaseURL: "/api", AccessToken: "t"}, Want: "commercelayer: base_url"},
		{Name: "an ftp base_url is refused", Cfg: commercelayer.Config{BaseURL: "ftp://acme/api", AccessToken: "t"}, Want: "commercelayer: base_url"},
		{Name: "credentials are required", Cfg: commercelayer.Config{BaseURL: base}, Want: "commercelayer: set access_token or client_id and client_secret"},
		{Name: "both forms are refused", Cfg: commercelayer.Config{BaseURL: base, AccessToken: "t", ClientID: "id", ClientSecret: "s"}, Want: "not both"},
		{Name: "client_id needs client_secret", Cfg: commercelayer.Config{BaseURL: base, ClientID: "id"}, Want: "commercelayer: client_secret is required"},
		{Name: "client_secret needs client_id", Cfg: commercelayer.Config{BaseURL: base, ClientSecret: "s"}, Want: "commercelayer: client_id is required"},
		{Name: "access_token with a space is refused", Cfg: commercelayer.Config{BaseURL: base, AccessToken: "a b"}, Want: "commercelayer: access_token must not contain"},
		{Name: "client_secret with a newline is refused", Cfg: commercelayer.Config{BaseURL: base, ClientID: "id", ClientSecret: "s\n"}, Want: "commercelayer: client_secret must not contain"},
		{Name: "a relative token_url is refused", Cfg: commercelayer.Config{BaseURL: base, ClientID: "id", ClientSecret: "s", TokenURL: "auth"}, Want: "commercelayer: token_url"},
	})
}

func TestSecretsAreNeverPrinted(t *testing.T) {
	for _, cfg := range []commercelayer.Config{
		{BaseURL: "https://a.commercelayer.io/api", AccessToken: "secret-token-1"},
		{BaseURL: "https://a.commercelayer.io/api", ClientID: "id", ClientSecret: "secret-client-2"},
	} {
		for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), cfg.LogValue().String()} {
			if strings.Contains(s, "secret-") {
				t.Errorf("printed config %q reveals a secret", s)
			}
		}
		c, err := commercelayer.New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(c.CredentialID(), "secret") || len(c.CredentialID()) != 16 {
			t.Errorf("credential id %q", c.CredentialID())
		}
	}
}

func TestBaseURLWorksWithOrWithoutTheAPISuffix(t *testing.T) {
	for _, tc := range []struct {
		name   string
		suffix string
	}{
		{"with /api", "/api"},
		{"with /api/", "/api/"},
		{"the organization URL", ""},
		{"the organization URL with a slash", "/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := start(t, func(s *sim.Sim, base string) commercelayer.Config {
				return commercelayer.Config{BaseURL: base + tc.suffix, AccessToken: sim.AccessToken}
			})
			page, err := f.Client.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 2})
			if err != nil || len(page.Items) != 2 {
				t.Fatalf("%d customers, %v", len(page.Items), err)
			}
			canonical, err := commercelayer.New(commercelayer.Config{BaseURL: f.Srv.URL + "/api", AccessToken: sim.AccessToken}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if f.Client.CredentialID() != canonical.CredentialID() {
				t.Error("two spellings of one base URL are two cache identities")
			}
		})
	}
}

// Its email sort keeps case (customers' emails are stored as typed), so
// the federated EMAIL order is left to the synced store.
func TestEmailOrderIsNotServedNatively(t *testing.T) {
	c := start(t, staticToken).Client
	if err := c.Capabilities().CanOrder(ds.Order{Field: ds.OrderEmail}); ds.ErrorCode(err) != ds.CodeUnsupportedByProvider {
		t.Fatalf("CanOrder(EMAIL) = %v", err)
	}
	if err := c.Capabilities().CanOrder(ds.Order{Field: ds.OrderCreatedAt}); err != nil {
		t.Fatalf("CanOrder(CREATED_AT) = %v", err)
	}
}

// tokenCall is one request the fake token endpoint saw.
type tokenCall struct {
	contentType string
	body        map[string]any
}

// tokenEndpoint serves the simulator's API under /api and, at /oauth/token,
// answers every request with answer (status 200), recording what it was sent.
// tokenServer is the simulator's API with token, a test's own token
// endpoint, at sim.TokenPath.
func tokenServer(t *testing.T, token http.HandlerFunc) *httptest.Server {
	t.Helper()
	s := sim.New(providertest.People())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != sim.TokenPath {
			s.ServeHTTP(w, r)
			return
		}
		token(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func tokenEndpoint(t *testing.T, answer string) (*httptest.Server, func() []tokenCall) {
	t.Helper()
	var mu sync.Mutex
	var calls []tokenCall
	srv := tokenServer(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c := tokenCall{contentType: r.Header.Get("Content-Type")}
		_ = json.Unmarshal(b, &c.body)
		mu.Lock()
		calls = append(calls, c)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, answer)
	})
	return srv, func() []tokenCall {
		mu.Lock()
		defer mu.Unlock()
		return append([]tokenCall(nil), calls...)
	}
}

func TestTokenRequestAndResponse(t *testing.T) {
	tok := sim.AccessToken // the simulator's API accepts it
	for _, tc := range []struct {
		name, answer string
	}{
		{"the documented response is cached for its two hours",
			`{"access_token":"` + tok + `","token_type":"bearer","expires_in":7200,"scope":"market:id:abc","created_at":1700000000}`},
		{"expires_in as a string is read",
			`{"access_token":"` + tok + `","token_type":"bearer","expires_in":"7200"}`},
		{"a response without expires_in is kept until a 401",
			`{"access_token":"` + tok + `","token_type":"Bearer"}`},
		{"a token shorter-lived than a minute is reused while it lasts",
			`{"access_token":"` + tok + `","token_type":"bearer","expires_in":30}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, calls := tokenEndpoint(t, tc.answer)
			c, err := commercelayer.New(commercelayer.Config{BaseURL: srv.URL + "/api", ClientID: "cid", ClientSecret: "csecret",
				TokenURL: srv.URL + sim.TokenPath, Scope: "market:id:abc"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 2; i++ {
				if _, err := c.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 2}); err != nil {
					t.Fatal(err)
				}
			}
			got := calls()
			if len(got) != 1 {
				t.Fatalf("%d token requests for two calls, want 1", len(got))
			}
			// The documented request: a JSON body, as Commerce Layer's docs and js-auth send it.
			if mt, _, _ := mime.ParseMediaType(got[0].contentType); mt != "application/json" {
				t.Errorf("token request Content-Type = %q, want application/json", got[0].contentType)
			}
			want := map[string]any{"grant_type": "client_credentials", "client_id": "cid", "client_secret": "csecret", "scope": "market:id:abc"}
			if fmt.Sprint(got[0].body) != fmt.Sprint(want) {
				t.Errorf("token request body = %v, want %v", got[0].body, want)
			}
		})
	}
}

func TestTokenURLDefault(t *testing.T) {
	for _, tc := range []struct {
		name, prefix string
	}{
		{"a base_url outside commercelayer.io gets tokens from its own host", ""},
		{"a base_url under a path gets tokens under that path", "/vendor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sim.New(providertest.People())
			var h http.Handler = s
			if tc.prefix != "" {
				h = http.StripPrefix(tc.prefix, s)
			}
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			c, err := commercelayer.New(commercelayer.Config{BaseURL: srv.URL + tc.prefix + "/api", ClientID: sim.ClientID, ClientSecret: sim.ClientSecret}, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := c.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Limit: 2}); err != nil {
				t.Fatal(err)
			}
			if n := s.AuthKit().Count(); n != 1 {
				t.Errorf("%d token requests at the base URL's host, want 1", n)
			}
		})
	}
	t.Run("an organization at commercelayer.io uses auth.commercelayer.io", func(t *testing.T) {
		cfg := commercelayer.Config{BaseURL: "https://acme.commercelayer.io/api", ClientID: "id", ClientSecret: "s"}
		a, err := commercelayer.New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		cfg.TokenURL = commercelayer.DefaultTokenURL
		b, err := commercelayer.New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if a.CredentialID() != b.CredentialID() {
			t.Error("the default token URL of an organization is not " + commercelayer.DefaultTokenURL)
		}
	})
}

// records is a data array of n customer resource objects.
func records(n int) string {
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf(`{"id":"AAAAAAAA%02d","type":"customers","attributes":{"email":"c%d@example.com"}}`, i, i)
	}
	return "[" + strings.Join(items, ",") + "]"
}

func TestListEnvelopeAndEndOfList(t *testing.T) {
	const next = `"https://acme.commercelayer.io/api/customers?page%5Bnumber%5D=2&page%5Bsize%5D=5"`
	total := func(n int) *int { return &n }
	for _, tc := range []struct {
		name, body string
		next       string // the page token, "" for the end
		total      *int
	}{
		{"links.next as a JSON:API link object means more",
			`{"data":` + records(5) + `,"meta":{"record_count":12,"page_count":3},"links":{"next":{"href":` + next + `}}}`, "5", total(12)},
		{"counts sent as strings are read",
			`{"data":` + records(5) + `,"meta":{"record_count":"12","page_count":"3"},"links":{"next":` + next + `}}`, "5", total(12)},
		{"meta of another shape is no total, not an unreadable page",
			`{"data":` + records(5) + `,"meta":"n/a","links":{"next":` + next + `}}`, "5", nil},
		{"links of another shape fall back to the counts",
			`{"data":` + records(5) + `,"meta":{"record_count":12,"page_count":3},"links":[]}`, "5", total(12)},
		{"a next link on the last page by page_count is the end",
			`{"data":` + records(2) + `,"meta":{"record_count":2,"page_count":1},"links":{"next":` + next + `}}`, "", total(2)},
		{"an empty page is the end even with a next link",
			`{"data":[],"links":{"next":` + next + `}}`, "", nil},
		{"next null is the end",
			`{"data":` + records(5) + `,"meta":{"record_count":12,"page_count":3},"links":{"first":` + next + `,"next":null}}`, "", total(12)},
		{"no links: page_count says more",
			`{"data":` + records(5) + `,"meta":{"record_count":12,"page_count":3}}`, "5", total(12)},
		{"no links: page_count says this is the last page",
			`{"data":` + records(2) + `,"meta":{"record_count":2,"page_count":1}}`, "", total(2)},
		{"no links and no counts: a full page may have more",
			`{"data":` + records(5) + `}`, "5", nil},
		{"no links and no counts: a short page is the end",
			`{"data":` + records(3) + `}`, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fakeServer(t, 200, tc.body)
			page, err := c.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 5})
			if err != nil {
				t.Fatal(err)
			}
			if page.Next != tc.next {
				t.Errorf("next = %q, want %q", page.Next, tc.next)
			}
			if (page.Total == nil) != (tc.total == nil) || page.Total != nil && *page.Total != *tc.total {
				t.Errorf("total = %v, want %v", page.Total, tc.total)
			}
		})
	}
}

// A token endpoint written to RFC 6749 that refuses a JSON body gets the
// form on a second try, and the form from then on (here: the refetch after
// the API refused the first token).
func TestATokenEndpointThatTakesOnlyTheFormGetsIt(t *testing.T) {
	var mu sync.Mutex
	var types []string
	srv := tokenServer(t, func(w http.ResponseWriter, r *http.Request) {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		mu.Lock()
		types = append(types, mt)
		n := len(types)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if mt != "application/x-www-form-urlencoded" || r.PostFormValue("grant_type") != "client_credentials" || r.PostFormValue("client_id") != "cid" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":"invalid_request"}`)
			return
		}
		tok := sim.AccessToken
		if n == 2 {
			tok = "a-token-the-api-refuses" // the API answers 401: the client fetches again
		}
		_, _ = io.WriteString(w, `{"access_token":"`+tok+`","token_type":"bearer","expires_in":7200}`)
	})
	c, err := commercelayer.New(commercelayer.Config{BaseURL: srv.URL + "/api", ClientID: "cid", ClientSecret: "csecret", TokenURL: srv.URL + sim.TokenPath}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 2}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := "application/json application/x-www-form-urlencoded application/x-www-form-urlencoded"
	if got := strings.Join(types, " "); got != want {
		t.Fatalf("token requests %q, want %q", got, want)
	}
}

func TestMalformedRecords(t *testing.T) {
	const a, b = `{ "id" : "AAAAAAAAAA",	"type":"customers", "attributes":{"email":"ann@example.com","metadata":{"k":"v"}} }`, `{"id":"BBBBBBBBBB","attributes":{}}`
	const unreadable = "COMMERCE_LAYER: PROVIDER_UNAVAILABLE: the provider sent a response this gateway cannot read: "
	const bad = unreadable + "commercelayer: "
	resttest.RecordCases(t, `{"data":ITEMS,"links":{}}`, func(url string) commercelayer.Config {
		return commercelayer.Config{BaseURL: url + "/api", AccessToken: "t"}
	}, commercelayer.New, []providertest.RecordCase{
		{Name: "records as sent", Items: "[ " + a + " ,\n" + b + "]", Raws: []string{a, b}},
		{Name: "a number", Items: `[` + a + `,1]`, Err: bad + "a customer that is not a resource object: json: cannot unmarshal number into Go value of type commercelayer.resource"},
		{Name: "a string", Items: `["AAAAAAAAAA"]`, Err: bad + "a customer that is not a resource object: json: cannot unmarshal string into Go value of type commercelayer.resource"},
		{Name: "null", Items: `[null]`, Err: bad + "a resource that is not a customer"},
		{Name: "an id that is a number", Items: `[{"id":5}]`, Err: bad + "a customer that is not a resource object: json: cannot unmarshal number into Go struct field resource.id of type string"},
		{Name: "attributes not an object", Items: `[{"id":"AAAAAAAAAA","attributes":[]}]`, Err: bad + "a customer that is not a resource object: json: cannot unmarshal array into Go struct field resource.attributes of type commercelayer.attributes"},
		{Name: "no id", Items: `[{"type":"customers"}]`, Err: bad + "a resource that is not a customer"},
		{Name: "data not an array", Items: `{}`, Err: unreadable + "json: cannot unmarshal object into Go struct field listResponse.data of type *"},
		{Name: "data null", Items: `null`, Err: bad + "a customer list without data"},
	})
}

// BenchmarkListCustomers is one full page (MaxPageSize) of GET /customers, 25.
func BenchmarkListCustomers(b *testing.B) {
	resttest.BenchList(b, sim.New(demo.People(demo.DefaultSize)), commercelayer.MaxPageSize, "/customers", commercelayer.New, commercelayer.DecodePage)
}
