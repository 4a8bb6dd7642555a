package main

import (
	"maps"
	"net/http"
	"strings"
	"testing"
)

// corsRequest sends a request with an Origin header, as a browser would.
func corsRequest(t *testing.T, m *testGateway, method, origin string, header map[string]string) *http.Response {
	t.Helper()
	h := map[string]string{"Origin": origin}
	body := ""
	if method == http.MethodPost {
		body, h["Content-Type"] = `{"query":"{ customers(first: 1) { nodes { id } } }"}`, "application/json"
	}
	maps.Copy(h, header)
	resp, _ := m.send(t, method, strings.NewReader(body), h)
	return resp
}

var preflight = map[string]string{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}

func TestCORSPreflightAndActualRequest(t *testing.T) {
	t.Parallel()
	m, err := tryGateway(t, withConfig(`
cors: {allow_origins: ["https://app.example.com", "https://*.shop.example"], allow_credentials: true, max_age: 5m}
auth: {api_keys: [{key: "frontend"}]}
providers: {telness: {simulate: true}}
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, method, origin string
		header               map[string]string
		status               int
		allowed              bool
	}{
		{"preflight from an allowed origin", http.MethodOptions, "https://app.example.com", preflight, http.StatusNoContent, true},
		{"preflight from a wildcard origin", http.MethodOptions, "https://eu.shop.example", preflight, http.StatusNoContent, true},
		{"preflight from another origin", http.MethodOptions, "https://evil.example", preflight, http.StatusNoContent, false},
		{"actual request from an allowed origin", http.MethodPost, "https://app.example.com", map[string]string{"Authorization": "Bearer frontend"}, 200, true},
		{"actual request from another origin", http.MethodPost, "https://evil.example", map[string]string{"Authorization": "Bearer frontend"}, 200, false},
		{"a wrong key still gets CORS headers, so the page can read the 401", http.MethodPost, "https://app.example.com", map[string]string{"Authorization": "Bearer nope"}, 401, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := corsRequest(t, m, tc.method, tc.origin, tc.header)
			h := resp.Header
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if !strings.Contains(h.Get("Vary"), "Origin") {
				t.Errorf("Vary %q lacks Origin: shared caches would mix origins", h.Get("Vary"))
			}
			if !tc.allowed {
				if got := h.Get("Access-Control-Allow-Origin"); got != "" {
					t.Fatalf("Access-Control-Allow-Origin %q for an origin not listed", got)
				}
				return
			}
			if got := h.Get("Access-Control-Allow-Origin"); got != tc.origin {
				t.Fatalf("Access-Control-Allow-Origin %q, want %q", got, tc.origin)
			}
			if h.Get("Access-Control-Allow-Credentials") != "true" {
				t.Errorf("no Access-Control-Allow-Credentials")
			}
			if tc.method == http.MethodOptions {
				if h.Get("Access-Control-Max-Age") != "300" || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "authorization") ||
					!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") {
					t.Errorf("preflight headers: %v", h)
				}
			} else if !strings.Contains(h.Get("Access-Control-Expose-Headers"), "Etag") && !strings.Contains(h.Get("Access-Control-Expose-Headers"), "ETag") {
				t.Errorf("Access-Control-Expose-Headers %q lacks ETag", h.Get("Access-Control-Expose-Headers"))
			}
		})
	}
}

func TestCORSIsOpenInDemoModeAndClosedByDefaultWithAConfig(t *testing.T) {
	t.Parallel()
	demoGW := startGateway(t)
	if got := corsRequest(t, demoGW, http.MethodOptions, "http://localhost:3000", preflight).Header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("demo mode: Access-Control-Allow-Origin %q, want *", got)
	}
	configured, err := tryGateway(t, withConfig("providers: {telness: {simulate: true}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	resp := corsRequest(t, configured, http.MethodOptions, "http://localhost:3000", preflight)
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" || resp.Header.Get("Allow") == "" {
		t.Errorf("no cors section: Access-Control-Allow-Origin %q, Allow %q; want none, and the plain OPTIONS answer", got, resp.Header.Get("Allow"))
	}
}

func TestABadCORSSectionIsAConfigError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, cors, want string }{
		{"any origin with credentials", `{allow_origins: ["*"], allow_credentials: true}`, "list the origins"},
		{"a path is no origin", `{allow_origins: ["https://app.example.com/login"]}`, "is not an origin"},
		{"no scheme", `{allow_origins: ["app.example.com"]}`, "is not an origin"},
		{"misspelt key", `{allow_origin: ["https://app.example.com"]}`, "allow_origin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tryGateway(t, withConfig("cors: "+tc.cors+"\nproviders: {telness: {simulate: true}}\n"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
