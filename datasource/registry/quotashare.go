package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/postgres"
)

// Replicas on one database share each provider credential's outbound quota:
// every replica heartbeats its credentials into Postgres and divides each
// quota by the number of live replicas using that credential.
const (
	quotaHeartbeat = 2 * time.Second
	// QuotaReplicaTTL: a replica not seen for this long no longer counts.
	QuotaReplicaTTL = 3 * quotaHeartbeat
)

// QuotaStore is where replicas meet (postgres.DB).
type QuotaStore interface {
	Heartbeat(ctx context.Context, replica string, scopes []postgres.QuotaScope, ttl time.Duration) (map[postgres.QuotaScope]int, error)
	Leave(ctx context.Context, replica string) error
}

// QuotaShare sets each guard's share of its vendor quota from the replicas
// the store has seen recently.
type QuotaShare struct {
	store   QuotaStore
	b       *Built
	log     *slog.Logger
	replica string
	scopes  []postgres.QuotaScope
	byScope map[postgres.QuotaScope]ds.ProviderID
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.Mutex // one beat at a time
	failing bool       // logged once per change of state
	// shares is the replica count last seen per provider: the log says
	// only when it changes (a guard without a rate keeps no share, so
	// asking it would log every beat, forever).
	shares map[ds.ProviderID]int
}

// ShareQuota heartbeats once (so the first calls already take their
// share, when the store answers) and then every quotaHeartbeat until Stop.
func (b *Built) ShareQuota(store QuotaStore, log *slog.Logger) *QuotaShare {
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	q := &QuotaShare{store: store, b: b, log: log, replica: hex.EncodeToString(id),
		byScope: map[postgres.QuotaScope]ds.ProviderID{}, shares: map[ds.ProviderID]int{}}
	for p, cred := range b.Credentials {
		s := postgres.QuotaScope{Provider: p.Key(), Credential: cred}
		q.scopes = append(q.scopes, s)
		q.byScope[s] = p
	}
	ctx, cancel := context.WithCancel(context.Background())
	q.cancel = cancel
	q.Beat(ctx)
	q.wg.Go(func() {
		t := time.NewTicker(quotaHeartbeat)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				q.Beat(ctx)
			}
		}
	})
	return q
}

// Beat is one heartbeat: it records this replica and applies the shares.
func (q *QuotaShare) Beat(ctx context.Context) {
	q.mu.Lock()
	defer q.mu.Unlock()
	hctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	shares, err := q.store.Heartbeat(hctx, q.replica, q.scopes, QuotaReplicaTTL)
	if err != nil {
		if ctx.Err() == nil && !q.failing {
			q.log.Warn("cannot share the outbound quota with other replicas; keeping the last share", "error", err)
		}
		q.failing = ctx.Err() == nil
		return
	}
	if q.failing {
		q.log.Info("sharing the outbound quota with other replicas again")
		q.failing = false
	}
	for s, n := range shares {
		p := q.byScope[s]
		if g, ok := q.b.Guards[p]; ok {
			if was := max(1, q.shares[p]); was != n {
				q.log.Info("outbound quota shared", "provider", s.Provider, "replicas", n, "was", was)
			}
			q.shares[p] = n
			g.SetShare(n)
		}
	}
}

// Stop ends the heartbeat and leaves, so the other replicas take the share back.
func (q *QuotaShare) Stop() {
	q.cancel()
	q.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := q.store.Leave(ctx, q.replica); err != nil {
		q.log.Debug("leaving the quota share", "error", err)
	}
}
