package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/kintsugi"
	"github.com/federated-customers/gateway/datasource/simkit"
)

// externalKintsugi serves a Kintsugi simulator at its own URL, as a real
// vendor, and puts its base URL and credentials in KINTSUGI_URL, _KEY, _ORG.
func externalKintsugi(t *testing.T) *simkit.Kit {
	t.Helper()
	_, sims := vendors(t, nil, nil, ds.Kintsugi)
	cc := sims[ds.Kintsugi].Config.(kintsugi.Config)
	t.Setenv("KINTSUGI_URL", cc.BaseURL)
	t.Setenv("KINTSUGI_KEY", cc.APIKey)
	t.Setenv("KINTSUGI_ORG", cc.OrganizationID)
	return sims[ds.Kintsugi].Kit
}

func TestAConfigFileSelectsProvidersAndReachesRealBaseURLs(t *testing.T) {
	// Kintsugi is "real" here: a vendor server at its own URL, reached with
	// credentials from the environment, as in production.
	kit := externalKintsugi(t)
	m, err := tryGateway(t, withConfig(`
cursor_secret: "${KINTSUGI_KEY}-cursor"
providers:
  kintsugi: {base_url: "${KINTSUGI_URL}", api_key: "${KINTSUGI_KEY}", organization_id: "${KINTSUGI_ORG}"}
  commercelayer: {simulate: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	onceEach(t, m.walk(t, 37, nil), ds.Kintsugi, ds.CommerceLayer)
	if kit.Count() == 0 {
		t.Fatal("the configured Kintsugi URL was never called")
	}
	// a disabled provider's customer is NOT_FOUND, with no call anywhere
	r := m.query(t, `query($id: ID!) { customer(id: $id) { id } }`, map[string]any{"id": ds.CustomerNodeID(ds.Telness, "00000000-0000-4000-a000-000000000000")})
	if c := r.codes(); len(c) != 1 || c[0] != "NOT_FOUND" {
		t.Fatalf("disabled provider: %+v", r.Errors)
	}
}

func TestABadConfigFileStopsTheGatewayWithAClearMessage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"commerce layer without credentials", `providers: {commercelayer: {base_url: "https://acme.commercelayer.io/api"}}`, "commercelayer: set access_token"},
		{"kintsugi without a key", `providers: {kintsugi: {base_url: "https://api.trykintsugi.com"}}`, "kintsugi: api_key is required"},
		{"misspelt provider key", `providers: {telness: {base_url: "https://x", api_kee: "k"}}`, "api_kee"},
		{"unknown provider", `providers: {stripe: {simulate: true}}`, `unknown provider "stripe"`},
		{"relative base_url", `providers: {digitalriver: {base_url: "api.digitalriver.com", api_key: "sk"}}`, "base_url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tryGateway(t, withConfig(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
	if err := (&Main{ConfigPath: filepath.Join(t.TempDir(), "missing.yaml"), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Run(context.Background()); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestMetricsListenServesMetricsApart(t *testing.T) {
	t.Parallel()
	m, err := tryGateway(t, withConfig("metrics_listen: \"127.0.0.1:0\"\nproviders:\n  telness: {simulate: true}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m.MetricsAddr == "" || m.MetricsAddr == m.Addr {
		t.Fatalf("metrics address %q, gateway %q", m.MetricsAddr, m.Addr)
	}
	m.query(t, `{ customers(first: 1) { nodes { id } } }`, nil)
	if status, body := httpGet(t, "http://"+m.MetricsAddr+"/metrics"); status != 200 || !strings.Contains(body, "gateway_http_requests_total") {
		t.Errorf("metrics_listen /metrics: %d %.100s", status, body)
	}
	if status, _ := m.get(t, "/metrics"); status != http.StatusNotFound {
		t.Errorf("the public address still serves /metrics: %d", status)
	}
	if _, err := tryGateway(t, withConfig("metrics_listen: \"256.0.0.1:99999\"\nproviders:\n  telness: {simulate: true}\n")); err == nil || !strings.Contains(err.Error(), "metrics_listen") {
		t.Errorf("a bad metrics_listen: %v", err)
	}
}

func TestShutdownCancelsARunawayRequestAtItsDeadline(t *testing.T) {
	// a vendor outside the gateway (not a simulator it closes) answering in 10s
	externalKintsugi(t).SetLatency(10 * time.Second)
	m, err := tryGateway(t, withConfig(`
providers:
  kintsugi: {base_url: "${KINTSUGI_URL}", api_key: "${KINTSUGI_KEY}", organization_id: "${KINTSUGI_ORG}"}
`))
	if err != nil {
		t.Fatal(err)
	}
	answered := make(chan gqlResponse, 1)
	go func() {
		body := strings.NewReader(`{"query":"{ customers(first: 1) { nodes { id } } }"}`)
		resp, err := http.Post("http://"+m.Addr+"/graphql", "application/json", body)
		var out gqlResponse
		if err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
		}
		answered <- out
	}()
	time.Sleep(200 * time.Millisecond) // the request waits on the vendor
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	m.unjudged = true
	_ = m.Close(ctx) // past its deadline: an error, and the request is cancelled
	select {
	case out := <-answered:
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("the request ended %v after shutdown began", took)
		}
		if len(out.Errors) == 0 {
			t.Errorf("the cancelled request has no error: %+v", out)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the runaway request still runs 5s after shutdown began")
	}
}
