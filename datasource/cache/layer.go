package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	ds "github.com/federated-customers/gateway/datasource"
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

// level2 is the second level while it is reachable, else nil.
func (l *Layer) level2() Shared {
	if l.shared != nil && l.healthy.Load() {
		return l.shared
	}
	return nil
}

// index is where identity look-ups read: the shared index while it is
// reachable, else the in-process one.
func (l *Layer) index() Index {
	if s := l.level2(); s != nil {
		return guardedIndex{l, s}
	}
	return l.memIndex
}

// Index is the identity index the graph reads.
func (l *Layer) Index() ds.IdentityIndex { return indexView{l} }

type indexView struct{ l *Layer }

func (v indexView) ByEmail(ctx context.Context, scopes []ds.Scope, emails []string) ([]ds.Identity, error) {
	ds.ReadIndex(ctx)
	return v.l.index().ByEmail(ctx, scopes, emails)
}

func (v indexView) ByKeys(ctx context.Context, scopes []ds.Scope, keys []ds.CustomerKey) ([]ds.Identity, error) {
	ds.ReadIndex(ctx)
	return v.l.index().ByKeys(ctx, scopes, keys)
}

func (v indexView) ByExternalID(ctx context.Context, scopes []ds.Scope, ids []string) ([]ds.Identity, error) {
	ds.ReadIndex(ctx)
	return v.l.index().ByExternalID(ctx, scopes, ids)
}

// get reads keys from the first level, then the second for those missing or
// past their TTL there, keeping the newer copy of each.
func (l *Layer) get(ctx context.Context, keys []string) map[string]Entry {
	got, _ := l.l1.Get(ctx, keys)
	s := l.level2()
	if s == nil {
		return got
	}
	var ask []string
	for _, k := range keys {
		if e, ok := got[k]; !ok || !l.fresh(e) {
			ask = append(ask, k)
		}
	}
	if len(ask) == 0 {
		return got
	}
	octx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	more, err := s.Get(octx, ask)
	if err != nil {
		if ctx.Err() == nil {
			l.fail(err)
		}
		return got
	}
	l.ok()
	var promote []Entry
	for k, e := range more {
		if have, ok := got[k]; !ok || e.StoredAt.After(have.StoredAt) {
			got[k] = e
			promote = append(promote, e)
		}
	}
	_ = l.l1.Put(ctx, promote)
	return got
}

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

// put stores entries in both levels.
func (l *Layer) put(ctx context.Context, entries []Entry) {
	if len(entries) == 0 {
		return
	}
	_ = l.l1.Put(ctx, entries)
	entries, skipped := storableEntries(entries)
	l.noteUnstorable(skipped)
	if len(entries) > 0 {
		l.write(ctx, func(ctx context.Context, s Shared) error { return s.Put(ctx, entries) })
	}
}

// noteUnstorable says which records the second level could not hold (they
// stay in the first level only).
func (l *Layer) noteUnstorable(skipped []string) {
	if len(skipped) > 0 && l.shared != nil {
		l.log.Warn("records hold bytes Postgres cannot store (a NUL byte or invalid UTF-8): kept in process only, the rest stored",
			"records", fmt.Sprintf("%q", skipped[:min(len(skipped), 5)]), "count", len(skipped))
	}
}

// drop removes entries from both levels and from every other replica's
// first level (invalidate.go).
func (l *Layer) drop(ctx context.Context, p ds.ProviderID, cred string, kind Kind, ids []string) {
	_ = l.l1.Drop(ctx, p, cred, kind, ids)
	l.dropShared(ctx, pendingKey{p, cred, kind}, ids)
}

// putIdentities feeds the identity index (both levels, as put does).
func (l *Layer) putIdentities(ctx context.Context, ids []ds.Identity) {
	if len(ids) == 0 {
		return
	}
	_ = l.memIndex.PutIdentities(ctx, ids)
	ids, skipped := storableIdentities(ids)
	l.noteUnstorable(skipped)
	if len(ids) > 0 {
		l.write(ctx, func(ctx context.Context, s Shared) error { return s.PutIdentities(ctx, ids) })
	}
}

func (l *Layer) dropIdentities(ctx context.Context, p ds.ProviderID, cred string, ids []string) {
	if len(ids) == 0 {
		return
	}
	_ = l.memIndex.DropIdentities(ctx, p, cred, ids)
	l.dropShared(ctx, pendingKey{p, cred, kindIndex}, ids)
}

// write runs op on the second level while it is reachable, bounded by
// opTimeout; the write outlives a caller that has gone away, since what it
// stores is good either way. A failure takes the level out.
func (l *Layer) write(ctx context.Context, op func(context.Context, Shared) error) {
	s := l.level2()
	if s == nil {
		return
	}
	octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opTimeout)
	defer cancel()
	if err := op(octx, s); err != nil {
		l.fail(err)
		return
	}
	l.ok()
}

