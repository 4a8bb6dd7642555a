package commercelayer_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/commercelayer"
	"github.com/federated-customers/gateway/datasource/commercelayer/sim"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/providertest"
	"github.com/federated-customers/gateway/datasource/simkit"
)

type fixture struct {
	sim    *sim.Sim
	srv    *httptest.Server
	client *commercelayer.Client
	people []demo.Person
}

// start serves a simulator and builds a client with cfg(serverURL) (nil: client credentials).
func start(t *testing.T, cfg func(s *sim.Sim, url string) commercelayer.Config) *fixture {
	t.Helper()
	people := providertest.People()
	s := sim.New(people)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	if cfg == nil {
		cfg = (*sim.Sim).ClientConfig
	}
	c, err := commercelayer.New(cfg(s, srv.URL), nil)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{sim: s, srv: srv, client: c, people: people}
}

func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		good func(s *sim.Sim, url string) commercelayer.Config
		bad  func(c commercelayer.Config) commercelayer.Config
	}{
		{"client credentials", (*sim.Sim).ClientConfig, func(c commercelayer.Config) commercelayer.Config {
			c.ClientSecret = "wrong"
			return c
		}},
		{"static access token", (*sim.Sim).TokenConfig, func(c commercelayer.Config) commercelayer.Config {
			c.AccessToken = "wrong"
			return c
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			providertest.Run(t, providertest.Harness{
				Provider: ds.CommerceLayer,
				Start: func(t *testing.T, people []demo.Person, o providertest.Options) (ds.CustomerProvider, *simkit.Kit) {
					t.Helper()
					s := sim.New(people)
					srv := httptest.NewServer(s)
					t.Cleanup(srv.Close)
					cfg := tc.good(s, srv.URL)
					if o.BadCredentials {
						cfg = tc.bad(cfg)
					}
					c, err := commercelayer.New(cfg, nil)
					if err != nil {
						t.Fatal(err)
					}
					return c, s.Kit()
				},
				MaxPage:          commercelayer.MaxPageSize,
				BulkLookup:       true,
				ValidationStatus: http.StatusBadRequest,
				RetryAfterHeader: false,
			})
		})
	}
}

// raw sends a request straight to the simulator.
func raw(t *testing.T, f *fixture, method, path string, header map[string]string, body string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("body is not JSON: %s", b)
		}
	}
	return resp.StatusCode, out
}

func firstError(out map[string]any) (code, status string) {
	errs, _ := out["errors"].([]any)
	if len(errs) == 0 {
		return "", ""
	}
	e, _ := errs[0].(map[string]any)
	code, _ = e["code"].(string)
	status, _ = e["status"].(string)
	return code, status
}

