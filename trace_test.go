package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// spanTree renders spans as an indented tree (children in start order),
// with the attributes that say what each did; roots are spans whose parent
// is not among them.
func spanTree(spans tracetest.SpanStubs) (roots []tracetest.SpanStub, text string) {
	ids := map[trace.SpanID]bool{}
	for _, s := range spans {
		ids[s.SpanContext.SpanID()] = true
	}
	children := map[trace.SpanID][]tracetest.SpanStub{}
	for _, s := range spans {
		if p := s.Parent.SpanID(); ids[p] {
			children[p] = append(children[p], s)
		} else {
			roots = append(roots, s)
		}
	}
	var b strings.Builder
	var walk func(s tracetest.SpanStub, depth int)
	walk = func(s tracetest.SpanStub, depth int) {
		fmt.Fprintf(&b, "%s%s%s\n", strings.Repeat("  ", depth), s.Name, spanAttrs(s))
		kids := children[s.SpanContext.SpanID()]
		slices.SortStableFunc(kids, func(x, y tracetest.SpanStub) int { return x.StartTime.Compare(y.StartTime) })
		for _, k := range kids {
			walk(k, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, 0)
	}
	return roots, b.String()
}

var shownAttrs = []attribute.Key{"graphql.operation.name", "gateway.key", "gateway.provider", "gateway.batch.keys", "gateway.cache.level",
	"gateway.cache.memory_hits", "url.path", "http.response.status_code", "gateway.freshness",
	"gateway.provider.kintsugi.freshness", "gateway.provider.carecloud.freshness", "gateway.provider.kintsugi.calls", "gateway.provider.carecloud.calls"}

func spanAttrs(s tracetest.SpanStub) string {
	var parts []string
	for _, k := range shownAttrs {
		for _, a := range s.Attributes {
			if a.Key == k {
				parts = append(parts, fmt.Sprintf("%s=%s", k, a.Value.Emit()))
			}
		}
	}
	for _, e := range s.Events {
		var ev []string
		for _, a := range e.Attributes {
			if a.Key == "gateway.provider" || a.Key == "gateway.freshness" {
				ev = append(ev, a.Value.Emit())
			}
		}
		parts = append(parts, "event:"+e.Name+"("+strings.Join(ev, " ")+")")
	}
	if len(parts) == 0 {
		return ""
	}
	return " [" + strings.Join(parts, " ") + "]"
}

func attr(s tracetest.SpanStub, k attribute.Key) string {
	for _, a := range s.Attributes {
		if a.Key == k {
			return a.Value.Emit()
		}
	}
	return ""
}

func TestATracedCustomersRequestIsOneTree(t *testing.T) {
	t.Parallel()
	tp, exp := recordingTracer(t)
	m, _ := observed(t, `
providers:
  carecloud: {simulate: true}
  kintsugi: {simulate: true}
`, tp)
	const q = `query Customers { customers(first: 5, filter: {providers: [KINTSUGI]}) { nodes { id email sources { sourceId } linkedCustomers { id provider } } } }`
	m.resetKits(t)
	if r := m.query(t, q, nil); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	calls := m.upstreamTotal(t)
	roots, tree := spanTree(exp.GetSpans())
	t.Logf("trace of one customers request with sources and links:\n%s", tree)
	if len(roots) != 1 || roots[0].Name != "query Customers" || roots[0].SpanKind != trace.SpanKindServer ||
		attr(roots[0], "graphql.operation.name") != "Customers" {
		t.Fatalf("want one server span for the request at the root:\n%s", tree)
	}
	count := map[string]int{}
	client := 0
	for _, s := range exp.GetSpans() {
		if s.SpanContext.TraceID() != roots[0].SpanContext.TraceID() {
			t.Fatalf("span %s is in another trace", s.Name)
		}
		count[strings.Fields(s.Name)[0]]++
		if s.SpanKind == trace.SpanKindClient {
			client++
		}
	}
	if count["resolve"] != 1 || count["batch"] == 0 || count["cache"] == 0 {
		t.Fatalf("want a root-field span, resolver batches and cache lookups:\n%s", tree)
	}
	// one client span per upstream request the simulators received
	if client != calls || calls == 0 {
		t.Fatalf("%d upstream spans, the simulators counted %d calls:\n%s", client, calls, tree)
	}
	if !strings.Contains(tree, "batch sources by external id") {
		t.Fatalf("no batch for the sources:\n%s", tree)
	}

	// the same records again (another text, so no stored response): the
	// first cache level answers, with its freshness, and no call goes out
	exp.Reset()
	m.resetKits(t)
	if r := m.query(t, strings.Replace(q, "email", "email name", 1), nil); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	_, warm := spanTree(exp.GetSpans())
	t.Logf("the same request warm:\n%s", warm)
	if !strings.Contains(warm, "gateway.cache.level=memory") || !strings.Contains(warm, "event:cached answer(CARECLOUD CACHE)") || strings.Contains(warm, "GET ") {
		t.Fatalf("want memory-level cache lookups with cached answers and no upstream span:\n%s", warm)
	}
	if !m.noUpstreamCall(t, "") {
		t.FailNow()
	}
}

func TestTracingConfiguredExportsSpansOverOTLP(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int // the collector's answer
	}{
		{"the collector takes the spans", http.StatusOK},
		// 400 is not retried: the spans are dropped with a WARN line, the request was answered
		{"the collector refuses them", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var bodies []string
			collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				bodies = append(bodies, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type")+" "+string(b))
				mu.Unlock()
				w.WriteHeader(tc.status)
			}))
			t.Cleanup(collector.Close)
			m, logs := observed(t, fmt.Sprintf("tracing: {otlp_endpoint: %q, service_name: otlp-test-gateway}\nproviders:\n  kintsugi: {simulate: true}\n", collector.URL), nil)
			if r := m.query(t, `query Exported { customers(first: 2) { nodes { id } } }`, nil); len(r.Errors) > 0 || r.status != 200 {
				t.Fatal(r.status, r.Errors)
			}
			m.stop(t) // flushes the batched spans
			mu.Lock()
			defer mu.Unlock()
			all := strings.Join(bodies, "\n")
			if len(bodies) == 0 || !strings.HasPrefix(bodies[0], "POST /v1/traces application/x-protobuf") ||
				!strings.Contains(all, "otlp-test-gateway") || !strings.Contains(all, "query Exported") || !strings.Contains(all, "GET kintsugi") {
				t.Fatalf("the collector got %d requests: %.200q", len(bodies), all)
			}
			if warned := strings.Contains(logs.String(), "tracing: spans not exported"); warned != (tc.status != http.StatusOK) {
				t.Fatalf("warned %v for a collector answering %d:\n%s", warned, tc.status, logs.String())
			}
		})
	}
}