func (l *Layer) age(e Entry) time.Duration    { return max(0, l.now().Sub(e.StoredAt)) }
func (l *Layer) fresh(e Entry) bool           { return l.age(e) < l.ttl }
func (l *Layer) freshUntil(e Entry) time.Time { return e.StoredAt.Add(l.ttl) }
func (l *Layer) usable(e Entry) bool          { return l.age(e) < l.ttl+l.stale }

// staleable reports whether err is a provider failure that a last good copy
// may answer: the provider is down, slow or throttling, not a bad request.
func staleable(err error) bool {
	if _, ok := ds.ErrorProvider(err); !ok {
		return false
	}
	switch ds.ErrorCode(err) {
	case ds.CodeProviderUnavailable, ds.CodeProviderRateLimited:
		return true
	}
	return false
}

// entryKey builds a key: provider, credential identity, kind, then a part
// that is hashed when it is not a plain id.
func entryKey(p ds.ProviderID, cred string, kind Kind, part string) string {
	return p.Key() + "|" + cred + "|" + string(kind) + "|" + part
}

func hashKey(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// meta is what every entry of one wrapped provider shares.
type meta struct {
	l    *Layer
	p    ds.ProviderID
	cred string
}

func (m meta) entry(kind Kind, key, recordID string, v any, at time.Time) (Entry, bool) {
	e := Entry{Key: key, Provider: m.p, Credential: m.cred, Kind: kind, RecordID: recordID, StoredAt: at, Value: v, Size: approxSize(v)}
	if m.l.shared == nil {
		return e, true // in process only: the decoded value is the entry, nothing to encode
	}
	b, err := json.Marshal(v)
	if err != nil {
		m.l.log.Error("cache: cannot encode an answer; it is not cached", "provider", m.p.Key(), "error", err)
		return Entry{}, false
	}
	e.Body, e.Size = b, len(b)
	return e, true
}

// approxSize estimates an answer's bytes without encoding it: a record is
// about its raw body and a little more.
func approxSize(v any) int {
	switch x := v.(type) {
	case *ds.Customer:
		return 2*len(x.Raw) + 256
	case ds.Page[*ds.Customer]:
		n := 64
		for _, c := range x.Items {
			n += 2*len(c.Raw) + 256
		}
		return n
	case ds.Lener:
		return 64 + 512*x.Len()
	case []*ds.CustomerSource:
		return 64 + 512*len(x)
	}
	return 1024
}

// decode is the entry's answer: its decoded value when the first level kept
// one, else its body decoded.
func decode[T any](e Entry) (T, bool) {
	if v, ok := e.Value.(T); ok {
		return v, true
	}
	var v T
	if err := json.Unmarshal(e.Body, &v); err != nil {
		return v, false
	}
	return v, true
}

// one answers a single-key read: fresh copy, else one coalesced upstream
// call, else (when the provider failed) the last good copy.
// also returns the entries and index rows that come with the answer, and
// the answer's encoded body when it can build it cheaper than encoding it.
func one[T any](ctx context.Context, m meta, kind Kind, key string, fetch func(context.Context) (T, error), also func(T, time.Time) ([]Entry, []ds.Identity, []byte)) (T, error) {
	var zero T
	l := m.l
	have, cached := l.get(ctx, []string{key})[key]
	if cached && l.fresh(have) {
		if v, ok := decode[T](have); ok {
			ds.RecordCached(ctx, m.p, ds.Cache, l.age(have), records(v), l.freshUntil(have))
			countAnswer(m.p, ds.Cache)
			return v, nil
		}
	}
	v, err := coalesce(ctx, l, key, func(ctx context.Context) (T, error) {
		countAnswer(m.p, ds.Live)
		v, err := fetch(ctx)
		if err != nil {
			return v, err
		}
		at := l.now()
		var entries, more []Entry
		var ids []ds.Identity
		var body []byte
		if also != nil {
			more, ids, body = also(v, at)
		}
		if body != nil {
			e := Entry{Key: key, Provider: m.p, Credential: m.cred, Kind: kind, StoredAt: at, Value: v, Body: body, Size: len(body)}
			entries = append(entries, e)
		} else if e, ok := m.entry(kind, key, "", v, at); ok {
			entries = append(entries, e)
		}
		entries = append(entries, more...)
		l.put(ctx, entries)
		l.putIdentities(ctx, ids)
		return v, nil
	}, m.p)
	if err == nil {
		return v, nil
	}
	if cached && staleable(err) && l.usable(have) {
		if sv, ok := decode[T](have); ok {
			m.served(ctx, err, have, records(sv))
			return sv, nil
		}
	}
	return zero, err
}

// served reports a stale answer: freshness STALE with its age, and a warning
// that says why.
func (m meta) served(ctx context.Context, cause error, e Entry, n int) {
	age := m.l.age(e)
	ds.RecordCached(ctx, m.p, ds.Stale, age, n, time.Time{})
	countAnswer(m.p, ds.Stale)
	p := m.p
	ds.Warn(ctx, ds.Warning{Code: ds.ErrorCode(cause), Provider: &p, Message: fmt.Sprintf(
		"%s failed (%s); serving its last good copy from %s ago", m.p, ds.ErrorCode(cause), age.Round(time.Second))})
}

// records is how many records an answer holds: a page's items, else one.
func records(v any) int {
	if l, ok := v.(ds.Lener); ok {
		return l.Len()
	}
	return 1
}

// coalesce makes identical calls in flight one upstream call. A follower
// whose leader was cancelled (its client went away) calls again itself.
func coalesce[T any](ctx context.Context, l *Layer, key string, fn func(context.Context) (T, error), p ds.ProviderID) (T, error) {
	defer ds.Spend(ctx, p)() // waiting on another's call spends p's budget too
	leader := false
	ch := l.flight.DoChan(key, func() (any, error) {
		leader = true
		return fn(ctx)
	})
	var zero T
	select {
	case <-ctx.Done():
		return zero, ctx.Err()
	case r := <-ch:
		// the leader's own end (its cancellation, its spent call budget) is
		// not this request's answer: make the call for this one
		if !leader && r.Err != nil && (errors.Is(r.Err, context.Canceled) || errors.Is(r.Err, context.DeadlineExceeded) || errors.Is(r.Err, ds.ErrCallBudget)) && ctx.Err() == nil {
			return fn(ctx)
		}
		if !leader && r.Err == nil {
			ds.RecordCached(ctx, p, ds.Live, 0, 0, time.Time{}) // answered by another request's live call
		}
		if r.Err != nil {
			return zero, r.Err
		}
		return r.Val.(T), nil
	}
}

// batch answers a keyed look-up: fresh copies, one coalesced upstream call
// for the rest, last good copies where that call failed. keep stores what
// the call returned under each requested key; absent keys go to gone.
func batch[T any](ctx context.Context, m meta, kind Kind, ids []string, keyOf func(string) string,
	fetch func(context.Context, []string) (map[string]T, error),
	store func(id string, v T, at time.Time) ([]Entry, []ds.Identity), gone func(ctx context.Context, ids []string)) (map[string]T, error) {
	l := m.l
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = keyOf(id)
	}
	have := l.get(ctx, keys)
	out := make(map[string]T, len(ids))
	var missing []string
	var oldest time.Duration
	var until time.Time
	hits := 0
	for i, id := range ids {
		if e, ok := have[keys[i]]; ok && l.fresh(e) {
			if v, ok := decode[T](e); ok {
				out[id] = v
				hits++
				oldest = max(oldest, l.age(e))
				if u := l.freshUntil(e); until.IsZero() || u.Before(until) {
					until = u
				}
				continue
			}
		}
		missing = append(missing, id)
	}
	if hits > 0 {
		ds.RecordCached(ctx, m.p, ds.Cache, oldest, hits, until)
		countAnswer(m.p, ds.Cache)
	}
	if len(missing) == 0 {
		return out, nil
	}
	sorted := append([]string(nil), missing...)
	sort.Strings(sorted)
	flightKey := entryKey(m.p, m.cred, kind, "batch:"+hashKey(sorted))
	got, err := coalesce(ctx, l, flightKey, func(ctx context.Context) (map[string]T, error) {
		countAnswer(m.p, ds.Live)
		got, err := fetch(ctx, missing)
		if err != nil {
			return nil, err
		}
		at := l.now()
		var entries []Entry
		var idents []ds.Identity
		var absent []string
		for _, id := range missing {
			v, ok := got[id]
			if !ok && gone != nil {
				absent = append(absent, id)
				continue
			}
			e, ids := store(id, v, at)
			entries, idents = append(entries, e...), append(idents, ids...)
		}
		l.put(ctx, entries)
		l.putIdentities(ctx, idents) // one index write for the batch, not one per record
		if len(absent) > 0 {
			gone(ctx, absent)
		}
		return got, nil
	}, m.p)
	if err == nil {
		for _, id := range missing {
			if v, ok := got[id]; ok {
				out[id] = v
			} else if gone == nil {
				var zero T
				out[id] = zero
			}
		}
		return out, nil
	}
	if !staleable(err) {
		return out, err
	}
	unresolved := false
	for i, id := range ids {
		if _, ok := out[id]; ok {
			continue
		}
		e, ok := have[keys[i]]
		if !ok || !l.usable(e) {
			unresolved = true
			continue
		}
		v, ok := decode[T](e)
		if !ok {
			unresolved = true
			continue
		}
		out[id] = v
		m.served(ctx, err, e, 1)
	}
	if unresolved {
		return out, err
	}
	return out, nil
}
