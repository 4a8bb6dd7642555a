package api

import (
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/cache"
	"github.com/federated-customers/gateway/datasource/federate"
)

func TestGraphiQLIntrospectionPassesTheDepthLimitButDeepDataQueriesDoNot(t *testing.T) {
	srv := emptyGateway(t)
	intro := `{ __schema { types { name fields { name type { kind ofType { kind ofType { kind ofType { kind ofType { kind ofType { kind ofType { kind ofType { name } } } } } } } } } } } }`
	if _, out := post(t, srv.URL, intro, nil); out["errors"] != nil {
		t.Fatalf("introspection refused: %v", out["errors"])
	}
	deep := "{ customers { nodes { " + strings.Repeat("linkedCustomers { ", 12) + "id" + strings.Repeat(" }", 12) + " } } }"
	if _, out := post(t, srv.URL, deep, nil); firstCode(out) != "QUERY_TOO_COMPLEX" {
		t.Fatalf("deep query: %v", out)
	}
}

func TestAPIKeysAreRequiredWhenConfigured(t *testing.T) {
	srv := emptyGateway(t, APIKey{Key: "s3cret", Providers: []ds.ProviderID{ds.Kintsugi}})
	for _, tc := range []struct {
		name   string
		header map[string]string
		status int
		code   string
	}{
		{"no key", nil, 401, "UNAUTHENTICATED"},
		{"wrong key", map[string]string{"Authorization": "Bearer nope"}, 401, "UNAUTHENTICATED"},
		{"bearer key", map[string]string{"Authorization": "Bearer s3cret"}, 200, ""},
		{"header key", map[string]string{"X-API-Key": "s3cret"}, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := post(t, srv.URL, `{ providers { provider enabled } }`, tc.header)
			if status != tc.status || firstCode(out) != tc.code {
				t.Fatalf("status %d code %q, want %d %q", status, firstCode(out), tc.status, tc.code)
			}
		})
	}
	_, out := post(t, srv.URL, `{ customers(filter: {providers: [DIGITAL_RIVER]}) { totalCount } }`, map[string]string{"X-API-Key": "s3cret"})
	if firstCode(out) != "FORBIDDEN" {
		t.Fatalf("a key scoped to KINTSUGI asked for DIGITAL_RIVER: %v", out)
	}
}

func TestThePlaygroundIsServedWithItsAssets(t *testing.T) {
	srv := emptyGateway(t)
	for path, want := range map[string]string{
		"/":                                   "/playground/graphiql.min.js",
		"/playground/start.js":                "createFetcher",
		"/playground/graphiql.min.js":         "GraphiQL",
		"/playground/react.production.min.js": "React",
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: status %d, %d bytes", path, resp.StatusCode, len(b))
		}
	}
}

func TestARequestRejectedBeforeExecutionHasNoDataEntry(t *testing.T) {
	srv := emptyGateway(t)
	for _, tc := range []struct {
		name, query, accept string
		wantStatus          int
	}{
		{"parse error, graphql-response+json", "{ customers {", "application/graphql-response+json", http.StatusBadRequest},
		{"validation error, graphql-response+json", "{ noSuchField }", "application/graphql-response+json", http.StatusBadRequest},
		{"validation error, legacy application/json", "{ noSuchField }", "application/json", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := post(t, srv.URL, tc.query, map[string]string{"Accept": tc.accept})
			if status != tc.wantStatus {
				t.Errorf("status %d, want %d", status, tc.wantStatus)
			}
			if _, ok := out["data"]; ok {
				t.Errorf("response has a data entry: %v", out)
			}
			if out["errors"] == nil {
				t.Errorf("response has no errors: %v", out)
			}
		})
	}
}

