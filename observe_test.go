package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/simkit"
)

// jsonLines are the JSON log lines written so far.
func (s *lockedLog) jsonLines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s.String()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line not JSON: %q", sc.Text())
		}
		out = append(out, line)
	}
	return out
}

// accessLine waits for the access-log line of the request with id (it is
// written once the answer has gone out).
func (s *lockedLog) accessLine(t *testing.T, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, l := range s.jsonLines(t) {
			if l["msg"] == "request" && l["request_id"] == id {
				return l
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no access-log line for request %s in:\n%s", id, s.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// observed starts a gateway from yaml whose log (per the file's log:
// section) goes to the returned buffer; tp, when set, records its spans.
func observed(t *testing.T, yaml string, tp trace.TracerProvider) (*testGateway, *lockedLog) {
	t.Helper()
	buf := &lockedLog{}
	return startGateway(t, withConfig(yaml), withLogOutput(buf), withTracing(tp)), buf
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

const secretKey = "sk_live_0123456789abcdef"

func TestEachRequestWritesOneAccessLogLine(t *testing.T) {
	t.Parallel()
	m, logs := observed(t, `
log: {level: info, format: json}
auth:
  api_keys:
    - {name: frontend, key: "`+secretKey+`", providers: [kintsugi, telness]}
    - {key: "second-secret-key", providers: [kintsugi, telness]}
providers:
  kintsugi: {simulate: true}
  telness: {simulate: true}
`, nil)
	const q = `query Customers { customers(first: 3) { nodes { id email } } }`
	for _, tc := range []struct {
		name   string
		key    string
		fault  bool // Kintsugi answers 503 for good
		id     string
		status int
		level  string
		op     any // nil: none in the line
		opType any
		keyLog any // the key's name in the line; nil: none
		errors string
		fresh  string // Kintsugi's freshness in the line ("": none)
		replay bool   // answered from a stored response
	}{
		{"a good request", secretKey, false, "req-good.1", 200, "INFO", "Customers", "query", "frontend", "",
			"LIVE", false},
		{"a repeat is answered from the cache", secretKey, false, "req-cached.2", 200, "INFO", "Customers", "query", "frontend", "",
			"CACHE", false},
		{"the next repeat replays the stored response", secretKey, false, "req-replayed.5", 200, "INFO", "Customers", "query", "frontend", "", "", true},
		{"a partial failure is a warning with its code", "second-secret-key", true, "req-partial.3", 200, "WARN", "Customers", "query", "key-2",
			"PROVIDER_UNAVAILABLE:KINTSUGI", "LIVE", false}, // as extensions.providers: the failed calls were live
		{"a wrong key is refused before any operation", "not-a-key-at-all", false, "req-refused.4", 401, "INFO", nil, nil, nil, "UNAUTHENTICATED", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fault {
				m.kit(t, ds.Kintsugi).SetDown(&simkit.Fault{Status: 503, Message: "maintenance"})
				defer m.kit(t, ds.Kintsugi).SetDown(nil)
			}
			query := q
			if tc.fault { // a page not read before: no cached copy to serve
				query = `query Customers { customers(first: 4) { nodes { id email } } }`
			}
			m.resetKits(t)
			resp, out := m.post(t, map[string]any{"query": query}, map[string]string{"X-API-Key": tc.key, "X-Request-Id": tc.id})
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			l := logs.accessLine(t, tc.id)
			if l["level"] != tc.level || l["status"] != float64(tc.status) || l["operation"] != tc.op ||
				l["type"] != tc.opType || l["key"] != tc.keyLog {
				t.Fatalf("line %v", l)
			}
			if d, ok := l["duration_ms"].(float64); !ok || d <= 0 {
				t.Fatalf("duration_ms %v", l["duration_ms"])
			}
			if replayed, _ := l["replayed"].(bool); replayed != tc.replay {
				t.Fatalf("replayed %v, want %v", l["replayed"], tc.replay)
			}
			if got, _ := l["errors"].(string); got != tc.errors {
				t.Fatalf("errors %q, want %q", got, tc.errors)
			}
			// freshness and upstream calls per provider are what the response
			// reported in extensions.providers
			fresh, _ := l["freshness"].(map[string]any)
			up, _ := l["upstream"].(map[string]any)
			if fresh["KINTSUGI"] != nilIfEmpty(tc.fresh) {
				t.Fatalf("freshness %v, want KINTSUGI %q", fresh, tc.fresh)
			}
			reported := freshness(t, out)
			if tc.replay {
				reported = nil // a replay calls nothing; its line says replayed, its answer is all CACHE
			}
			if len(reported) != len(fresh) || len(reported) != len(up) {
				t.Fatalf("line: freshness %v, upstream %v; the response: %v", fresh, up, reported)
			}
			for p, r := range reported {
				if fresh[p] != r["freshness"] || up[p] != r["calls"] {
					t.Fatalf("line: freshness %v, upstream %v; the response: %v", fresh, up, reported)
				}
			}
			// and the calls it logs reached the simulators
			if n, _ := up["KINTSUGI"].(float64); int(n) > m.upstreamCalls(t)[ds.Kintsugi] {
				t.Fatalf("logged %v Kintsugi calls, the simulator counted %d", n, m.upstreamCalls(t)[ds.Kintsugi])
			}
		})
	}
	for _, k := range []string{secretKey, "second-secret-key", "not-a-key-at-all"} {
		if strings.Contains(logs.String(), k) {
			t.Fatalf("the log holds an API key:\n%s", logs.String())
		}
	}
}

func TestLogLevelAndFormatFollowTheConfiguration(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		log    string
		access bool   // the INFO access line of a good request is written
		shape  string // what a line looks like
	}{
		{"json at info", `{level: info, format: json}`, true, `^\{"time":`},
		{"text by default", `{}`, true, `^time=\S+ level=INFO msg=request request_id=lvl-1 `},
		{"warn leaves out info lines", `{level: warn, format: json}`, false, ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, logs := observed(t, "log: "+tc.log+"\nproviders:\n  kintsugi: {simulate: true}\n", nil)
			m.post(t, map[string]any{"query": `{ providers { provider } }`}, map[string]string{"X-Request-Id": "lvl-1"})
			m.post(t, map[string]any{"query": `{ providers { provider } }`}, map[string]string{"X-Request-Id": "lvl-2"})
			deadline := time.Now().Add(2 * time.Second)
			for tc.access && !strings.Contains(logs.String(), "lvl-2") && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			var line string
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, "lvl-1") {
					line = l
				}
			}
			if !tc.access {
				time.Sleep(100 * time.Millisecond) // a line, if wrongly written, would be there by now
				if strings.Contains(logs.String(), "lvl-") {
					t.Fatalf("an INFO access line at level warn:\n%s", logs.String())
				}
				return
			}
			if !regexp.MustCompile(tc.shape).MatchString(line) {
				t.Fatalf("line %q does not match %s", line, tc.shape)
			}
		})
	}
}

