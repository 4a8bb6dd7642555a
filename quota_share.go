package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/postgres"
)

// Replicas on one database share each provider credential's outbound quota:
// every replica heartbeats its credentials into Postgres and divides each
// quota by the number of live replicas using that credential.
const (
	quotaHeartbeat  = 2 * time.Second
	quotaReplicaTTL = 3 * quotaHeartbeat // a replica not seen for this long no longer counts
)

type quotaShare struct {
	db      *postgres.DB
	m       *Main
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

// startQuotaShare heartbeats once (so the first calls already take their
// share, when the database answers) and then every quotaHeartbeat.
func (m *Main) startQuotaShare() {
	if m.db == nil || m.built == nil {
		return
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	q := &quotaShare{db: m.db, m: m, replica: hex.EncodeToString(b), byScope: map[postgres.QuotaScope]ds.ProviderID{}, shares: map[ds.ProviderID]int{}}
	for p, cred := range m.built.Credentials {
		s := postgres.QuotaScope{Provider: p.Key(), Credential: cred}
		q.scopes = append(q.scopes, s)
		q.byScope[s] = p
	}
	ctx, cancel := context.WithCancel(context.Background())
	q.cancel = cancel
	q.beat(ctx)
	q.wg.Go(func() {
		t := time.NewTicker(quotaHeartbeat)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				q.beat(ctx)
			}
		}
	})
	m.quota = q
}

func (q *quotaShare) beat(ctx context.Context) {
	q.mu.Lock()
	defer q.mu.Unlock()
	hctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	shares, err := q.db.Heartbeat(hctx, q.replica, q.scopes, quotaReplicaTTL)
	if err != nil {
		if ctx.Err() == nil && !q.failing {
			q.m.Log.Warn("cannot share the outbound quota with other replicas; keeping the last share", "error", err)
		}
		q.failing = ctx.Err() == nil
		return
	}
	if q.failing {
		q.m.Log.Info("sharing the outbound quota with other replicas again")
		q.failing = false
	}
	for s, n := range shares {
		p := q.byScope[s]
		if g, ok := q.m.built.Guards[p]; ok {
			if was := max(1, q.shares[p]); was != n {
				q.m.Log.Info("outbound quota shared", "provider", s.Provider, "replicas", n, "was", was)
			}
			q.shares[p] = n
			g.SetShare(n)
		}
	}
}

// stop ends the heartbeat and leaves, so the other replicas take the share back.
func (q *quotaShare) stop() {
	q.cancel()
	q.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := q.db.Leave(ctx, q.replica); err != nil {
		q.m.Log.Debug("leaving the quota share", "error", err)
	}
}