func TestEachAPIKeyHasItsOwnRate(t *testing.T) {
	srv := emptyGateway(t,
		APIKey{Key: "slow", Providers: []ds.ProviderID{ds.Kintsugi}, Rate: 5, Burst: 2},
		APIKey{Key: "other", Providers: []ds.ProviderID{ds.Kintsugi}})
	send := func(key string) (*http.Response, map[string]any) {
		t.Helper()
		return postResp(t, srv.URL, "{ providers { provider } }", map[string]string{"X-API-Key": key})
	}
	for i, want := range []int{200, 200, 429} { // the burst of 2, then the rate
		resp, out := send("slow")
		if resp.StatusCode != want {
			t.Fatalf("request %d: status %d, want %d", i, resp.StatusCode, want)
		}
		if want == 429 {
			if ra := resp.Header.Get("Retry-After"); ra != "1" {
				t.Errorf("Retry-After %q, want 1 (the next token is 200ms away)", ra)
			}
			if firstCode(out) != "PROVIDER_RATE_LIMITED" {
				t.Errorf("code %q: %v", firstCode(out), out)
			}
		}
	}
	if resp, _ := send("other"); resp.StatusCode != 200 {
		t.Errorf("another key was limited too: %d", resp.StatusCode)
	}
	time.Sleep(250 * time.Millisecond) // one token back at 5/s
	if resp, _ := send("slow"); resp.StatusCode != 200 {
		t.Errorf("after the wait: %d", resp.StatusCode)
	}
}

func TestAMutationOverGETIsRefusedWithACode(t *testing.T) {
	srv := emptyGateway(t)
	for _, accept := range []string{"application/json", "application/graphql-response+json"} {
		t.Run(accept, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+"/graphql?query="+url.QueryEscape(`mutation { deleteCustomer(id: "x") }`), nil)
			req.Header.Set("Accept", accept)
			resp, out := do(t, req)
			if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
				t.Errorf("status %d Allow %q, want 405 Allow: POST", resp.StatusCode, resp.Header.Get("Allow"))
			}
			if firstCode(out) != "BAD_USER_INPUT" {
				t.Errorf("code %q: %v", firstCode(out), out)
			}
		})
	}
}

func TestProvidersOutsideTheKeyAreForbiddenNotDropped(t *testing.T) {
	srv := emptyGateway(t, APIKey{Key: "k", Providers: []ds.ProviderID{ds.Kintsugi}})
	key := map[string]string{"X-API-Key": "k"}
	dr := ds.CustomerNodeID(ds.DigitalRiver, "5823594809")
	ki := ds.CustomerNodeID(ds.Kintsugi, "cust_1")
	for _, tc := range []struct {
		name, query string
		code        string
	}{
		{"filter.ids naming DIGITAL_RIVER", `{ customers(filter: {ids: ["` + ki + `", "` + dr + `"]}) { nodes { id } } }`, "FORBIDDEN"},
		{"customerSources (CARECLOUD)", `{ customerSources { nodes { id } } }`, "FORBIDDEN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, out := post(t, srv.URL, tc.query, key)
			if firstCode(out) != tc.code {
				t.Fatalf("code %q, want %q: %v", firstCode(out), tc.code, out)
			}
			msg := out["errors"].([]any)[0].(map[string]any)["message"].(string)
			if !strings.Contains(msg, "may not use") {
				t.Errorf("message %q", msg)
			}
		})
	}
}

// A provider that declares no writes shows writes: false, also behind the
// cache (whose wrapper always has a write side, refusing when the vendor
// has none).
func TestProvidersWritesIsTheDeclaredCapabilityBehindTheCache(t *testing.T) {
	layer := cache.New(cache.Options{Log: slog.New(slog.DiscardHandler)})
	svc := &federate.Service{Customers: map[ds.ProviderID]ds.CustomerProvider{
		ds.Kintsugi: layer.Wrap(&gatedProvider{}),
	}}
	srv := testGateway(t, svc, Options{})
	_, out := post(t, srv.URL, `{ providers { provider writes } }`, nil)
	provs, _ := out["data"].(map[string]any)["providers"].([]any)
	for _, p := range provs {
		p := p.(map[string]any)
		if p["provider"] == "KINTSUGI" && p["writes"] != false {
			t.Fatalf("KINTSUGI writes = %v, want false: it declares no writes", p["writes"])
		}
	}
	if len(provs) == 0 {
		t.Fatalf("no providers in %v", out)
	}
}
