package api

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
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
