// The Layer: options, construction, its background probe and purge, Now and Changes.

package cache

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"golang.org/x/sync/singleflight"
)

// Defaults of design.md's cache block.
const (
	DefaultTTL          = 60 * time.Second
	DefaultStaleIfError = 24 * time.Hour
	// opTimeout bounds one second-level operation, so a database that hangs
	// costs a request at most this long before the level is taken out.
	opTimeout = 500 * time.Millisecond
	// pingEvery is how often an unreachable second level is probed.
	pingEvery = time.Second
	// purgeEvery and purgeBatch bound the background purge of expired rows.
	purgeEvery = time.Minute
	purgeBatch = 1000
)

// Options configure a Layer.
type Options struct {
	TTL          time.Duration // default 60s when 0; negative: always live (config ttl: 0)
	StaleIfError time.Duration // default 24h
	// MaxEntries and MaxBytes bound the first level (defaults 50,000 and 256 MiB).
	MaxEntries int
	MaxBytes   int64
	// Shared is the second level (Postgres); nil keeps everything in process.
	Shared Shared
	Log    *slog.Logger
	// Now is the clock (tests move it); default time.Now.
	Now func() time.Time
}

// Layer is the cache shared by every wrapped provider of one gateway.
type Layer struct {
	ttl, stale time.Duration
	l1         *Memory
	shared     Shared
	memIndex   *MemoryIndex
	healthy    atomic.Bool
	stateMu    sync.Mutex
	lastErr    error
	reason     string    // why the second level is out
	since      time.Time // when it last changed state
	failures   int       // operations failed in a row
	probeNow   chan struct{}
	// id tells this replica's published drops from others'; pending holds
	// drops the second level has not seen (invalidate.go).
	id          string
	pending     pendingDrops
	unsubscribe func()
	claims      localClaims // sync due times without the second level (claim.go)
	log         *slog.Logger
	now         func() time.Time
	flight      singleflight.Group

	stop    chan struct{}
	done    chan struct{}
	started atomic.Bool
	once    sync.Once
}

// New returns a layer; Start runs its background work (probe, purge).
func New(o Options) *Layer {
	switch {
	case o.TTL == 0:
		o.TTL = DefaultTTL
	case o.TTL < 0:
		o.TTL = 0 // no copy is ever fresh; the request memo still reads each record once
	}
	if o.StaleIfError <= 0 {
		o.StaleIfError = DefaultStaleIfError
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	clock := o.Now
	// Postgres keeps microseconds: both levels store the same instant.
	o.Now = func() time.Time { return clock().Round(time.Microsecond) }
	if o.Log == nil {
		o.Log = slog.Default()
	}
	l := &Layer{ttl: o.TTL, stale: o.StaleIfError, shared: o.Shared, memIndex: NewMemoryIndex(),
		log: o.Log, now: o.Now, stop: make(chan struct{}), done: make(chan struct{}), probeNow: make(chan struct{}, 1), id: newReplicaID()}
	l.l1 = NewMemory(o.MaxEntries, o.MaxBytes, o.TTL+o.StaleIfError, o.Now)
	return l
}

// Start probes the second level once (it is used only once it answers and
// its migrations are applied), then runs its probe and purge until Close.
func (l *Layer) Start() {
	if l.started.Swap(true) {
		return
	}
	if l.shared == nil {
		close(l.done)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	err := l.shared.Ping(ctx)
	cancel()
	l.stateMu.Lock()
	l.since = time.Now()
	if err != nil {
		l.lastErr, l.reason = err, "unreachable at start"
		secondLevelUp.Set(0)
		l.log.Warn("postgres cache unreachable at start: serving from the in-process cache and live calls until it answers", "error", err)
	} else {
		l.healthy.Store(true)
		secondLevelUp.Set(1)
	}
	l.stateMu.Unlock()
	if n, ok := l.shared.(Notifier); ok {
		l.unsubscribe = n.Subscribe(l.received, l.forgetUnvouched)
	}
	go l.background()
}

// Close stops the background work.
func (l *Layer) Close() {
	l.once.Do(func() { close(l.stop) })
	if l.started.Load() {
		<-l.done
	}
	if l.unsubscribe != nil {
		l.unsubscribe()
	}
}

func (l *Layer) background() {
	defer close(l.done)
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	lastPurge := time.Time{}
	for {
		select {
		case <-l.stop:
			return
		case <-ping.C:
		case <-l.probeNow:
		}
		if !l.probe() {
			continue
		}
		if time.Since(lastPurge) >= purgeEvery {
			lastPurge = time.Now()
			l.purge()
		}
	}
}

// ForgetPages drops every cached list page (both levels), keeping records
// and the identity index: what an operator does to see lists fresh at once,
// and what benchmarks do to measure list pages cold with records warm.
func (l *Layer) ForgetPages(ctx context.Context, provs []ds.CustomerProvider) {
	for _, p := range provs {
		l.drop(ctx, p.ID(), credentialOf(p), KindPage, nil)
	}
}

// Ready reports the second level's state for /readyz: always nil, since
// the gateway serves without it (Health says whether it is in service).
func (l *Layer) Ready(context.Context) error { return nil }

// Now is the layer's clock: the one its copies' freshness is measured by.
func (l *Layer) Now() time.Time { return l.now() }

// Changes are two counters that move whenever what the layer would answer
// changes: records, when a first-level entry is replaced by other content,
// dropped or evicted; index, when an index row is added, changed or dropped
// or a sync state written. New keys do not move them (no answer read them).
// The response cache stores them with each response (the index one only
// when the request read the index); another replica's writes reach this
// one's first level, and so its stored responses, as published drops
// (invalidate.go).
func (l *Layer) Changes() (records, index uint64) { return l.l1.Changes(), l.memIndex.Changes() }
