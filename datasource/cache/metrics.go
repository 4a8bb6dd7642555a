package cache

import (
	"github.com/prometheus/client_golang/prometheus"

	ds "github.com/federated-customers/gateway/datasource"
)

// cacheAnswers counts reads the record store answered, by provider and
// freshness (CACHE within the TTL, STALE past it for a failing provider),
// and reads it passed upstream (LIVE).
var cacheAnswers = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "gateway_cache_answers_total",
	Help: "Reads of the record store by provider and freshness: CACHE (fresh copy), STALE (last good copy for a failing provider), LIVE (passed upstream).",
}, []string{"provider", "freshness"})

// Collectors are the record store's metrics, for the gateway's registry.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{cacheAnswers, secondLevelUp, secondLevelFailures, invalidationsReceived, syncRemoved, syncWalks}
}

func countAnswer(p ds.ProviderID, f ds.Freshness) {
	cacheAnswers.WithLabelValues(p.String(), string(f)).Inc()
}