func TestARequestIDIsKeptOrMadeReturnedAndSentUpstream(t *testing.T) {
	t.Parallel()
	m, _ := observed(t, "providers:\n  kintsugi: {simulate: true}\n", nil)
	generated := regexp.MustCompile(`^[0-9a-f]{32}$`)
	page := 10
	for _, tc := range []struct {
		name, sent string
		kept       bool
	}{
		{"a sane id is kept", "7f3c-checkout:retry.2", true},
		{"none: one is made", "", false},
		{"too long: replaced", strings.Repeat("a", 129), false},
		{"unsafe characters: replaced", "id with spaces;<script>", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m.resetKits(t)
			page++
			h := map[string]string{}
			if tc.sent != "" {
				h["X-Request-Id"] = tc.sent
			}
			// a page not read before, so the request reaches the vendor
			resp, out := m.post(t, map[string]any{"query": fmt.Sprintf(`{ customers(first: %d) { nodes { id } } }`, page)}, h)
			if len(out.Errors) > 0 {
				t.Fatal(out.Errors)
			}
			id := resp.Header.Get("X-Request-Id")
			if tc.kept && id != tc.sent || !tc.kept && !generated.MatchString(id) {
				t.Fatalf("X-Request-Id %q for %q", id, tc.sent)
			}
			calls := m.kit(t, ds.Kintsugi).Calls()
			if len(calls) == 0 {
				t.Fatal("no upstream call")
			}
			for _, c := range calls {
				if got := c.Header.Get("X-Request-Id"); got != id {
					t.Fatalf("the vendor got X-Request-Id %q, want %q", got, id)
				}
			}
		})
	}
}

