package api

import (
	"net/http"
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	ds "github.com/federated-customers/gateway/datasource"
)

type metrics struct {
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	responses *prometheus.CounterVec
	// by operation (bounded, see opNames) and by GraphQL error code
	operations *prometheus.CounterVec
	opDuration *prometheus.HistogramVec
	errors     *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_http_requests_total", Help: "GraphQL HTTP requests by method and status.",
		}, []string{"method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gateway_http_request_duration_seconds", Help: "GraphQL HTTP request latency.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method"}),
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_response_cache_total", Help: "GraphQL requests answered from a stored response (hit), executed (miss), and responses stored.",
		}, []string{"result"}),
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_graphql_requests_total",
			Help: "GraphQL requests by operation name (the first 50 names seen, then other), type and result (ok, partial: data with errors, error).",
		}, []string{"operation", "type", "result"}),
		opDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gateway_graphql_request_duration_seconds", Help: "GraphQL request latency by operation name.",
			Buckets: prometheus.DefBuckets,
		}, []string{"operation"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_graphql_errors_total",
			Help: "GraphQL responses carrying an error, once per response, code and provider (\"\" when none is to blame).",
		}, []string{"code", "provider"}),
	}
	reg.MustRegister(m.requests, m.duration, m.responses, m.operations, m.opDuration, m.errors)
	return m
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (read deadlines).
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusWriter) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// knownCodes are the error codes a metric label may take; anything else
// counts as OTHER, so no caller can grow the series.
var knownCodes = map[string]bool{
	string(ds.CodeBadUserInput): true, string(ds.CodeUnauthenticated): true, string(ds.CodeForbidden): true,
	string(ds.CodeNotFound): true, string(ds.CodeUnsupportedByProvider): true, string(ds.CodeProviderUnavailable): true,
	string(ds.CodeProviderRateLimited): true, string(ds.CodeQueryTooComplex): true, string(ds.CodeInternal): true,
	"PERSISTED_QUERY_NOT_FOUND": true,
}

func errorCodeLabel(c string) string {
	if knownCodes[c] {
		return c
	}
	return "OTHER"
}

func providerLabel(p string) string {
	if q, ok := ds.ParseProvider(p); ok && q.String() == p {
		return p
	}
	return ""
}

// opNames bounds the operation label: the first maxOperations names seen
// get their own series, later ones count as "other"; an anonymous operation
// is "anonymous" and a request that never reached one (rejected before
// parsing) is "none". Names are GraphQL names (the parser checked them).
type opNames struct {
	mu   sync.Mutex
	seen map[string]bool
}

const maxOperations = 50

func (o *opNames) label(name string) string {
	if name == "" {
		return "anonymous"
	}
	name = truncate(name, 64)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen[name] {
		return name
	}
	if len(o.seen) >= maxOperations {
		return "other"
	}
	if o.seen == nil {
		o.seen = map[string]bool{}
	}
	o.seen[name] = true
	return name
}

// buildInfo is gateway_build_info{version,goversion}, always 1.
func buildInfo(version string) prometheus.Collector {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "gateway_build_info", Help: "The gateway's version and the Go version it was built with (always 1).",
	}, []string{"version", "goversion"})
	g.WithLabelValues(version, runtime.Version()).Set(1)
	return g
}

// BuildVersion is the module version the binary was built from ("(devel)"
// from a work tree), with the VCS revision when the build recorded one.
func BuildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += "+" + s.Value[:12]
		}
	}
	if v == "" {
		v = "unknown"
	}
	return v
}