func TestSimulatorIsAsStrictAsTheDocs(t *testing.T) {
	f := start(t, nil)
	good := map[string]string{"Accept": commercelayer.MediaType, "Authorization": "Bearer " + sim.AccessToken}
	with := func(extra map[string]string) map[string]string {
		h := map[string]string{}
		for k, v := range good {
			h[k] = v
		}
		for k, v := range extra {
			if v == "" {
				delete(h, k)
			} else {
				h[k] = v
			}
		}
		return h
	}
	someID := f.people[0].IDs[ds.CommerceLayer]
	for _, p := range f.people {
		if id, ok := p.IDs[ds.CommerceLayer]; ok {
			someID = id
			break
		}
	}
	for _, tc := range []struct {
		name, method, path string
		header             map[string]string
		body               string
		wantStatus         int
		wantCode           string
	}{
		{"plain JSON Accept is 406", "GET", "/api/customers", with(map[string]string{"Accept": "application/json"}), "", 406, "NOT_ACCEPTABLE"},
		{"no token is 401", "GET", "/api/customers", with(map[string]string{"Authorization": ""}), "", 401, "UNAUTHORIZED"},
		{"unknown token is 401", "GET", "/api/customers", with(map[string]string{"Authorization": "Bearer nope"}), "", 401, "UNAUTHORIZED"},
		{"page size 26 is INVALID_PAGE_VALUE", "GET", "/api/customers?page%5Bsize%5D=26", good, "", 400, "INVALID_PAGE_VALUE"},
		{"page size 0 is INVALID_PAGE_VALUE", "GET", "/api/customers?page%5Bsize%5D=0", good, "", 400, "INVALID_PAGE_VALUE"},
		{"page number 0 is INVALID_PAGE_VALUE", "GET", "/api/customers?page%5Bnumber%5D=0", good, "", 400, "INVALID_PAGE_VALUE"},
		{"unknown sort is INVALID_SORT_CRITERIA", "GET", "/api/customers?sort=shoe_size", good, "", 400, "INVALID_SORT_CRITERIA"},
		{"unknown filter is FILTER_NOT_ALLOWED", "GET", "/api/customers?filter%5Bq%5D%5Bshoe_size_eq%5D=9", good, "", 400, "FILTER_NOT_ALLOWED"},
		{"page past the end is an empty 200", "GET", "/api/customers?page%5Bnumber%5D=999", good, "", 200, ""},
		{"unknown id is RECORD_NOT_FOUND", "GET", "/api/customers/ZZZZZZZZZZ", good, "", 404, "RECORD_NOT_FOUND"},
		{"write without Content-Type is 415", "POST", "/api/customers", good, `{"data":{"type":"customers","attributes":{"email":"x@example.com"}}}`, 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"create without email is VALIDATION_ERROR", "POST", "/api/customers", with(map[string]string{"Content-Type": commercelayer.MediaType}), `{"data":{"type":"customers","attributes":{}}}`, 422, "VALIDATION_ERROR"},
		{"PATCH with another id is KEY_NOT_INCLUDED_IN_URL", "PATCH", "/api/customers/" + someID, with(map[string]string{"Content-Type": commercelayer.MediaType}), `{"data":{"type":"customers","id":"AAAAAAAAAA","attributes":{}}}`, 400, "KEY_NOT_INCLUDED_IN_URL"},
		{"PUT is 405", "PUT", "/api/customers/" + someID, good, "", 405, "METHOD_NOT_ALLOWED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := raw(t, f, tc.method, tc.path, tc.header, tc.body)
			if status != tc.wantStatus {
				t.Fatalf("status %d, want %d (%v)", status, tc.wantStatus, out)
			}
			code, st := firstError(out)
			if code != tc.wantCode {
				t.Fatalf("code %q, want %q (%v)", code, tc.wantCode, out)
			}
			if code != "" && st != strconv.Itoa(tc.wantStatus) {
				t.Errorf("error status %q is not the string %q", st, strconv.Itoa(tc.wantStatus))
			}
		})
	}
}

func TestLastPageHasNoNextLink(t *testing.T) {
	f := start(t, nil)
	hdr := map[string]string{"Accept": commercelayer.MediaType, "Authorization": "Bearer " + sim.AccessToken}
	_, first := raw(t, f, "GET", "/api/customers?page%5Bsize%5D=25", hdr, "")
	meta := first["meta"].(map[string]any)
	pages := int(meta["page_count"].(float64))
	links := first["links"].(map[string]any)
	if _, ok := links["next"]; !ok || pages < 2 {
		t.Fatalf("page 1 of %d has no next link: %v", pages, links)
	}
	_, last := raw(t, f, "GET", "/api/customers?page%5Bsize%5D=25&page%5Bnumber%5D="+strconv.Itoa(pages), hdr, "")
	if _, ok := last["links"].(map[string]any)["next"]; ok {
		t.Fatalf("last page has a next link")
	}
}

