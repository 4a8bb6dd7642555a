// Package api is the gateway's HTTP surface: GraphQL over HTTP (GET and
// POST), the playground, health, readiness and metrics. It wires gqlgen with
// explicit transports and limits, authenticates callers, and builds each
// request's dataloaders after authentication.
package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/klauspost/compress/gzhttp"
	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"golang.org/x/time/rate"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/cache"
	"github.com/federated-customers/gateway/datasource/rest"
	"github.com/federated-customers/gateway/graph"
	"github.com/federated-customers/gateway/request"
	"github.com/federated-customers/gateway/resolvers"
)

// Limits bound what one request may ask for.
type Limits struct {
	MaxBodyBytes  int64 // default 1 MiB
	MaxDepth      int   // default 12
	MaxComplexity int   // default 20000
	MaxFields     int   // fields once fragments are expanded, default 2000
	MaxCalls      int   // estimated upstream calls per operation, default 1000
	CallBudget    int   // upstream calls one request may make, default MaxCalls
	// Queries estimated over HeavyCalls (default 200) run MaxHeavy at a time
	// (default 1); the others wait up to HeavyWait (default 10s).
	HeavyCalls int
	MaxHeavy   int
	HeavyWait  time.Duration
	// HeavyFanOut is how many upstream calls a costly query has in flight
	// at once (default 2): its scans then leave the CPU to cheap requests.
	HeavyFanOut int
	// HeavyRate is how many upstream calls costly queries together start
	// per second (default 1000) once each has made HeavyCalls calls: it
	// bounds the CPU their scans' decoding takes when the upstream answers
	// fast, and never binds against a vendor's latency.
	HeavyRate int
	Timeout   time.Duration // per request, default 30s
	// MaxInFlight GraphQL requests run at once (default 32); MaxQueue more
	// (default 32) wait up to QueueWait (default 1s); the rest get 503.
	MaxInFlight int
	MaxQueue    int
	QueueWait   time.Duration
	// MaxResponseBytes bounds a response's data (default 8 MiB).
	MaxResponseBytes int
	// BodyTimeout bounds reading a request's body (default 5s), which
	// happens before the request takes a slot.
	BodyTimeout time.Duration
}

// APIKey is one caller's key and the providers it may use.
type APIKey struct {
	// Name stands for the key in logs, traces and metrics.
	Name string
	Key  string
	// Providers the key may use; nil means every configured provider.
	Providers []ds.ProviderID
	// Rate is the requests per second the key may make (0: no limit), in
	// bursts of up to Burst (default twice the rate, at least 1).
	Rate  float64
	Burst int
	// CallsPerMinute bounds the key's upstream calls (0: no limit).
	CallsPerMinute int
}

// caller is what a key may do: its view of the service and its rate.
type caller struct {
	name  string // the key's name, for logs and traces
	svc   *ds.Service
	rate  *rate.Limiter // nil: no limit
	calls *callQuota    // nil: no limit
}

