// Package api is the gateway's HTTP surface: GraphQL over HTTP (GET and
// POST), the playground, health, readiness and metrics. It wires gqlgen with
// explicit transports and limits, authenticates callers, and builds each
// request's dataloaders after authentication.
package api

import (
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/klauspost/compress/gzhttp"
	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/federated-customers/gateway/config"
	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/cache"
	"github.com/federated-customers/gateway/datasource/federate"
	"github.com/federated-customers/gateway/datasource/rest"
)

// Limits bound what one request may ask for: the configuration's own type,
// so the file, the handler and the tests spell them one way and take their
// defaults from one table (config.DefaultLimits).
type Limits = config.Limits

// Options configure the handler.
type Options struct {
	Service *federate.Service
	// Keys, when non-empty, makes the GraphQL endpoint require an API key.
	Keys []APIKey
	// CORS, when it allows origins, lets browser pages on them call the gateway.
	CORS   *CORS
	Limits Limits
	Log    *slog.Logger
	// Registry receives the gateway's metrics; nil makes a new one.
	Registry *prometheus.Registry
	// NoMetricsRoute leaves GET /metrics out (metrics_listen serves it elsewhere).
	NoMetricsRoute bool
	// Health is each provider's circuit breaker state (ProviderStatus.health).
	Health func(ds.ProviderID) (rest.Health, bool)
	// Changes is the record cache's change counter (cache.Layer.Changes);
	// with it, a response built wholly from fresh cached copies is kept and
	// replayed while nothing changed (nil: no response cache).
	Changes func() (records, index uint64)
	// Clock is the record cache's clock (default time.Now).
	Clock func() time.Time
	// ResponseCacheBytes bounds the stored responses (default 32 MiB; negative: none).
	ResponseCacheBytes int64
	// Tracing makes a span per request, root field, resolver batch and
	// upstream call (nil: no tracing; a caller's traceparent is still passed on).
	Tracing trace.TracerProvider
	// Readiness answers /readyz (nil: one built from Health).
	Readiness *Readiness
	// Version is gateway_build_info's version (default BuildVersion()).
	Version string
	// Persisted configures persisted queries: the shared APQ store and trusted documents.
	Persisted Persisted
	// NoIntrospection refuses __schema and __type queries.
	NoIntrospection bool
}

// NewRegistry is a metrics registry with the Go and process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// New returns the gateway's HTTP handler.
func New(o Options) *Handler {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	reg := o.Registry
	if reg == nil {
		reg = NewRegistry()
	}
	m := newMetrics(reg)
	if o.Version == "" {
		o.Version = BuildVersion()
	}
	if o.Tracing == nil {
		o.Tracing = noop.NewTracerProvider()
	}
	if o.Readiness == nil {
		o.Readiness = NewReadiness(ReadinessOptions{Health: o.Health, Providers: configured(o.Service), Log: o.Log})
		o.Readiness.Started()
	}
	for _, c := range append(append(rest.Collectors(), cache.Collectors()...), buildInfo(o.Version), o.Readiness) { // per-provider upstream and cache metrics
		if err := reg.Register(c); err != nil {
			if _, dup := err.(prometheus.AlreadyRegisteredError); !dup {
				panic(err)
			}
		}
	}

	top := &Handler{svc: o.Service, opts: o, apq: newAPQCache(o.Persisted.Store, o.Log)}
	top.Reload(o.Keys, o.CORS, o.Limits)

	mux := http.NewServeMux()
	responses := newResponseCache(o.Changes, o.Clock, o.ResponseCacheBytes, m.responses)
	obs := &observer{log: o.Log, tracer: o.Tracing.Tracer(TracerName), metrics: m, ops: &opNames{}}
	mux.Handle("/graphql", obs.wrap(graphqlEndpoint(top.serving, o.Service, top.callers, responses)))
	mux.HandleFunc("GET /{$}", playgroundHandler)
	mux.Handle("GET /playground/", playgroundAssets)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.Handle("GET /readyz", o.Readiness)
	if !o.NoMetricsRoute {
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	}
	// gzip when the client accepts it (and the answer is large enough to
	// gain from it); Vary: Accept-Encoding keeps shared caches right. Level 1:
	// JSON of repeated field names compresses well at the fastest level, and
	// the default level was 7% of a warm page's CPU.
	gz, err := gzhttp.NewWrapper(gzhttp.CompressionLevel(gzip.BestSpeed))
	if err != nil { // a constant, valid level: not expected
		o.Log.Error("gzip at level 1 refused; using the default level", "error", err)
		top.Handler = top.withCORS(gzhttp.GzipHandler(mux))
		return top
	}
	top.Handler = top.withCORS(gz(mux))
	return top
}
