package commercelayer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/commercelayer"
	"github.com/federated-customers/gateway/datasource/commercelayer/sim"
	"github.com/federated-customers/gateway/datasource/providertest"
)

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