func TestTokensAreFetchedOnceAndRenewedAfterExpiry(t *testing.T) {
	f := start(t, nil)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if _, err := f.client.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Limit: 5}); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.sim.TokenCalls(); n != 1 {
		t.Fatalf("%d token requests for three calls, want 1", n)
	}
	f.sim.ExpireTokens()
	f.sim.Kit().Reset()
	if _, err := f.client.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Limit: 5}); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if n := f.sim.TokenCalls(); n != 2 {
		t.Errorf("%d token requests, want 2 (one renewal)", n)
	}
	if n := f.sim.Kit().Count(); n != 2 {
		t.Errorf("%d API requests, want 2 (401, retry with the new token)", n)
	}
}

func TestTokenEndpointFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		want   ds.Code
	}{
		{"token endpoint down is PROVIDER_UNAVAILABLE", 503, ds.CodeProviderUnavailable},
		{"token endpoint refusing is UNAUTHENTICATED", 401, ds.CodeUnauthenticated},
		{"token endpoint rate limiting is PROVIDER_RATE_LIMITED", 429, ds.CodeProviderRateLimited},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := start(t, nil)
			f.sim.FailTokens(tc.status)
			_, err := f.client.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 5})
			if ds.ErrorCode(err) != tc.want {
				t.Fatalf("err = %v, want %s", err, tc.want)
			}
			if p, ok := ds.ErrorProvider(err); !ok || p != ds.CommerceLayer {
				t.Fatalf("error does not name the provider: %v", err)
			}
			if strings.Contains(err.Error(), sim.ClientSecret) {
				t.Fatal("error leaks the client secret")
			}
		})
	}
}

func TestFiltersAndSortArePushedDownInRansackSyntax(t *testing.T) {
	f := start(t, (*sim.Sim).TokenConfig)
	email, search := "Some.One@Example.com", "anna"
	for _, tc := range []struct {
		name string
		req  ds.ListRequest[ds.Filter]
		want map[string]string
	}{
		{"email is email_eq lower-cased", ds.ListRequest[ds.Filter]{Limit: 5, Filter: ds.Filter{Email: &email}},
			map[string]string{"filter[q][email_eq]": "some.one@example.com", "page[size]": "5", "page[number]": "1"}},
		{"search is email_cont", ds.ListRequest[ds.Filter]{Limit: 50, Filter: ds.Filter{Search: &search}},
			map[string]string{"filter[q][email_cont]": "anna", "page[size]": "25"}},
		{"descending created_at breaks ties by id", ds.ListRequest[ds.Filter]{Limit: 5, Order: &ds.Order{Field: ds.OrderCreatedAt, Descending: true}},
			map[string]string{"sort": "-created_at,-id"}},
		{"email order", ds.ListRequest[ds.Filter]{Limit: 5, Order: &ds.Order{Field: ds.OrderEmail}},
			map[string]string{"sort": "email,id"}},
		{"an offset on a page boundary reads that page", ds.ListRequest[ds.Filter]{Limit: 10, Token: "30"},
			map[string]string{"page[size]": "10", "page[number]": "4"}},
		{"an offset off the boundary widens the page to reach it", ds.ListRequest[ds.Filter]{Limit: 7, Token: "24"},
			map[string]string{"page[size]": "8", "page[number]": "4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.sim.Kit().Reset()
			if _, err := f.client.ListCustomers(context.Background(), tc.req); err != nil {
				t.Fatal(err)
			}
			calls := f.sim.Kit().Calls()
			if len(calls) != 1 {
				t.Fatalf("%d calls", len(calls))
			}
			q, _ := url.ParseQuery(calls[0].Query)
			for k, v := range tc.want {
				if q.Get(k) != v {
					t.Errorf("%s = %q, want %q (query %s)", k, q.Get(k), v, calls[0].Query)
				}
			}
		})
	}
}

