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
	upstreamCalls = counter("gateway_upstream_calls_total",
		"Upstream HTTP attempts by provider and outcome (2xx, 4xx, 5xx, error).", "outcome")
	upstreamDuration = histogram("gateway_upstream_call_duration_seconds",
		"Upstream HTTP attempt latency (to response headers) by provider.",
		.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10)
	upstreamErrors = counter("gateway_upstream_errors_total",
		"Failed upstream calls (after retries) and short-circuited ones by provider and gateway error code.", "code")
	upstreamRetries = counter("gateway_upstream_retries_total",
		"Upstream retries made, by provider.")
	upstreamRetriesDenied = counter("gateway_upstream_retries_denied_total",
		"Retries not made because the provider's retry or time budget was spent.")
	breakerStateGauge = gauge("gateway_upstream_breaker_state",
		"Circuit breaker state by provider: 0 closed, 1 half-open, 2 open.")
	breakerTransitions = counter("gateway_upstream_breaker_transitions_total",
		"Circuit breaker state changes by provider and new state.", "to")
	shortCircuits = counter("gateway_upstream_short_circuits_total",
		"Calls answered at once because the provider's circuit was open.")
	quotaWait = histogram("gateway_upstream_quota_wait_seconds",
		"Time calls waited for an outbound quota token, by provider.",
		0, .001, .01, .05, .1, .25, .5, 1, 2.5, 5)
	quotaShare = gauge("gateway_upstream_quota_share",
		"Replicas the provider credential's outbound quota is divided among.")
	quotaRejected = counter("gateway_upstream_quota_rejected_total",
		"Calls not sent because no quota token would come within the request's deadline.")
)

// counter, gauge and histogram make a metric labelled by provider, then by more.
func counter(name, help string, more ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, append([]string{"provider"}, more...))
}

func gauge(name, help string) *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, []string{"provider"})
}

func histogram(name, help string, buckets ...float64) *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, []string{"provider"})
}

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
