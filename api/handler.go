// Package api is the gateway's HTTP surface: GraphQL over HTTP (GET and
// POST), the playground, health, readiness and metrics. It wires gqlgen with
// explicit transports and limits, authenticates callers, and builds each
// request's dataloaders after authentication.
package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/vektah/gqlparser/v2/ast"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
	"github.com/federated-customers/gateway/graph"
	"github.com/federated-customers/gateway/resolvers"
)

// Limits bound what one request may ask for.
type Limits struct {
	MaxBodyBytes  int64         // default 1 MiB
	MaxDepth      int           // default 12
	MaxComplexity int           // default 20000
	Timeout       time.Duration // per request, default 30s
}

// APIKey is one caller's key and the providers it may use.
type APIKey struct {
	Key       string
	Providers []ds.ProviderID
}

// Options configure the handler.
type Options struct {
	Service *ds.Service
	// Keys, when non-empty, makes the GraphQL endpoint require an API key.
	Keys   []APIKey
	Limits Limits
	Log    *slog.Logger
	// Ready reports whether the gateway can serve (config loaded, cache reachable).
	Ready func(ctx context.Context) error
	// Registry receives the gateway's metrics; nil makes a new one.
	Registry *prometheus.Registry
	// Health is each provider's circuit breaker state (ProviderStatus.health).
	Health func(ds.ProviderID) (rest.Health, bool)
}

// New returns the gateway's HTTP handler.
func New(o Options) http.Handler {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	l := o.Limits
	if l.MaxBodyBytes == 0 {
		l.MaxBodyBytes = 1 << 20
	}
	if l.MaxDepth == 0 {
		l.MaxDepth = 12
	}
	if l.MaxComplexity == 0 {
		l.MaxComplexity = 20000
	}
	if l.Timeout == 0 {
		l.Timeout = 30 * time.Second
	}
	reg := o.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m := newMetrics(reg)
	for _, c := range rest.Collectors() { // per-provider upstream metrics
		if err := reg.Register(c); err != nil {
			if _, dup := err.(prometheus.AlreadyRegisteredError); !dup {
				panic(err)
			}
		}
	}

	gql := newGraphQLServer(l, o.Log, o.Health)
	services := map[[32]byte]*ds.Service{}
	for _, k := range o.Keys {
		services[sha256.Sum256([]byte(k.Key))] = o.Service.Restrict(k.Providers)
	}

	mux := http.NewServeMux()
	mux.Handle("/graphql", m.instrument(graphqlEndpoint(gql, o.Service, services, l, o.Log)))
	mux.HandleFunc("GET /{$}", playgroundHandler)
	mux.Handle("GET /playground/", playgroundAssets)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if o.Ready != nil {
			if err := o.Ready(r.Context()); err != nil {
				o.Log.Warn("not ready", "error", err)
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = io.WriteString(w, "not ready\n")
				return
			}
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}

func newGraphQLServer(l Limits, log *slog.Logger, health func(ds.ProviderID) (rest.Health, bool)) *handler.Server {
	cfg := graph.Config{Resolvers: &resolvers.Resolver{Health: health}}
	setComplexity(&cfg)
	srv := handler.New(graph.NewExecutableSchema(cfg))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetParserTokenLimit(15000) // security: bounds parser work on huge documents
	srv.Use(extension.Introspection{})
	srv.Use(extension.FixedComplexityLimit(l.MaxComplexity))
	srv.Use(depthLimit{Max: l.MaxDepth})
	srv.SetErrorPresenter(errorPresenter(log))
	srv.SetRecoverFunc(recoverFunc(log))
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		resp := next(ctx)
		if resp != nil {
			addReport(ctx, resp)
		}
		return resp
	})
	return srv
}

// graphqlEndpoint authenticates, bounds the body, checks method and media
// type, then builds the request's report and dataloaders.
func graphqlEndpoint(gql http.Handler, open *ds.Service, keyed map[[32]byte]*ds.Service, l Limits, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
		if len(keyed) > 0 {
			key := apiKey(r)
			s, ok := keyed[sha256.Sum256([]byte(key))]
			// security: keys are looked up by their SHA-256, so no comparison leaks a prefix
			if key == "" || !ok {
				w.Header().Set("WWW-Authenticate", `Bearer realm="gateway"`)
				writeError(w, r, http.StatusUnauthorized, ds.CodeUnauthenticated, "a valid API key is required (Authorization: Bearer <key> or X-API-Key)")
				return
			}
			svc = s
		}
		if r.Method == http.MethodPost {
			mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if err != nil || (mt != "application/json" && mt != "application/graphql-response+json") {
				writeError(w, r, http.StatusUnsupportedMediaType, ds.CodeBadUserInput, "POST /graphql takes Content-Type: application/json")
				return
			}
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, l.MaxBodyBytes)) // security: bounded body
			if err != nil {
				writeError(w, r, http.StatusRequestEntityTooLarge, ds.CodeBadUserInput, "the request body is larger than "+humanBytes(l.MaxBodyBytes))
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		} else if len(r.URL.RawQuery) > int(l.MaxBodyBytes) {
			writeError(w, r, http.StatusRequestURITooLong, ds.CodeBadUserInput, "the query string is too long; use POST")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), l.Timeout)
		defer cancel()
		ctx, _ = ds.WithReport(ctx)
		ctx = resolvers.WithLoaders(ctx, resolvers.NewLoaders(svc))
		gql.ServeHTTP(&statusFixer{ResponseWriter: w}, r.WithContext(ctx))
	})
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
	wrote    bool
	rejected bool
}

func (s *statusFixer) WriteHeader(code int) {
	if s.wrote {
		return
	}
	s.wrote = true
	s.rejected = code >= 400 && code < 500
	if code == http.StatusUnprocessableEntity && strings.HasPrefix(s.Header().Get("Content-Type"), "application/json") {
		code = http.StatusOK
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusFixer) Write(b []byte) (int, error) {
	s.wrote = true
	if s.rejected {
		var body map[string]json.RawMessage
		if json.Unmarshal(b, &body) == nil && string(body["data"]) == "null" {
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

// writeError answers a request the GraphQL engine never saw, still with a GraphQL body.
func writeError(w http.ResponseWriter, r *http.Request, status int, code ds.Code, msg string) {
	ct := "application/json"
	if strings.Contains(r.Header.Get("Accept"), "application/graphql-response+json") {
		ct = "application/graphql-response+json"
	}
	w.Header().Set("Content-Type", ct)
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
			s, ok := stats[p]
			if !ok {
				continue
			}
			line := map[string]any{
				"provider":   p.String(),
				"calls":      s.Calls,
				"durationMs": float64(s.Duration.Microseconds()) / 1000,
				"freshness":  string(s.Freshness),
			}
			if s.Freshness != ds.Live {
				line["ageSeconds"] = int(s.Age.Round(time.Second) / time.Second) // how old the oldest cached copy served is
			}
			list = append(list, line)
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