// Options configure the handler.
type Options struct {
	Service *ds.Service
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

// withDefaults fills every zero limit with its default.
func (l Limits) withDefaults() Limits {
	setDefault(&l.MaxBodyBytes, 1<<20)
	setDefault(&l.BodyTimeout, 5*time.Second)
	setDefault(&l.MaxDepth, 12)
	setDefault(&l.MaxComplexity, 20000)
	setDefault(&l.MaxCalls, 1000)
	setDefault(&l.CallBudget, l.MaxCalls)
	setDefault(&l.HeavyCalls, 200)
	setDefault(&l.HeavyFanOut, 2)
	setDefault(&l.HeavyRate, 1000)
	setDefault(&l.MaxHeavy, 1)
	setDefault(&l.HeavyWait, 10*time.Second)
	setDefault(&l.MaxFields, 2000)
	setDefault(&l.Timeout, 30*time.Second)
	setDefault(&l.MaxInFlight, 32)
	setDefault(&l.MaxQueue, 32)
	setDefault(&l.QueueWait, time.Second)
	setDefault(&l.MaxResponseBytes, 8<<20)
	return l
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
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

// persistedQueries is how many APQ query texts are kept in process per API key (LRU).
const persistedQueries = 1000

func newGraphQLServer(l Limits, o Options, apq graphql.Cache[string]) *handler.Server {
	log := o.Log
	cfg := graph.Config{Resolvers: &resolvers.Resolver{Health: o.Health}}
	request.SetComplexity(&cfg)
	srv := handler.New(graph.NewExecutableSchema(cfg))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetParserTokenLimit(15000) // security: bounds parser work on huge documents
	if !o.NoIntrospection {
		srv.Use(extension.Introspection{})
	}
	// Trusted documents first: an id from the manifest is answered from it,
	// and with Require nothing else runs (no list and no Require: nothing to do).
	if len(o.Persisted.Manifest) > 0 || o.Persisted.Require {
		srv.Use(newTrustedDocuments(o.Persisted))
	}
	// Automatic persisted queries (Apollo APQ, sha256, GET and POST): clients
	// send a query's hash instead of its text once the gateway has seen it;
	// per API key, and shared by replicas through Postgres when configured.
	srv.Use(extension.AutomaticPersistedQuery{Cache: apq})
	srv.Use(&queryLimits{MaxDepth: l.MaxDepth, MaxComplexity: l.MaxComplexity, MaxFields: l.MaxFields, MaxCalls: l.MaxCalls,
		HeavyCalls: l.HeavyCalls, HeavyFanOut: l.HeavyFanOut, heavy: &lane{slots: make(chan struct{}, l.MaxHeavy), wait: l.HeavyWait},
		pace: rate.NewLimiter(rate.Limit(l.HeavyRate), max(1, l.HeavyFanOut))})
	srv.SetErrorPresenter(errorPresenter(log))
	srv.SetRecoverFunc(recoverFunc(log))
	srv.AroundRootFields(traceRootField)
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		noteOperation(ctx)
		if _, dry := wantsCost(graphql.GetOperationContext(ctx)); dry {
			// extensions: {dryRun: true} shows the estimate and runs nothing
			done := false
			return func(ctx context.Context) *graphql.Response {
				if done {
					return nil
				}
				done = true
				resp := &graphql.Response{}
				addCost(ctx, resp) // the response middleware runs inside next only
				return resp
			}
		}
		return next(ctx)
	})
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		resp := next(ctx)
		if resp != nil {
			dedupeProviderErrors(resp)
			capResponse(resp, l.MaxResponseBytes)
			addReport(ctx, resp)
			addCost(ctx, resp)
			settle(ctx, resp)
			noteResponse(ctx, resp)
		}
		return resp
	})
	return srv
}

