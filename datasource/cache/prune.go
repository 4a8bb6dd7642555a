package cache

import (
	"context"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/prometheus/client_golang/prometheus"
)

// A complete sync walk has seen every record the vendor holds; index rows
// of that provider credential it did not see (last seen before the walk
// began) are records the vendor no longer has, deleted behind the
// gateway's back, and are removed, with their cached records, everywhere.

// pruneTimeout bounds the one statement that removes unseen rows.
const pruneTimeout = 5 * time.Second

var syncRemoved = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "gateway_sync_records_removed_total",
	Help: "Index rows a complete sync walk removed because the vendor no longer has them, by provider.",
}, []string{"provider"})

// identityPruner is a second level that removes unseen index rows in one statement.
type identityPruner interface {
	PruneIdentities(ctx context.Context, p ds.ProviderID, cred string, seenBefore time.Time) ([]string, error)
}

// PruneIdentities removes the rows of one provider credential last seen
// before seenBefore and returns their vendor ids.
func (x *MemoryIndex) PruneIdentities(_ context.Context, p ds.ProviderID, cred string, seenBefore time.Time) ([]string, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	s := ds.Scope{Provider: p, Credential: cred}
	var gone []string
	for v, id := range x.records[s] {
		if id.SeenAt.Before(seenBefore) {
			gone = append(gone, v)
			x.unlink(indexKey{s, v}, id)
			delete(x.records[s], v)
		}
	}
	if len(gone) > 0 {
		x.changes.Add(1)
	}
	return gone, nil
}

// pruneUnseen removes what a complete walk begun at started did not see,
// from both index levels, the record store and every replica, and returns
// how many records it removed. When Postgres cannot be reached its rows
// stay until the next complete walk; the drops it missed are retried.
func (l *Layer) pruneUnseen(ctx context.Context, p ds.ProviderID, cred string, started time.Time) int {
	gone, _ := l.memIndex.PruneIdentities(ctx, p, cred, started)
	if pr, ok := l.level2().(identityPruner); ok {
		octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pruneTimeout)
		more, err := pr.PruneIdentities(octx, p, cred, started)
		cancel()
		if err != nil {
			l.fail(err)
		} else {
			l.ok()
			gone = union(gone, more)
		}
	}
	if len(gone) == 0 {
		return 0
	}
	syncRemoved.WithLabelValues(p.String()).Add(float64(len(gone)))
	l.log.Info("sync removed records the vendor no longer has", "provider", p.Key(), "records", len(gone))
	l.drop(ctx, p, cred, KindRecord, gone)
	l.drop(ctx, p, cred, KindPage, nil)
	l.dropShared(ctx, pendingKey{p, cred, kindIndex}, gone) // the other replicas' in-process index
	return len(gone)
}

func union(a, b []string) []string {
	seen := make(map[string]bool, len(a)+len(b))
	out := make([]string, 0, len(a)+len(b))
	for _, s := range append(a, b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// purge deletes expired rows in bounded batches.
func (l *Layer) purge() {
	before := l.now().Add(-(l.ttl + l.stale))
	for i := 0; i < 100; i++ {
		select {
		case <-l.stop:
			return
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		n, err := l.shared.Purge(ctx, before, purgeBatch)
		cancel()
		if err != nil {
			l.fail(err)
			return
		}
		if n < purgeBatch {
			return
		}
	}
}
