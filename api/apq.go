package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/lru"
)

// PersistedStore shares automatic persisted queries between replicas and
// restarts (postgres.DB); scope is a hash of the caller's API key.
type PersistedStore interface {
	PersistedQuery(ctx context.Context, scope, hash string) (string, bool, error)
	PersistQuery(ctx context.Context, scope, hash, query string) error
}

// Persisted configures persisted queries.
type Persisted struct {
	// Store, when set, shares APQ registrations (nil: per process).
	Store PersistedStore
	// Manifest is the trusted documents: operation id → document text.
	Manifest map[string]string
	// Require refuses every operation that is not in Manifest.
	Require bool
}

// persistedQueries is how many APQ query texts are kept in process per API key (LRU).
const persistedQueries = 1000

// persistedStoreTimeout bounds one look-up or registration in the shared
// store: past it the in-process copy answers (or the client resends the text).
const persistedStoreTimeout = time.Second

// apqScope is the caller's APQ scope (exchange.begin); "" outside a request.
func apqScope(ctx context.Context) string {
	if x := exchangeOf(ctx); x != nil {
		return x.apqScope
	}
	return ""
}

// apqCache is gqlgen's APQ cache, per key: an LRU per scope in process in
// front of the shared store.
type apqCache struct {
	store   PersistedStore
	log     *slog.Logger
	mu      sync.Mutex
	local   map[string]*lru.LRU[string] // scopes come from configured keys only
	failing atomic.Bool                 // the store's state, logged once per change
}

func newAPQCache(store PersistedStore, log *slog.Logger) *apqCache {
	return &apqCache{store: store, log: log, local: map[string]*lru.LRU[string]{}}
}

func (c *apqCache) scoped(ctx context.Context) (string, *lru.LRU[string]) {
	scope := apqScope(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.local[scope]
	if !ok {
		l = lru.New[string](persistedQueries)
		c.local[scope] = l
	}
	return scope, l
}

func (c *apqCache) Get(ctx context.Context, hash string) (string, bool) {
	scope, local := c.scoped(ctx)
	if q, ok := local.Get(ctx, hash); ok {
		return q, true
	}
	if c.store == nil {
		return "", false
	}
	sctx, cancel := context.WithTimeout(ctx, persistedStoreTimeout)
	defer cancel()
	q, ok, err := c.store.PersistedQuery(sctx, scope, hash)
	c.note(err)
	if ok && sha(q) == hash { // what comes back from the database is checked too
		local.Add(ctx, hash, q)
		return q, true
	}
	return "", false
}

func (c *apqCache) Add(ctx context.Context, hash, query string) {
	scope, local := c.scoped(ctx)
	local.Add(ctx, hash, query)
	if c.store == nil {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, persistedStoreTimeout)
	defer cancel()
	c.note(c.store.PersistQuery(sctx, scope, hash, query))
}

// note logs the shared store going down or coming back, once per change.
func (c *apqCache) note(err error) {
	if was := c.failing.Swap(err != nil); was != (err != nil) {
		if err != nil {
			c.log.Warn("persisted queries: the shared store does not answer; registrations stay in this process", "error", err)
		} else {
			c.log.Info("persisted queries: the shared store answers again")
		}
	}
}

func sha(s string) string {
	b := sha256.Sum256([]byte(s))
	return hex.EncodeToString(b[:])
}