// graphqlEndpoint authenticates, bounds the body, checks method and media
// type, then builds the request's report and dataloaders.
func graphqlEndpoint(serving func() *serving, open *ds.Service, callers func() map[[32]byte]caller, responses *responseCache) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sv := serving() // the limits in force when the request starts
		gql, shed, l := sv.gql, sv.shed, sv.limits
		switch r.Method {
		case http.MethodGet, http.MethodPost:
		case http.MethodOptions:
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			w.WriteHeader(http.StatusNoContent)
			return
		default:
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			writeError(w, r, http.StatusMethodNotAllowed, ds.CodeBadUserInput, "use GET or POST for /graphql")
			return
		}
		svc := open
		var quota *callQuota
		var who [32]byte // the caller's key hash; zero without keys
		if keyed := callers(); len(keyed) > 0 {
			key := apiKey(r)
			who = sha256.Sum256([]byte(key))
			s, ok := keyed[who]
			// security: keys are looked up by their SHA-256, so no comparison leaks a prefix
			if key == "" || !ok {
				w.Header().Set("WWW-Authenticate", `Bearer realm="gateway"`)
				writeError(w, r, http.StatusUnauthorized, ds.CodeUnauthenticated, "a valid API key is required (Authorization: Bearer <key> or X-API-Key)")
				return
			}
			svc, quota = s.svc, s.calls
			note(r.Context(), func(a *access) { a.key = s.name })
			if s.rate != nil && !allow(w, r, s.rate) {
				return
			}
		}
		body, ok := readBody(w, r, l) // before a slot: a slow body holds no capacity
		if !ok {
			return
		}
		body = documentID(r, body)
		release, ok := shed.admit(w, r)
		if !ok {
			return
		}
		defer release()
		pend := &pending{get: r.Method == http.MethodGet, ifNoneMatch: r.Header.Get("If-None-Match")}
		if responses != nil {
			key := responseKey(who, r, body)
			if responses.serve(w, r, key) {
				return
			}
			pend.cache, pend.key, pend.ctype = responses, key, responseType(r)
			pend.records, pend.index = responses.changes()
		}
		ctx, cancel := context.WithTimeout(r.Context(), l.Timeout)
		defer cancel()
		ctx = withPending(ctx, pend)
		ctx, rep := ds.WithReport(withErrorsSeen(ctx))
		note(ctx, func(a *access) { a.report = rep })
		ctx = withAPQScope(ctx, who)
		ctx = ds.WithIdempotency(ctx, hex.EncodeToString(who[:]), r.Header.Get("Idempotency-Key"))
		ctx = ds.WithCallBudget(ctx, l.CallBudget)
		ctx, done := withReleases(ctx)
		defer done()
		ctx, qs := withQuota(ctx, quota)
		defer qs.charge(ctx)
		ctx = request.With(ctx, request.NewLoaders(svc))
		gql.ServeHTTP(&statusFixer{ResponseWriter: w, quota: qs, pending: pend}, r.WithContext(ctx))
	})
}

// allow takes one request from the key's rate, or answers 429 with the
// seconds until the next one is allowed in Retry-After.
func allow(w http.ResponseWriter, r *http.Request, lim *rate.Limiter) bool {
	res := lim.Reserve()
	if res.OK() && res.Delay() == 0 {
		return true
	}
	wait := time.Second
	if res.OK() {
		wait = res.Delay()
		res.Cancel()
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(max(1, math.Ceil(wait.Seconds())))))
	writeError(w, r, http.StatusTooManyRequests, ds.CodeProviderRateLimited, fmt.Sprintf(
		"this API key may make %g requests per second (bursts of %d): retry after the time in Retry-After", float64(lim.Limit()), lim.Burst()))
	return false
}

// apiKey reads the caller's key from Authorization: Bearer or X-API-Key.
func apiKey(r *http.Request) string {
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		return strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
	}
	return r.Header.Get("X-API-Key")
}

// statusFixer answers 200 instead of 422 for request errors when the client
// accepts only application/json, as GraphQL over HTTP recommends for legacy
// clients (application/graphql-response+json keeps gqlgen's 4xx). A request
// that failed before execution (any 4xx from gqlgen) carries no data entry,
// as the GraphQL spec asks; gqlgen writes "data": null there.
type statusFixer struct {
	http.ResponseWriter
	wrote       bool
	rejected    bool
	notModified bool
	quota       *quotaState
	pending     *pending // the request's method and the answer's cache headers
}

