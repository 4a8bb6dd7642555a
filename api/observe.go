package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	ds "github.com/federated-customers/gateway/datasource"
)

// TracerName names the spans this package starts.
const TracerName = "github.com/federated-customers/gateway/api"

// requestIDHeader carries the request's id in both directions and upstream.
const requestIDHeader = "X-Request-Id"

// saneRequestID is what a caller's X-Request-Id must look like to be kept:
// short, and nothing a log line or a vendor's header parser could trip on.
var saneRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// incomingRequestID is the caller's X-Request-Id when it is sane, else a new one.
func incomingRequestID(r *http.Request) string {
	if v := r.Header.Get(requestIDHeader); saneRequestID.MatchString(v) {
		return v
	}
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// access is what one GraphQL request did, for its log line, span and
// metrics; the handlers below the observer fill it in through the context.
type access struct {
	mu       sync.Mutex
	key      string // the API key's name, never the key
	opName   string
	opType   string
	errors   map[errorKey]bool // distinct (code, provider) in the answer
	report   *ds.Report
	data     bool // the answer carried data
	replayed bool // answered from a stored response
}

type errorKey struct{ code, provider string }

func noteError(ctx context.Context, code, provider string) {
	note(ctx, func(a *access) {
		if a.errors == nil {
			a.errors = map[errorKey]bool{}
		}
		a.errors[errorKey{code, provider}] = true
	})
}

// notePresented records a presented GraphQL error's code and provider.
func notePresented(ctx context.Context, e *gqlerror.Error) {
	if e == nil {
		return
	}
	c, _ := e.Extensions["code"].(string)
	p, _ := e.Extensions["provider"].(string)
	noteError(ctx, c, p)
}

// errorPresenter presents errors (presentError) and notes their codes.
func errorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	present := presentError(log)
	return func(ctx context.Context, err error) *gqlerror.Error {
		e := present(ctx, err)
		notePresented(ctx, e)
		return e
	}
}

// observer writes one access-log line per GraphQL request, ends its span
// and counts it by operation and error code.
type observer struct {
	log     *slog.Logger
	tracer  trace.Tracer
	metrics *metrics
	ops     *opNames
}

func (o *observer) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := incomingRequestID(r)
		w.Header().Set(requestIDHeader, id)
		// A caller's traceparent makes this request part of its trace (and
		// decides sampling); without tracing it is still passed on upstream.
		ctx := propagation.TraceContext{}.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := o.tracer.Start(ctx, "GraphQL request", trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("gateway.request_id", id)))
		ctx, x := withExchange(ds.WithRequestID(ctx, id))
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r.WithContext(ctx))
		o.finish(r, id, span, x.access, sw.status, time.Since(start))
	})
}

