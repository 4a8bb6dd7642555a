package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
	"gopkg.in/yaml.v3"

	"github.com/federated-customers/gateway/api"
	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/federate"
	"github.com/federated-customers/gateway/datasource/providertest"
	"github.com/federated-customers/gateway/datasource/registry"
	"github.com/federated-customers/gateway/datasource/simkit"
	"github.com/federated-customers/gateway/postgres/pgtest"
)

// testPeople is the demo world's size in tests (go run . has demo.DefaultSize).
const testPeople = 300

// testGateway is a gateway one test started (startGateway), with the
// helpers tests use to talk to it and to its simulators.
type testGateway struct {
	*Main
	// unjudged: the cleanup does not fail the test on a close error (the
	// test stopped the gateway itself, or asked with closeUnjudged).
	unjudged bool
}

// gatewaySetup is what the options of startGateway set.
type gatewaySetup struct {
	m        *Main
	yaml     []string // the configuration file's parts; none: demo mode
	path     string   // a configuration file as is (withConfigFile)
	synced   bool
	unjudged bool
}

// gatewayOption configures a test gateway before it starts.
type gatewayOption func(testing.TB, *gatewaySetup)

// startGateway starts a gateway on a free loopback port for one test and
// closes it when the test ends. With no option it is the demo gateway
// (every provider simulated, testPeople people, no background sync, no log).
func startGateway(t testing.TB, opts ...gatewayOption) *testGateway {
	t.Helper()
	g, err := tryGateway(t, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// tryGateway is startGateway for a start that may fail: Run's error.
func tryGateway(t testing.TB, opts ...gatewayOption) (*testGateway, error) {
	t.Helper()
	s := &gatewaySetup{m: &Main{Listen: "127.0.0.1:0", People: testPeople, NoSync: true, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	for _, o := range opts {
		o(t, s)
	}
	s.m.ConfigPath = s.path
	if len(s.yaml) > 0 {
		s.m.ConfigPath = writeConfig(t, strings.Join(s.yaml, "\n"))
	}
	g := &testGateway{Main: s.m, unjudged: s.unjudged}
	if err := g.Run(context.Background()); err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := g.Close(ctx); err != nil && !g.unjudged {
			t.Errorf("close: %v", err)
		}
	})
	if s.synced {
		g.waitSynced(t)
	}
	return g, nil
}

// withConfig adds YAML to the gateway's configuration file (as go run .
// --config reads it); several are joined in order.
func withConfig(yaml string) gatewayOption {
	return func(_ testing.TB, s *gatewaySetup) { s.yaml = append(s.yaml, yaml) }
}

// withConfigf is withConfig of a format.
func withConfigf(format string, args ...any) gatewayOption {
	return withConfig(fmt.Sprintf(format, args...))
}

// withConfigFile starts the gateway from an existing file.
func withConfigFile(path string) gatewayOption {
	return func(_ testing.TB, s *gatewaySetup) { s.path = path }
}

// withSimulated configures every provider simulated; blocks["*"] is YAML
// for every provider's block, blocks[key] for one provider's (its
// upstream:, say), blocks[""] top-level YAML.
func withSimulated(blocks map[string]string) gatewayOption {
	var b strings.Builder
	b.WriteString(blocks[""] + "\nproviders:\n")
	for _, p := range ds.AllProviders {
		b.WriteString("  " + p.Key() + ":\n    simulate: true\n")
		for _, k := range []string{"*", p.Key()} {
			if extra, ok := blocks[k]; ok {
				b.WriteString("    " + strings.ReplaceAll(strings.TrimSpace(extra), "\n", "\n    ") + "\n")
			}
		}
	}
	return withConfig(b.String())
}

// withPostgres puts the gateway on a Postgres schema of its own (or the
// given database URL, shared with other gateways or behind a proxy).
func withPostgres(url ...string) gatewayOption {
	return func(t testing.TB, s *gatewaySetup) {
		db := ""
		if len(url) > 0 {
			db = url[0]
		} else {
			db = pgtest.Schema(t)
		}
		s.yaml = append(s.yaml, fmt.Sprintf("database_url: %q", db))
	}
}

// closeUnjudged lets the gateway's close fail without failing the test.
func closeUnjudged() gatewayOption { return func(_ testing.TB, s *gatewaySetup) { s.unjudged = true } }

// withSync runs the background sync per the configuration.
func withSync() gatewayOption { return func(_ testing.TB, s *gatewaySetup) { s.m.NoSync = false } }

// withSynced runs the background sync every hour and returns once every
// provider's first walk is complete (the identity index and the record
// store warm), with the simulators' counts reset; extra adds sync: keys.
func withSynced(extra ...string) gatewayOption {
	return func(_ testing.TB, s *gatewaySetup) {
		s.m.NoSync, s.synced = false, true
		s.yaml = append(s.yaml, "sync: {interval: 1h, gap: 1ms"+strings.Join(extra, "")+"}")
	}
}

// withClock is the cache's clock (a testClock moves it).
func withClock(now func() time.Time) gatewayOption {
	return func(_ testing.TB, s *gatewaySetup) { s.m.Now = now }
}

// withLimits overrides the configuration's request limits.
func withLimits(l api.Limits) gatewayOption {
	return func(_ testing.TB, s *gatewaySetup) { s.m.Limits = l }
}

// withPeople is the demo world's size.
func withPeople(n int) gatewayOption { return func(_ testing.TB, s *gatewaySetup) { s.m.People = n } }

// withLog writes the gateway's log as text lines to w.
func withLog(w io.Writer) gatewayOption {
	return func(_ testing.TB, s *gatewaySetup) { s.m.Log = slog.New(slog.NewTextHandler(w, nil)) }
}

// withLogOutput makes the logger the configuration's log: section asks
// for, writing to w.
func withLogOutput(w io.Writer) gatewayOption {
	return func(_ testing.TB, s *gatewaySetup) { s.m.Log, s.m.LogOutput = nil, w }
}

// withTracing records the gateway's spans with tp.
func withTracing(tp trace.TracerProvider) gatewayOption {
	return func(_ testing.TB, s *gatewaySetup) { s.m.Tracing = tp }
}

// vendors serves simulators at URLs of their own, as real vendors (see
// registry.ServeSimulators), over people (nil: the demo world of
// testPeople): gateways sharing them share their credentials, and so their
// cache keys and quotas. It returns them and the providers: section that
// points a gateway at them; blocks[key] adds YAML to one provider's block.
func vendors(t testing.TB, people []demo.Person, blocks map[string]string, providers ...ds.ProviderID) (string, registry.Simulators) {
	t.Helper()
	if people == nil {
		people = demo.People(testPeople)
	}
	sims, err := registry.ServeSimulators(people, providers...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sims.Close)
	provs := map[string]any{}
	for p, s := range sims {
		b := s.Block()
		if err := yaml.Unmarshal([]byte(blocks[p.Key()]), &b); err != nil {
			t.Fatal(err)
		}
		provs[p.Key()] = b
	}
	y, err := yaml.Marshal(map[string]any{"providers": provs})
	if err != nil {
		t.Fatal(err)
	}
	return string(y), sims
}

// waitSynced waits until every configured provider's sync is complete.
func (g *testGateway) waitSynced(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second) // a wait, not a bound: the machine is shared
	for _, p := range ds.AllProviders {
		if _, ok := g.Service.Customers[p]; !ok && (g.Service.Sources == nil || g.Service.Sources.ID() != p) {
			continue
		}
		for {
			st, ok := g.Syncer.Status(context.Background(), p)
			if ok && st.Complete {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s sync did not complete: %+v", p, st)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	g.resetKits(t)
}

// stop closes the gateway before the test ends (its error is not judged).
func (g *testGateway) stop(t testing.TB) {
	t.Helper()
	g.unjudged = true
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = g.Close(ctx)
}

// writeConfig writes a configuration file for one test.
func writeConfig(t testing.TB, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gateway.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// kit is provider p's simulator's kit (calls, faults, latency).
func (g *testGateway) kit(t testing.TB, p ds.ProviderID) *simkit.Kit {
	t.Helper()
	k, ok := g.Sims[p].(interface{ Kit() *simkit.Kit })
	if !ok {
		t.Fatalf("%s simulator has no Kit", p)
	}
	return k.Kit()
}

func (g *testGateway) kits(t testing.TB) []*simkit.Kit {
	t.Helper()
	var out []*simkit.Kit
	for p := range g.Sims {
		out = append(out, g.kit(t, p))
	}
	return out
}

// upstreamCalls counts requests every simulator received since the last reset.
func (g *testGateway) upstreamCalls(t testing.TB) map[ds.ProviderID]int {
	t.Helper()
	g.settle(t)
	out := map[ds.ProviderID]int{}
	for p := range g.Sims {
		out[p] = g.kit(t, p).Count()
	}
	return out
}

// noUpstreamCall fails for each simulator called since the last reset;
// false when one was.
func (g *testGateway) noUpstreamCall(t testing.TB, after string) bool {
	t.Helper()
	ok := true
	for p, n := range g.upstreamCalls(t) {
		if n != 0 {
			t.Errorf("%s: %d upstream calls %s, want none", p, n, after)
			ok = false
		}
	}
	return ok
}

// upstreamTotal is the calls every simulator received since the last reset.
func (g *testGateway) upstreamTotal(t testing.TB) int {
	t.Helper()
	n := 0
	for _, c := range g.upstreamCalls(t) {
		n += c
	}
	return n
}

// settle waits until the work the gateway's last answers left running is
// done: no fetch ahead runs (a page answers without waiting for one it did
// not need) and no simulator has a call in flight. Counting calls before
// then races with that work, and loses on a busy machine.
func (g *testGateway) settle(t testing.TB) { t.Helper(); quietFor(t, 0, g.kits(t)...) }

// quiesce is settle, and no simulator has received a call for 100 ms: a
// fetch ahead may still reach its simulator after the answer.
func (g *testGateway) quiesce(t testing.TB) { t.Helper(); quiet(t, g.kits(t)...) }

// quiet waits until no fetch ahead runs and none of kits has received a
// call for 100 ms or has one in flight.
func quiet(t testing.TB, kits ...*simkit.Kit) { t.Helper(); quietFor(t, 100*time.Millisecond, kits...) }

// quietFor waits until no fetch ahead runs (in any gateway of the
// process: they are counted together) and kits have had no call in
// flight, and no new call, for still.
func quietFor(t testing.TB, still time.Duration, kits ...*simkit.Kit) {
	t.Helper()
	last, since := -1, time.Now()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		n, busy := 0, federate.FetchesAhead() > 0
		for _, k := range kits {
			n += k.Count()
			busy = busy || k.InFlight() > 0
		}
		if n != last || busy {
			last, since = n, time.Now()
		}
		if !busy && time.Since(since) >= still {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the gateway's background work never settled")
}

// resetKits zeroes every simulator's counts once the last request's
// background work has landed (before the reset, not after).
func (g *testGateway) resetKits(t testing.TB) {
	t.Helper()
	g.settle(t)
	for _, k := range g.kits(t) {
		k.Reset()
	}
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type gqlResponse struct {
	Data       json.RawMessage `json:"data"`
	Errors     []gqlError      `json:"errors"`
	Extensions map[string]any  `json:"extensions"`
	status     int
}

func (r gqlResponse) codes() []string {
	var out []string
	for _, e := range r.Errors {
		c, _ := e.Extensions["code"].(string)
		out = append(out, c)
	}
	return out
}

// query posts a GraphQL query with variables.
func (g *testGateway) query(t testing.TB, q string, vars map[string]any) gqlResponse {
	t.Helper()
	_, out := g.post(t, map[string]any{"query": q, "variables": vars}, nil)
	return out
}

// queryExt posts a query with request extensions (e.g. {"cost": true}).
func (g *testGateway) queryExt(t testing.TB, q string, vars, ext map[string]any) gqlResponse {
	t.Helper()
	_, out := g.post(t, map[string]any{"query": q, "variables": vars, "extensions": ext}, nil)
	return out
}

// mutate posts a GraphQL request with extra HTTP headers.
func (g *testGateway) mutate(t testing.TB, q string, vars map[string]any, header map[string]string) gqlResponse {
	t.Helper()
	_, out := g.post(t, map[string]any{"query": q, "variables": vars}, header)
	return out
}

// send is an HTTP request to /graphql with headers; it returns the answer
// and its body, read and closed.
func (g *testGateway) send(t testing.TB, method string, body io.Reader, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	hr, _ := http.NewRequest(method, "http://"+g.Addr+"/graphql", body)
	for k, v := range header {
		hr.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, raw
}

// post sends a GraphQL request body with extra headers.
func (g *testGateway) post(t testing.TB, req map[string]any, header map[string]string) (*http.Response, gqlResponse) {
	t.Helper()
	body, _ := json.Marshal(req)
	h := map[string]string{"Content-Type": "application/json"}
	maps.Copy(h, header)
	resp, raw := g.send(t, "POST", bytes.NewReader(body), h)
	var out gqlResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("status %d, body not JSON: %.300s", resp.StatusCode, raw)
	}
	out.status = resp.StatusCode
	return resp, out
}

// get is GET path at the gateway: its status and body.
func (g *testGateway) get(t testing.TB, path string) (int, string) {
	t.Helper()
	return httpGet(t, "http://"+g.Addr+path)
}

func httpGet(t testing.TB, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// scrapeMetrics is GET /metrics. Upstream, cache and sync metrics are the
// process's: a test reading them runs alone (no t.Parallel).
func (g *testGateway) scrapeMetrics(t testing.TB) string {
	t.Helper()
	_, body := g.get(t, "/metrics")
	return body
}

func mustData[T any](t testing.TB, r gqlResponse) T {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("errors: %+v", r.Errors)
	}
	var v T
	if err := json.Unmarshal(r.Data, &v); err != nil {
		t.Fatalf("data %s: %v", r.Data, err)
	}
	return v
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// lockedLog is a log the gateway writes to and a test reads.
type lockedLog struct{ providertest.SyncBuffer }

// testClock is the cache's clock in tests that step past the TTL.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		c.t = time.Now()
	}
	return c.t
}

func (c *testClock) Advance(d time.Duration) { c.Now(); c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// waitFor polls cond until it holds or d has passed.
func waitFor(t testing.TB, d time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