func TestSortedWalkIsInOrder(t *testing.T) {
	f := start(t, (*sim.Sim).TokenConfig)
	var emails []string
	tok := ""
	for {
		page, err := f.client.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 25, Token: tok, Order: &ds.Order{Field: ds.OrderEmail}})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Items {
			emails = append(emails, *c.Email)
		}
		if page.Next == "" {
			break
		}
		tok = page.Next
	}
	for i := 1; i < len(emails); i++ {
		if emails[i-1] > emails[i] {
			t.Fatalf("%s before %s", emails[i-1], emails[i])
		}
	}
	if err := f.client.CanOrder(ds.Order{Field: ds.OrderName}); ds.ErrorCode(err) != ds.CodeUnsupportedByProvider {
		t.Fatalf("order by name: %v", err)
	}
}

func TestCountryCannotBeFiltered(t *testing.T) {
	f := start(t, (*sim.Sim).TokenConfig)
	err := f.client.CanFilter(ds.Filter{Country: []string{"SE"}})
	if ds.ErrorCode(err) != ds.CodeUnsupportedByProvider {
		t.Fatalf("err = %v", err)
	}
	f.sim.Kit().Reset()
	if _, err := f.client.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 5, Filter: ds.Filter{Country: []string{"SE"}}}); ds.ErrorCode(err) != ds.CodeUnsupportedByProvider {
		t.Fatalf("list with country: %v", err)
	}
	if n := f.sim.Kit().Count(); n != 0 {
		t.Fatalf("%d upstream calls", n)
	}
}

func TestBulkLookupTakesOneCallPer25IDs(t *testing.T) {
	f := start(t, (*sim.Sim).TokenConfig)
	var ids []string
	for _, p := range f.people {
		if id, ok := p.IDs[ds.CommerceLayer]; ok {
			ids = append(ids, id)
		}
	}
	if len(ids) < 51 {
		t.Fatalf("only %d ids", len(ids))
	}
	ids = ids[:51]
	f.sim.Kit().Reset()
	got, err := f.client.GetCustomers(context.Background(), append(ids, "ZZZZZZZZZZ", "bad,id", ""))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 51 {
		t.Errorf("got %d customers, want 51", len(got))
	}
	if n := f.sim.Kit().Count(); n != 3 {
		t.Errorf("%d calls for 52 valid ids, want 3", n)
	}
	for _, c := range f.sim.Kit().Calls() {
		q, _ := url.ParseQuery(c.Query)
		if n := len(strings.Split(q.Get("filter[q][id_in]"), ",")); n > 25 {
			t.Errorf("a batch of %d ids", n)
		}
	}
}

func TestBadPageTokensAreRejectedWithoutACall(t *testing.T) {
	f := start(t, (*sim.Sim).TokenConfig)
	for _, tok := range []string{"-1", "01", "x", "1e3", "99999999999", " 5"} {
		f.sim.Kit().Reset()
		_, err := f.client.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Token: tok, Limit: 5})
		if ds.ErrorCode(err) != ds.CodeBadUserInput {
			t.Errorf("token %q: %v", tok, err)
		}
		if n := f.sim.Kit().Count(); n != 0 {
			t.Errorf("token %q: %d upstream calls", tok, n)
		}
	}
}

func TestReferencesBecomeSystemSources(t *testing.T) {
	f := start(t, (*sim.Sim).TokenConfig)
	var person demo.Person
	for _, p := range f.people {
		if _, _, ok := p.Other(ds.CommerceLayer); ok && p.At(ds.CommerceLayer) {
			person = p
			break
		}
	}
	q, other, _ := person.Other(ds.CommerceLayer)
	got, err := f.client.GetCustomers(context.Background(), []string{person.IDs[ds.CommerceLayer]})
	if err != nil || len(got) != 1 {
		t.Fatalf("%v %v", got, err)
	}
	srcs := ds.RefSources(got[0])
	if len(srcs) != 1 || srcs[0].Target == nil || srcs[0].Target.Provider != q || srcs[0].Target.ProviderID != other {
		t.Fatalf("sources %+v, want a link to %s %s", srcs, q, other)
	}
}