// finish writes the request's log line, ends its span and counts it.
func (o *observer) finish(r *http.Request, id string, span trace.Span, a *access, status int, took time.Duration) {
	a.mu.Lock()
	key, opName, opType, data, replayed, rep := a.key, a.opName, a.opType, a.data, a.replayed, a.report
	errs := make([]errorKey, 0, len(a.errors))
	for k := range a.errors {
		errs = append(errs, k)
	}
	a.mu.Unlock()
	slices.SortFunc(errs, func(x, y errorKey) int { return strings.Compare(x.code+"|"+x.provider, y.code+"|"+y.provider) })
	var stats map[ds.ProviderID]ds.ProviderStats
	if rep != nil {
		stats, _ = rep.Snapshot()
	}

	result := "ok"
	switch {
	case status >= 400 || (len(errs) > 0 && !data):
		result = "error"
	case len(errs) > 0:
		result = "partial" // data with errors: some provider failed
	}
	level := slog.LevelInfo
	var codeList []string
	for _, e := range errs {
		s := e.code
		if e.provider != "" {
			s += ":" + e.provider
		}
		codeList = append(codeList, s)
		switch {
		case e.code == string(ds.CodeInternal):
			level = slog.LevelError
		case strings.HasPrefix(e.code, "PROVIDER_") && level < slog.LevelWarn:
			level = slog.LevelWarn
		}
	}
	if status >= 500 && level < slog.LevelWarn {
		level = slog.LevelWarn
	}

	attrs := []slog.Attr{slog.String("request_id", id)}
	if opName != "" {
		attrs = append(attrs, slog.String("operation", truncate(opName, 100)))
	}
	if opType != "" {
		attrs = append(attrs, slog.String("type", opType))
	}
	if key != "" {
		attrs = append(attrs, slog.String("key", key))
	}
	attrs = append(attrs, slog.String("method", r.Method), slog.Int("status", status), slog.String("result", result),
		slog.Float64("duration_ms", float64(took.Microseconds())/1000))
	var calls, fresh []any
	recording := span.IsRecording() // without tracing, no attribute names are built
	for _, p := range ds.AllProviders {
		if s, ok := stats[p]; ok {
			calls = append(calls, slog.Int(p.String(), s.Calls))
			fresh = append(fresh, slog.String(p.String(), string(s.Freshness)))
			if recording {
				span.SetAttributes(attribute.Int("gateway.provider."+p.Key()+".calls", s.Calls),
					attribute.String("gateway.provider."+p.Key()+".freshness", string(s.Freshness)))
			}
		}
	}
	attrs = append(attrs, slog.Group("upstream", calls...), slog.Group("freshness", fresh...))
	if len(codeList) > 0 {
		attrs = append(attrs, slog.String("errors", strings.Join(codeList, ",")))
	}
	if replayed {
		attrs = append(attrs, slog.Bool("replayed", true))
	}
	o.log.LogAttrs(context.Background(), level, "request", attrs...)

	label := o.ops.label(opName)
	if opType == "" { // refused before an operation was parsed and validated
		label, opType = "none", "none"
	}
	m := o.metrics
	m.requests.WithLabelValues(r.Method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(r.Method).Observe(took.Seconds())
	m.operations.WithLabelValues(label, opType, result).Inc()
	m.opDuration.WithLabelValues(label).Observe(took.Seconds())
	for _, e := range errs {
		m.errors.WithLabelValues(errorCodeLabel(e.code), providerLabel(e.provider)).Inc()
	}

	if opType != "none" {
		span.SetName(opType + " " + label)
	}
	span.SetAttributes(attribute.Int("http.response.status_code", status), attribute.String("gateway.result", result))
	if opName != "" {
		span.SetAttributes(attribute.String("graphql.operation.name", truncate(opName, 100)))
	}
	if opType != "none" {
		span.SetAttributes(attribute.String("graphql.operation.type", opType))
	}
	if key != "" {
		span.SetAttributes(attribute.String("gateway.key", key))
	}
	if len(codeList) > 0 {
		span.SetAttributes(attribute.StringSlice("gateway.graphql.error_codes", codeList))
	}
	if result == "error" {
		span.SetStatus(codes.Error, "the request failed")
	}
	span.End()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// noteOperation records the operation's name and type once gqlgen parsed it.
func noteOperation(ctx context.Context) {
	oc := graphql.GetOperationContext(ctx)
	if oc == nil || oc.Operation == nil {
		return
	}
	name := oc.OperationName
	if name == "" {
		name = oc.Operation.Name
	}
	note(ctx, func(a *access) { a.opName, a.opType = name, string(oc.Operation.Operation) })
}

// noteResponse records whether the answer carries data (else its errors
// are the whole answer).
func noteResponse(ctx context.Context, resp *graphql.Response) {
	has := len(resp.Data) > 0 && string(resp.Data) != "null"
	note(ctx, func(a *access) { a.data = has })
}

// traceRootField is a span per root field: the parent of the field's
// resolver batches and upstream calls.
func traceRootField(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return next(ctx)
	}
	fc := graphql.GetRootFieldContext(ctx)
	ctx, span := parent.TracerProvider().Tracer(TracerName).Start(ctx, "resolve "+fc.Field.Name,
		trace.WithAttributes(attribute.String("graphql.field.name", fc.Field.Name)))
	defer span.End()
	return next(ctx)
}
