package cache

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	ds "github.com/federated-customers/gateway/datasource"
)

// syncWalks counts the walks this replica made: summed over replicas, one
// per provider per interval.
var syncWalks = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "gateway_sync_walks_total",
	Help: "Background sync walks this replica made, by provider (summed over replicas: about one per sync.interval).",
}, []string{"provider"})

// One walk per provider per interval, whatever the number of replicas: the
// due time lives in the second level, and the replica that claims a due
// walk moves it one interval on; the others sleep until it is due again.
// Without a reachable second level each replica keeps its own due time.

// syncClaimer is a second level that keeps walks' due times.
type syncClaimer interface {
	ClaimSync(ctx context.Context, p ds.ProviderID, cred string, every time.Duration) (claimed bool, wait time.Duration, err error)
}

// localClaims are the due times of a replica on its own.
type localClaims struct {
	mu  sync.Mutex
	due map[ds.Scope]time.Time
}

func (c *localClaims) claim(p ds.ProviderID, cred string, every time.Duration) (bool, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.due == nil {
		c.due = map[ds.Scope]time.Time{}
	}
	s := ds.Scope{Provider: p, Credential: cred}
	now := time.Now()
	if due, ok := c.due[s]; ok && now.Before(due) {
		return false, due.Sub(now)
	}
	c.due[s] = now.Add(every)
	return true, every
}

// claimSync says whether this replica walks provider p now, and how long
// until the next walk is due.
func (l *Layer) claimSync(ctx context.Context, p ds.ProviderID, cred string, every time.Duration) (bool, time.Duration) {
	if c, ok := l.level2().(syncClaimer); ok {
		octx, cancel := context.WithTimeout(ctx, opTimeout)
		claimed, wait, err := c.ClaimSync(octx, p, cred, every)
		cancel()
		if err == nil {
			l.ok()
			l.claims.claim(p, cred, every) // keeps the local due time near, should the level go
			return claimed, wait
		}
		if ctx.Err() == nil {
			l.fail(err)
		}
	}
	return l.claims.claim(p, cred, every)
}

// untilDue is how long a replica sleeps before asking again: until the
// walk is due, plus a little jitter so replicas do not ask all at once,
// within [minSyncWait, every].
func untilDue(wait, every time.Duration) time.Duration {
	wait += time.Duration(rand.Int64N(int64(minSyncWait)))
	return min(max(wait, minSyncWait), every)
}

// minSyncWait is the shortest sleep between two claims.
const minSyncWait = 100 * time.Millisecond