func TestWritesRoundTrip(t *testing.T) {
	f := start(t, nil)
	ctx := context.Background()
	email := "new.person@example.com"
	created, err := f.client.CreateCustomer(ctx, ds.CustomerInput{Email: &email, Metadata: map[string]any{"tier": "gold"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(created.ProviderID) != 10 || *created.Email != email || created.Metadata["tier"] != "gold" {
		t.Fatalf("created %+v", created)
	}
	if _, err := f.client.CreateCustomer(ctx, ds.CustomerInput{Email: &email}); ds.ErrorCode(err) != ds.CodeBadUserInput || !strings.Contains(err.Error(), "taken") {
		t.Fatalf("duplicate email: %v", err)
	}
	name := "Nope"
	f.sim.Kit().Reset()
	if _, err := f.client.CreateCustomer(ctx, ds.CustomerInput{Email: &email, Name: &name}); ds.ErrorCode(err) != ds.CodeUnsupportedByProvider {
		t.Fatalf("create with a name: %v", err)
	}
	if f.sim.Kit().Count() != 0 {
		t.Fatal("an unsupported write reached the provider")
	}
	changed := "changed@example.com"
	updated, err := f.client.UpdateCustomer(ctx, created.ProviderID, ds.CustomerInput{Email: &changed})
	if err != nil || *updated.Email != changed {
		t.Fatalf("update: %+v %v", updated, err)
	}
	got, err := f.client.GetCustomers(ctx, []string{created.ProviderID})
	if err != nil || len(got) != 1 || *got[0].Email != changed {
		t.Fatalf("read after update: %+v %v", got, err)
	}
	if err := f.client.DeleteCustomer(ctx, created.ProviderID); err != nil {
		t.Fatal(err)
	}
	if err := f.client.DeleteCustomer(ctx, created.ProviderID); ds.ErrorCode(err) != ds.CodeNotFound {
		t.Fatalf("second delete: %v", err)
	}
	if got, _ := f.client.GetCustomers(ctx, []string{created.ProviderID}); len(got) != 0 {
		t.Fatal("deleted customer still listed")
	}
}

func TestConfigValidation(t *testing.T) {
	base := "https://acme.commercelayer.io/api"
	for _, tc := range []struct {
		name string
		cfg  commercelayer.Config
		want string // "" means valid
	}{
		{"client credentials", commercelayer.Config{BaseURL: base, ClientID: "id", ClientSecret: "s"}, ""},
		{"access token", commercelayer.Config{BaseURL: base, AccessToken: "t"}, ""},
		{"no base_url", commercelayer.Config{AccessToken: "t"}, "base_url is required"},
		{"relative base_url", commercelayer.Config{BaseURL: "/api", AccessToken: "t"}, "base_url"},
		{"no credentials", commercelayer.Config{BaseURL: base}, "set access_token, or client_id and client_secret"},
		{"both forms", commercelayer.Config{BaseURL: base, AccessToken: "t", ClientID: "id", ClientSecret: "s"}, "not both"},
		{"id without secret", commercelayer.Config{BaseURL: base, ClientID: "id"}, "client_secret is required"},
		{"secret without id", commercelayer.Config{BaseURL: base, ClientSecret: "s"}, "client_id is required"},
		{"token with a space", commercelayer.Config{BaseURL: base, AccessToken: "a b"}, "access_token must not contain"},
		{"bad token_url", commercelayer.Config{BaseURL: base, ClientID: "id", ClientSecret: "s", TokenURL: "auth"}, "token_url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestCredentialIDNeverRevealsTheSecret(t *testing.T) {
	a, _ := commercelayer.New(commercelayer.Config{BaseURL: "https://a.commercelayer.io/api", AccessToken: "secret-one"}, nil)
	b, _ := commercelayer.New(commercelayer.Config{BaseURL: "https://a.commercelayer.io/api", AccessToken: "secret-two"}, nil)
	if a.CredentialID() == b.CredentialID() || strings.Contains(a.CredentialID(), "secret") {
		t.Fatalf("credential ids %q %q", a.CredentialID(), b.CredentialID())
	}
}
