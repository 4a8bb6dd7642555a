// Answers from the levels: one key (one), many keys (batch), coalesced upstream calls, stale copies.

package cache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
)

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