func (s *statusFixer) WriteHeader(code int) {
	if s.wrote {
		return
	}
	s.wrote = true
	code = s.quota.apply(s.Header(), code)
	s.rejected = code >= 400 && code < 500
	if code == http.StatusNotAcceptable && s.pending.get {
		// gqlgen's GET transport refuses a mutation with 406; it is the
		// method that is wrong (GraphQL over HTTP: 405, Allow: POST)
		code = http.StatusMethodNotAllowed
		s.Header().Set("Allow", "POST")
	}
	if code == http.StatusUnprocessableEntity && strings.HasPrefix(s.Header().Get("Content-Type"), "application/json") {
		code = http.StatusOK
	}
	if s.pending.get {
		if code != http.StatusOK {
			s.pending.state = uncached
		}
		if s.pending.headers(s.Header()) {
			code, s.notModified = http.StatusNotModified, true // the client's copy is current
		}
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusFixer) Write(b []byte) (int, error) {
	if !s.wrote {
		s.WriteHeader(http.StatusOK)
	}
	if s.notModified {
		return len(b), nil
	}
	if s.rejected {
		var body map[string]json.RawMessage
		if json.Unmarshal(b, &body) == nil && (codeless(body) || string(body["data"]) == "null") {
			delete(body, "data")
			if nb, err := json.Marshal(body); err == nil {
				if _, err := s.ResponseWriter.Write(append(nb, '\n')); err != nil {
					return 0, err
				}
				return len(b), nil
			}
		}
	}
	return s.ResponseWriter.Write(b)
}

// codeless gives BAD_USER_INPUT to request errors that gqlgen's transports
// wrote without the error presenter (a mutation over GET), and reports
// whether it changed any.
func codeless(body map[string]json.RawMessage) bool {
	var errs []map[string]any
	if json.Unmarshal(body["errors"], &errs) != nil {
		return false
	}
	changed := false
	for _, e := range errs {
		ext, _ := e["extensions"].(map[string]any)
		if _, ok := ext["code"]; ok {
			continue
		}
		if ext == nil {
			ext = map[string]any{}
			e["extensions"] = ext
		}
		ext["code"] = string(ds.CodeBadUserInput)
		changed = true
	}
	if changed {
		body["errors"], _ = json.Marshal(errs)
	}
	return changed
}

// writeError answers a request the GraphQL engine never saw, still with a GraphQL body.
func writeError(w http.ResponseWriter, r *http.Request, status int, code ds.Code, msg string) {
	noteError(r.Context(), string(code), "")
	w.Header().Set("Content-Type", responseType(r))
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{
		"message": msg, "extensions": map[string]any{"code": string(code)},
	}}})
}

func humanBytes(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + " MiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// capResponse replaces data larger than max bytes with an error: the
// caller asked for more than one response may carry.
func capResponse(resp *graphql.Response, max int) {
	if len(resp.Data) <= max {
		return
	}
	n := len(resp.Data)
	resp.Data = nil
	resp.Errors = append(resp.Errors, &gqlerror.Error{
		Message: fmt.Sprintf("the response would be %s, over the limit of %s: ask for fewer fields or smaller pages",
			humanBytes(int64(n)), humanBytes(int64(max))),
		Extensions: map[string]any{"code": string(ds.CodeQueryTooComplex)},
	})
}

// providerLine is one provider's entry in extensions.providers.
func providerLine(p ds.ProviderID, s ds.ProviderStats) map[string]any {
	line := map[string]any{
		"provider":   p.String(),
		"calls":      s.Calls,
		"durationMs": float64(s.Duration.Microseconds()) / 1000,
		"freshness":  string(s.Freshness),
		"cached":     s.Cached, // records served without an upstream call
	}
	if s.Freshness != ds.Live {
		line["ageSeconds"] = ageSeconds(s.Age) // how old the oldest cached copy served is
	}
	return line
}

func ageSeconds(d time.Duration) int { return int(d.Round(time.Second) / time.Second) }

// addReport puts extensions.providers and extensions.warnings on a response.
func addReport(ctx context.Context, resp *graphql.Response) {
	rep := ds.ReportFrom(ctx)
	if rep == nil {
		return
	}
	stats, warnings := rep.Snapshot()
	if len(stats) == 0 && len(warnings) == 0 {
		return
	}
	if resp.Extensions == nil {
		resp.Extensions = map[string]any{}
	}
	if len(stats) > 0 {
		var list []map[string]any
		for _, p := range ds.AllProviders {
			if s, ok := stats[p]; ok {
				list = append(list, providerLine(p, s))
			}
		}
		resp.Extensions["providers"] = list
	}
	if len(warnings) > 0 {
		var list []map[string]any
		for _, w := range warnings {
			m := map[string]any{"code": string(w.Code), "message": w.Message}
			if w.Provider != nil {
				m["provider"] = w.Provider.String()
			}
			list = append(list, m)
		}
		resp.Extensions["warnings"] = list
	}
}
