package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/federated-customers/gateway/api"
	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/kintsugi"
	"github.com/federated-customers/gateway/postgres/pgtest"
)

// readyz is GET /readyz: its status and its JSON body.
func (m *testGateway) readyz(t *testing.T) (int, api.ReadyBody) {
	t.Helper()
	resp, err := http.Get("http://" + m.Addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var b api.ReadyBody
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatalf("/readyz %d, body not JSON: %s", resp.StatusCode, raw)
	}
	t.Logf("/readyz %d\n%s", resp.StatusCode, raw)
	return resp.StatusCode, b
}

// component is the named dependency's or provider's state in b.
func component(b api.ReadyBody, name string) api.ComponentState {
	for _, c := range append(append([]api.ComponentState(nil), b.Dependencies...), b.Providers...) {
		if c.Name == name {
			return c
		}
	}
	return api.ComponentState{}
}

func TestPostgresDownIsDegradedNotUnready(t *testing.T) {
	t.Parallel()
	proxy, url := pgtest.NewProxy(t, pgtest.Schema(t))
	m, logs := observed(t, fmt.Sprintf("log: {format: json}\ndatabase_url: %q\nproviders:\n  kintsugi: {simulate: true}\n", url), nil)
	if code, b := m.readyz(t); code != 200 || b.Status != api.StatusReady || component(b, "postgres").State != "UP" || component(b, "KINTSUGI").State != "OK" {
		t.Fatalf("with Postgres up: %d %+v", code, b)
	}
	proxy.Cut()
	m.query(t, cachedPageQuery, map[string]any{"first": 7}) // a request meets the cut and takes the level out
	for range 5 {
		code, b := m.readyz(t)
		pg := component(b, "postgres")
		if code != 200 || b.Status != api.StatusDegraded || pg.State != "DOWN" || pg.Reason == "" {
			t.Fatalf("with Postgres cut: %d %+v", code, b)
		}
	}
	metrics := m.scrapeMetrics(t)
	for _, want := range []string{"gateway_ready 1", "gateway_degraded 1", `gateway_dependency_up{dependency="postgres",state="DOWN"} 0`, `gateway_dependency_up{dependency="kintsugi",state="OK"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	proxy.Restore()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, b := m.readyz(t); b.Status == api.StatusReady {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("/readyz did not say ready again after Postgres returned")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// six probes and a scrape while degraded, more while recovering: one line per change
	var changes []string
	for _, l := range logs.jsonLines(t) {
		if l["msg"] == "readiness changed" {
			changes = append(changes, fmt.Sprint(l["level"], " ", l["status"]))
			if pg, _ := l["postgres"].(map[string]any); l["status"] == api.StatusDegraded && (pg == nil || pg["error"] == "") {
				t.Errorf("the degraded line does not say what failed: %v", l) // the body leaves the driver's error out
			}
		}
	}
	if strings.Join(changes, ",") != "WARN degraded,INFO ready" {
		t.Fatalf("readiness log lines %v, want one WARN degraded and one INFO ready", changes)
	}
}

func TestRejectedCredentialsAndAWrongBaseURLShowAsMisconfigured(t *testing.T) {
	t.Parallel()
	_, sims := vendors(t, nil, nil, ds.Kintsugi, ds.DigitalRiver)
	ki, dr := sims[ds.Kintsugi], sims[ds.DigitalRiver]
	kc := ki.Config.(kintsugi.Config)
	// Kintsugi: a base_url with a wrong path, every list 404s (the simulator's
	// router, as a real server's). Digital River: a key the vendor rejects (401).
	m, _ := observed(t, fmt.Sprintf(`
providers:
  kintsugi: {base_url: %q, api_key: %q, organization_id: %q}
  digitalriver: {base_url: %q, api_key: "sk_test_revoked"}
  telness: {simulate: true}
`, kc.BaseURL+"/api", kc.APIKey, kc.OrganizationID, dr.URL), nil)
	if _, b := m.readyz(t); b.Status != api.StatusReady {
		t.Fatalf("before any call: %+v", b) // nothing is known to be wrong yet
	}
	r := m.query(t, `{ customers(first: 5) { nodes { id } } }`, nil)
	if len(r.Errors) == 0 {
		t.Fatal("no error from two misconfigured providers")
	}
	if ki.Kit.Count() == 0 || dr.Kit.Count() == 0 {
		t.Fatal("the misconfigured providers were never called")
	}
	code, b := m.readyz(t)
	if code != 200 || b.Status != api.StatusDegraded {
		t.Fatalf("%d %+v, want 200 degraded", code, b)
	}
	for name, want := range map[string]string{"KINTSUGI": "BASE_URL_NOT_FOUND", "DIGITAL_RIVER": "CREDENTIALS_REJECTED", "TELNESS": ""} {
		c := component(b, name)
		state := "MISCONFIGURED"
		if want == "" {
			state = "OK"
		}
		if c.State != state || c.Problem != want || (want != "" && c.Reason == "") {
			t.Errorf("%s: %+v, want %s %s with a reason", name, c, state, want)
		}
	}
	var health struct {
		Providers []struct {
			Provider string
			Health   *struct {
				State, Configuration string
				Problem, LastError   *string
			}
		}
	}
	out := m.query(t, `{ providers { provider health { state configuration problem lastError } } }`, nil)
	if err := json.Unmarshal(out.Data, &health); err != nil {
		t.Fatal(err)
	}
	for _, p := range health.Providers {
		h := p.Health
		switch p.Provider {
		case "KINTSUGI", "DIGITAL_RIVER":
			if h == nil || h.State != "CLOSED" || h.Configuration != "MISCONFIGURED" || h.Problem == nil || h.LastError == nil {
				t.Errorf("%s health %s", p.Provider, out.Data)
			}
		case "TELNESS":
			if h == nil || h.Configuration != "OK" || h.Problem != nil {
				t.Errorf("%s health %s", p.Provider, out.Data)
			}
		}
	}
	t.Logf("providers { health }: %s", out.Data)
}

func TestNotReadyOnlyWhenTheGatewayCannotServe(t *testing.T) {
	t.Parallel()
	// No provider configured is refused by config.Parse before a gateway
	// starts; api's TestReadinessIsUnreadyOnlyWhileItCannotServe covers the
	// readiness answer for it.
	t.Run("shutting down", func(t *testing.T) {
		m, _ := observed(t, "providers:\n  kintsugi: {simulate: true}\n", nil)
		if code, _ := m.readyz(t); code != http.StatusOK {
			t.Fatalf("%d before shutting down", code)
		}
		m.readiness.ShuttingDown() // what Close (and a drain before it) does first
		if code, b := m.readyz(t); code != http.StatusServiceUnavailable || b.Reason != "shutting down" {
			t.Fatalf("%d %+v", code, b)
		}
		// requests in flight and new ones are still answered until the listener closes
		if r := m.query(t, `{ providers { provider } }`, nil); len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
	})
}
