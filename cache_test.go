package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/federated-customers/gateway/api"
	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/simkit"
	"github.com/federated-customers/gateway/postgres/pgtest"
)

// freshness is extensions.providers as provider → freshness, calls and age.
func freshness(t *testing.T, r gqlResponse) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	list, _ := r.Extensions["providers"].([]any)
	for _, v := range list {
		p := v.(map[string]any)
		out[p["provider"].(string)] = p
	}
	return out
}

const cachedPageQuery = `query($first: Int, $filter: CustomerFilter) { customers(first: $first, filter: $filter) { nodes { id email } pageInfo { hasNextPage } } }`

func TestARepeatedQueryIsServedFromTheCache(t *testing.T) {
	m := startGateway(t)
	vars := map[string]any{"first": 100}
	first := m.query(t, cachedPageQuery, vars)
	m.quiesce(t) // the page's fetch ahead, finishing in the background, is the first query's
	m.resetKits(t)
	again := m.query(t, cachedPageQuery, vars)
	if string(again.Data) != string(first.Data) {
		t.Fatal("the cached answer differs from the live one")
	}
	m.noUpstreamCall(t, "for a repeated query")
	served := 0.0
	for p, s := range freshness(t, again) {
		if s["freshness"] != "CACHE" || s["calls"].(float64) != 0 {
			t.Errorf("%s: %v, want CACHE and no calls", p, s)
		}
		served += s["cached"].(float64)
	}
	if served < 100 {
		t.Errorf("extensions.providers counts %v records served without a call, want at least the page's 100", served)
	}
	met := m.scrapeMetrics(t)
	for _, want := range []string{`gateway_cache_answers_total{freshness="CACHE",provider="KINTSUGI"}`, `gateway_cache_answers_total{freshness="LIVE",provider="KINTSUGI"}`} {
		if !strings.Contains(met, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// The records of that page are records too: nodes of them cost nothing.
	page := mustData[struct {
		Customers struct{ Nodes []customerNode } `json:"customers"`
	}](t, first)
	var ids []string
	for _, n := range page.Customers.Nodes {
		ids = append(ids, n.ID)
	}
	r := m.query(t, `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Customer { email } } }`, map[string]any{"ids": ids})
	if len(r.Errors) > 0 || strings.Count(string(r.Data), `"id"`) != len(ids) {
		t.Fatalf("nodes: %s %+v", r.Data, r.Errors)
	}
	m.noUpstreamCall(t, "for nodes the list returned")
}

func TestARestartedGatewayOnTheSameDatabaseMakesNoUpstreamCall(t *testing.T) {
	providers, sims := vendors(t, nil, nil, ds.Kintsugi, ds.DigitalRiver)
	kits := sims.Kits()
	schema := pgtest.Schema(t)
	vars := map[string]any{"first": 100}
	m1 := startGateway(t, withPostgres(schema), withConfig(providers))
	want := m1.query(t, cachedPageQuery, vars)
	if len(want.Errors) > 0 {
		t.Fatalf("%+v", want.Errors)
	}
	quiet(t, kits...) // the page's fetch ahead finishes, and is stored, in the background
	m1.stop(t)

	m2 := startGateway(t, withPostgres(schema), withConfig(providers))
	for _, k := range kits {
		k.Reset()
	}
	got := m2.query(t, cachedPageQuery, vars)
	if string(got.Data) != string(want.Data) {
		t.Fatal("the restarted gateway answered differently")
	}
	for i, k := range kits {
		if n := k.Count(); n != 0 {
			t.Errorf("simulator %d: %d calls after a restart within the TTL, want 0", i, n)
		}
	}
	for p, s := range freshness(t, got) {
		if s["freshness"] != "CACHE" {
			t.Errorf("%s: %v, want CACHE", p, s)
		}
	}
}

func TestAProviderDownPastTheTTLIsServedStaleWithItsAge(t *testing.T) {
	t.Parallel()
	clock := &testClock{}
	m := startGateway(t, withConfigf(`
database_url: %q
cache: {ttl: 60s, stale_if_error: 24h}
providers:
  kintsugi: {simulate: true}
  telness: {simulate: true}
`, pgtest.Schema(t)), withClock(clock.Now))
	vars := map[string]any{"first": 30, "filter": map[string]any{"providers": []string{"KINTSUGI"}}}
	want := m.query(t, cachedPageQuery, vars)
	clock.Advance(2 * time.Minute)
	m.kit(t, ds.Kintsugi).SetDown(&simkit.Fault{Status: http.StatusServiceUnavailable, Message: "maintenance"})
	got := m.query(t, cachedPageQuery, vars)
	if len(got.Errors) > 0 || string(got.Data) != string(want.Data) {
		t.Fatalf("got %s %+v, want the last good page", got.Data, got.Errors)
	}
	s := freshness(t, got)["KINTSUGI"]
	if s["freshness"] != "STALE" || s["ageSeconds"].(float64) != 120 {
		t.Fatalf("extensions.providers KINTSUGI = %v, want STALE with ageSeconds 120", s)
	}
	if w, _ := got.Extensions["warnings"].([]any); len(w) != 1 || !strings.Contains(fmt.Sprint(w), "KINTSUGI") {
		t.Fatalf("warnings = %v, want one saying KINTSUGI is served stale", got.Extensions["warnings"])
	}
	// A page never read before has no copy: the failure is reported.
	other := m.query(t, cachedPageQuery, map[string]any{"first": 7, "filter": map[string]any{"providers": []string{"KINTSUGI"}}})
	if c := other.codes(); len(c) != 1 || c[0] != "PROVIDER_UNAVAILABLE" {
		t.Fatalf("uncached page: codes %v, want PROVIDER_UNAVAILABLE", c)
	}
}

func TestPostgresStoppedInTheMiddleFailsNoRequest(t *testing.T) {
	proxy, url := pgtest.NewProxy(t, pgtest.Schema(t))
	m := startGateway(t, withPostgres(url), withConfig("providers:\n  kintsugi: {simulate: true}\n  commercelayer: {simulate: true}\n"))
	ready := func() string {
		code, b := m.readyz(t)
		if code != http.StatusOK { // Postgres down is degraded, never 503: every request is still answered
			t.Fatalf("/readyz = %d: %+v", code, b)
		}
		return b.Status
	}
	if got := ready(); got != api.StatusReady {
		t.Fatalf("%s with Postgres up", got)
	}
	m.query(t, cachedPageQuery, map[string]any{"first": 20})
	proxy.Cut()
	for first := 1; first <= 12; first++ {
		r := m.query(t, cachedPageQuery, map[string]any{"first": first * 5})
		if len(r.Errors) > 0 || r.status != http.StatusOK {
			t.Fatalf("first %d with Postgres gone: status %d, %+v", first*5, r.status, r.Errors)
		}
	}
	// Postgres out of service degrades the gateway, it does not make it unready
	if got := ready(); got != api.StatusDegraded {
		t.Fatalf("/readyz says %s with Postgres gone, want degraded", got)
	}
	if h := m.Cache.Health(); h.Up || h.Reason == "" {
		t.Fatalf("second level with Postgres gone: %+v", h)
	}
	if met := m.scrapeMetrics(t); !strings.Contains(met, "gateway_cache_postgres_up 0") {
		t.Fatal("/metrics does not say Postgres is out of service")
	}
	proxy.Restore()
	deadline := time.Now().Add(10 * time.Second)
	for !m.Cache.Health().Up || ready() != api.StatusReady {
		if time.Now().After(deadline) {
			t.Fatal("the second level did not come back after Postgres returned")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestAnUnreachableDatabaseAtStartDegradesButStaysReady(t *testing.T) {
	t.Parallel()
	m := startGateway(t, withConfig(`
database_url: "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=1"
providers:
  kintsugi: {simulate: true}
`))
	code, b := m.readyz(t)
	if code != http.StatusOK || b.Status != api.StatusDegraded || len(b.Dependencies) != 1 || b.Dependencies[0].State != "DOWN" {
		t.Fatalf("/readyz = %d %+v with an unreachable database_url, want 200 degraded with postgres DOWN", code, b)
	}
	if h := m.Cache.Health(); h.Up || h.Reason != "unreachable at start" {
		t.Fatalf("second level: %+v", h)
	}
	if r := m.query(t, cachedPageQuery, map[string]any{"first": 5}); len(r.Errors) > 0 {
		t.Fatalf("queries must still be answered: %+v", r.Errors)
	}
}

func TestSyncMakesTheIndexCompleteAndSaysSo(t *testing.T) {
	t.Parallel()
	m := startGateway(t, withConfig(`
sync: {interval: 1h, gap: 1ms, providers: {telness: 0s}}
providers:
  kintsugi: {simulate: true}
  commercelayer: {simulate: true}
  telness: {simulate: true}
  carecloud: {simulate: true}
`), withSync())
	want := map[string]int{}
	for _, p := range demo.People(testPeople) {
		for _, q := range []ds.ProviderID{ds.Kintsugi, ds.CommerceLayer} {
			if _, ok := p.IDs[q]; ok {
				want[q.String()]++
			}
		}
	}
	type status struct {
		Provider string
		Sync     *struct {
			Enabled, Complete bool
			Records           int
			LastRunAt         *string
			LastError         *string
		}
	}
	q := `{ providers { provider sync { enabled complete records lastRunAt lastError } } }`
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := mustData[struct{ Providers []status }](t, m.query(t, q, nil))
		byProvider := map[string]status{}
		for _, s := range got.Providers {
			byProvider[s.Provider] = s
		}
		ki, cl, cc := byProvider["KINTSUGI"].Sync, byProvider["COMMERCE_LAYER"].Sync, byProvider["CARECLOUD"].Sync
		if ki.Complete && cl.Complete && cc.Complete {
			if ki.Records != want["KINTSUGI"] || cl.Records != want["COMMERCE_LAYER"] || ki.LastRunAt == nil || ki.LastError != nil {
				t.Fatalf("kintsugi %+v commercelayer %+v, want %v records", *ki, *cl, want)
			}
			if cc.Records == 0 {
				t.Fatalf("carecloud sync indexed no customers: %+v", *cc)
			}
			if te := byProvider["TELNESS"].Sync; te == nil || te.Enabled || te.Complete {
				t.Fatalf("telness is turned off by sync.providers: %+v", te)
			}
			if byProvider["DIGITAL_RIVER"].Sync != nil {
				t.Fatal("an unconfigured provider has no sync state")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sync did not complete: kintsugi %+v commercelayer %+v carecloud %+v", *ki, *cl, *cc)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// After the sync, a customer the user never listed costs no call.
	m.resetKits(t)
	var id string
	for _, p := range demo.People(testPeople) {
		if v, ok := p.IDs[ds.Kintsugi]; ok {
			id = v
		}
	}
	r := m.query(t, `query($id: ID!) { customer(id: $id) { providerId } }`, map[string]any{"id": ds.CustomerNodeID(ds.Kintsugi, id)})
	if len(r.Errors) > 0 || !strings.Contains(string(r.Data), id) || m.kit(t, ds.Kintsugi).Count() != 0 {
		t.Fatalf("customer after sync: %s %+v, %d calls", r.Data, r.Errors, m.kit(t, ds.Kintsugi).Count())
	}
}
