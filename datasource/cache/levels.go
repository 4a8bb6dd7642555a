// The two levels as one: reads that promote, writes to both, drops everywhere, freshness.

package cache

import (
	"context"
	"fmt"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
)

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
	done := traceLookup(ctx, len(keys))
	got, _ := l.l1.Get(ctx, keys)
	var ask []string
	for _, k := range keys {
		if e, ok := got[k]; !ok || !l.fresh(e) {
			ask = append(ask, k)
		}
	}
	s := l.level2()
	if s == nil || len(ask) == 0 {
		done(len(keys)-len(ask), 0)
		return got
	}
	octx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	more, err := s.Get(octx, ask)
	if err != nil {
		if ctx.Err() == nil {
			l.fail(err)
		}
		done(len(keys)-len(ask), 0)
		return got
	}
	l.ok()
	defer func() { done(len(keys)-len(ask), len(more)) }()
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

// put stores entries in both levels.
func (l *Layer) put(ctx context.Context, entries []Entry) {
	both(ctx, l, entries, l.l1.Put, storableEntries, Shared.Put)
}

// both stores items in the first level and, those the second level can
// hold, in the second.
func both[T any](ctx context.Context, l *Layer, items []T, first func(context.Context, []T) error,
	storable func([]T) ([]T, []string), second func(Shared, context.Context, []T) error) {
	if len(items) == 0 {
		return
	}
	_ = first(ctx, items)
	items, skipped := storable(items)
	l.noteUnstorable(skipped)
	if len(items) > 0 {
		l.write(ctx, func(ctx context.Context, s Shared) error { return second(s, ctx, items) })
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
	both(ctx, l, ids, l.memIndex.PutIdentities, storableIdentities, Shared.PutIdentities)
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

func (l *Layer) age(e Entry) time.Duration { return max(0, l.now().Sub(e.StoredAt)) }

func (l *Layer) fresh(e Entry) bool { return l.age(e) < l.ttl }

func (l *Layer) freshUntil(e Entry) time.Time { return e.StoredAt.Add(l.ttl) }

func (l *Layer) usable(e Entry) bool { return l.age(e) < l.ttl+l.stale }
