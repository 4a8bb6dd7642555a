package rest

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"

	ds "github.com/federated-customers/gateway/datasource"
)

// Per-provider upstream metrics. They are process-wide (one set of
// providers per process); Collectors hands them to the /metrics registry.
var (
	upstreamCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gateway_upstream_calls_total", Help: "Upstream HTTP attempts by provider and outcome (2xx, 4xx, 5xx, error).",
	}, []string{"provider", "outcome"})
	upstreamDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "gateway_upstream_call_duration_seconds", Help: "Upstream HTTP attempt latency (to response headers) by provider.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"provider"})
	upstreamErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gateway_upstream_errors_total", Help: "Failed upstream calls (after retries) and short-circuited ones by provider and gateway error code.",
	}, []string{"provider", "code"})
	upstreamRetries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gateway_upstream_retries_total", Help: "Upstream retries made, by provider.",
	}, []string{"provider"})
	upstreamRetriesDenied = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gateway_upstream_retries_denied_total", Help: "Retries not made because the provider's retry or time budget was spent.",
	}, []string{"provider"})
	breakerStateGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "gateway_upstream_breaker_state", Help: "Circuit breaker state by provider: 0 closed, 1 half-open, 2 open.",
	}, []string{"provider"})
	breakerTransitions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gateway_upstream_breaker_transitions_total", Help: "Circuit breaker state changes by provider and new state.",
	}, []string{"provider", "to"})
	shortCircuits = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gateway_upstream_short_circuits_total", Help: "Calls answered at once because the provider's circuit was open.",
	}, []string{"provider"})
	quotaWait = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "gateway_upstream_quota_wait_seconds", Help: "Time calls waited for an outbound quota token, by provider.",
		Buckets: []float64{0, .001, .01, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"provider"})
	quotaShare = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "gateway_upstream_quota_share", Help: "Replicas the provider credential's outbound quota is divided among.",
	}, []string{"provider"})
	quotaRejected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gateway_upstream_quota_rejected_total", Help: "Calls not sent because no quota token would come within the request's deadline.",
	}, []string{"provider"})
)

// Collectors are the upstream metrics, for the /metrics registry.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{upstreamCalls, upstreamDuration, upstreamErrors, upstreamRetries, upstreamRetriesDenied,
		breakerStateGauge, breakerTransitions, shortCircuits, quotaWait, quotaRejected, quotaShare}
}

// providerMetrics are one provider's handles.
type providerMetrics struct {
	p                                                    string
	duration, quotaWait                                  prometheus.Observer
	errors                                               *prometheus.CounterVec
	retries, retriesDenied, shortCircuits, quotaRejected prometheus.Counter
}

func metricsFor(p ds.ProviderID) *providerMetrics {
	l := prometheus.Labels{"provider": p.String()}
	return &providerMetrics{
		p:             p.String(),
		duration:      upstreamDuration.With(l),
		quotaWait:     quotaWait.With(l),
		errors:        upstreamErrors.MustCurryWith(l),
		retries:       upstreamRetries.With(l),
		retriesDenied: upstreamRetriesDenied.With(l),
		shortCircuits: shortCircuits.With(l),
		quotaRejected: quotaRejected.With(l),
	}
}

func (m *providerMetrics) observe(start time.Time, outcome string) {
	m.duration.Observe(time.Since(start).Seconds())
	upstreamCalls.WithLabelValues(m.p, outcome).Inc()
}

func (m *providerMetrics) breakerState(s gobreaker.State) {
	v := map[gobreaker.State]float64{gobreaker.StateClosed: 0, gobreaker.StateHalfOpen: 1, gobreaker.StateOpen: 2}[s]
	breakerStateGauge.WithLabelValues(m.p).Set(v)
	breakerTransitions.WithLabelValues(m.p, stateName(s)).Inc()
}