func TestTraceparentReachesTheVendor(t *testing.T) {
	t.Parallel()
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	traceID := "4bf92f3577b34da6a3ce929d0e0e4736"
	for _, tc := range []struct {
		name    string
		tracing bool
	}{
		{"tracing off: the caller's traceparent is passed on", false},
		{"tracing on: the upstream call's own span, in the caller's trace", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tp trace.TracerProvider
			var rec *tracetest.InMemoryExporter
			if tc.tracing {
				tp, rec = recordingTracer(t)
			}
			m, _ := observed(t, "providers:\n  kintsugi: {simulate: true}\n", tp)
			m.post(t, map[string]any{"query": `{ customers(first: 5) { nodes { id } } }`}, map[string]string{"traceparent": parent})
			calls := m.kit(t, ds.Kintsugi).Calls()
			if len(calls) == 0 {
				t.Fatal("no upstream call")
			}
			got := calls[0].Header.Get("traceparent")
			if !tc.tracing {
				if got != parent {
					t.Fatalf("traceparent %q, want the caller's %q", got, parent)
				}
				return
			}
			parts := strings.Split(got, "-")
			if len(parts) != 4 || parts[1] != traceID || parts[2] == "00f067aa0ba902b7" {
				t.Fatalf("traceparent %q: want trace %s with the upstream span's id", got, traceID)
			}
			if s := spanByID(rec, parts[2]); s == nil || s.SpanKind != trace.SpanKindClient {
				t.Fatalf("the vendor's parent span %s is not a recorded client span", parts[2])
			}
		})
	}
}

func recordingTracer(t *testing.T) (trace.TracerProvider, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, exp
}

// spanByID is the recorded span with id, or nil.
func spanByID(exp *tracetest.InMemoryExporter, id string) *tracetest.SpanStub {
	for _, s := range exp.GetSpans() {
		if s.SpanContext.SpanID().String() == id {
			return &s
		}
	}
	return nil
}

func TestMetricsCountOperationsAndErrorCodesWithBoundedLabels(t *testing.T) {
	t.Parallel()
	m, _ := observed(t, "providers:\n  kintsugi: {simulate: true}\n  telness: {simulate: true}\n", nil)
	m.query(t, `query Customers { customers(first: 3) { nodes { id } } }`, nil)
	m.kit(t, ds.Kintsugi).SetDown(&simkit.Fault{Status: 503, Message: "maintenance"})
	if r := m.query(t, `query Partial { customers(first: 4) { nodes { id } } }`, nil); len(r.Errors) == 0 || r.status != 200 {
		t.Fatalf("want a partial answer: %d %+v", r.status, r.Errors)
	}
	m.query(t, `{ customers(first: "x") { nodes { id } } }`, nil) // a bad argument: no data
	// many distinct names: the label takes the first 50, then "other"
	for i := range 60 {
		m.query(t, fmt.Sprintf(`query Op%d { providers { provider } }`, i), nil)
	}
	metrics := m.scrapeMetrics(t)
	for _, want := range []string{
		`gateway_graphql_requests_total{operation="Customers",result="ok",type="query"} 1`,
		`gateway_graphql_requests_total{operation="Partial",result="partial",type="query"} 1`,
		`gateway_graphql_requests_total{operation="none",result="error",type="none"} 1`, // refused before an operation
		`gateway_graphql_errors_total{code="PROVIDER_UNAVAILABLE",provider="KINTSUGI"} 1`,
		`gateway_graphql_errors_total{code="BAD_USER_INPUT",provider=""} 1`,
		`gateway_graphql_request_duration_seconds_count{operation="Partial"} 1`,
		`gateway_build_info{goversion="` + runtime.Version() + `",version=`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	names := regexp.MustCompile(`gateway_graphql_requests_total\{operation="([^"]+)"`).FindAllStringSubmatch(metrics, -1)
	distinct := map[string]bool{}
	for _, n := range names {
		distinct[n[1]] = true
	}
	// 50 names (Customers, Partial and 48 of the Op names), then other, plus none
	if len(distinct) != 52 || !distinct["other"] || !distinct["Op47"] || distinct["Op48"] {
		t.Fatalf("%d operation labels: %v", len(distinct), distinct)
	}
	if !strings.Contains(metrics, `gateway_graphql_requests_total{operation="other",result="ok",type="query"} 12`) {
		t.Errorf("the names past the first 50 are not counted as other")
	}
}
