package cache

import (
	"bytes"
	"context"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	ds "github.com/federated-customers/gateway/datasource"
)

// Memory is the in-process first level: an LRU bounded by entries and by
// bytes, so a burst of large pages cannot grow the process without limit.
type Memory struct {
	mu       sync.Mutex
	lru      *simplelru.LRU[string, Entry]
	bytes    int64
	maxBytes int64
	// maxAge drops entries past their stale window on read.
	maxAge time.Duration
	now    func() time.Time
	// changes counts what alters an answer the level gave: an entry
	// replaced by other content, dropped or evicted. A new key does not
	// count: no answer read it (it would have been a miss).
	changes atomic.Uint64
}

// sameContent reports whether a new copy says what the old one did: the
// same body, or without bodies (no second level), the same vendor record.
func sameContent(old, e Entry) bool {
	if old.Body != nil && e.Body != nil {
		return bytes.Equal(old.Body, e.Body)
	}
	switch a := old.Value.(type) {
	case *ds.Customer:
		b, ok := e.Value.(*ds.Customer)
		return ok && a != nil && b != nil && len(a.Raw) > 0 && bytes.Equal(a.Raw, b.Raw)
	case *ds.CustomerSource:
		b, ok := e.Value.(*ds.CustomerSource)
		return ok && a != nil && b != nil && len(a.Raw) > 0 && bytes.Equal(a.Raw, b.Raw)
	}
	return false
}

// Changes is the level's change counter.
func (m *Memory) Changes() uint64 { return m.changes.Load() }

// NewMemory returns a first level of at most maxEntries entries and maxBytes
// bytes of bodies (0 = the defaults, 50,000 and 256 MiB).
func NewMemory(maxEntries int, maxBytes int64, maxAge time.Duration, now func() time.Time) *Memory {
	if maxEntries <= 0 {
		maxEntries = 50_000
	}
	if maxBytes <= 0 {
		maxBytes = 256 << 20
	}
	if now == nil {
		now = time.Now
	}
	m := &Memory{maxBytes: maxBytes, maxAge: maxAge, now: now}
	m.lru, _ = simplelru.NewLRU(maxEntries, func(_ string, e Entry) { // evicted or removed
		m.bytes -= entrySize(e)
		m.changes.Add(1)
	})
	return m
}

func entrySize(e Entry) int64 {
	return int64(max(e.Size, len(e.Body)) + len(e.Key) + len(e.RecordID) + 64)
}

// Get returns the entries held among keys.
func (m *Memory) Get(_ context.Context, keys []string) (map[string]Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]Entry, len(keys))
	now := m.now()
	for _, k := range keys {
		e, ok := m.lru.Get(k)
		if !ok {
			continue
		}
		if m.maxAge > 0 && now.Sub(e.StoredAt) > m.maxAge {
			m.lru.Remove(k)
			continue
		}
		out[k] = e
	}
	return out, nil
}

// Put stores entries, evicting the least recently used past either bound.
func (m *Memory) Put(_ context.Context, entries []Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range entries {
		size := entrySize(e)
		if size > m.maxBytes {
			continue // one entry larger than the whole level is not kept
		}
		if old, ok := m.lru.Peek(e.Key); ok {
			if old.StoredAt.After(e.StoredAt) {
				continue // a newer copy is already here
			}
			if !sameContent(old, e) {
				m.changes.Add(1)
			}
			m.bytes -= entrySize(old) // Add below replaces it in place, without the eviction callback
		}
		m.lru.Add(e.Key, e)
		m.bytes += size
		for m.bytes > m.maxBytes {
			m.lru.RemoveOldest()
		}
	}
	return nil
}

// Drop removes a provider credential's entries of kind (records: of ids).
func (m *Memory) Drop(_ context.Context, p ds.ProviderID, cred string, kind Kind, ids []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	for _, k := range m.lru.Keys() {
		e, ok := m.lru.Peek(k)
		if !ok || e.Provider != p || e.Credential != cred || e.Kind != kind {
			continue
		}
		if kind == KindRecord && ids != nil && !want[e.RecordID] {
			continue
		}
		m.lru.Remove(k)
	}
	return nil
}

// Clear drops every entry.
func (m *Memory) Clear() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lru.Purge()
	m.changes.Add(1)
}

// Len is the number of entries held (for tests and metrics).
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.Len()
}

// MemoryIndex is the in-process identity index and sync state, used alone
// without a database and as the fallback while the database is unreachable.
type MemoryIndex struct {
	mu      sync.Mutex
	records map[ds.Scope]map[string]ds.Identity
	byEmail map[string]map[indexKey]bool
	byExt   map[string]map[indexKey]bool
	syncs   map[ds.Scope]ds.SyncStatus
	locks   map[string]bool
	// changes counts rows added, changed or dropped and sync states written
	// (a row stored again as it was does not count).
	changes atomic.Uint64
}

// Changes is the index's change counter.
func (x *MemoryIndex) Changes() uint64 { return x.changes.Load() }

// sameIdentity: the same row, apart from when it was seen.
func sameIdentity(a, b ds.Identity) bool {
	a.SeenAt, b.SeenAt = time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}

type indexKey struct {
	scope ds.Scope
	id    string
}

// NewMemoryIndex returns an empty index.
func NewMemoryIndex() *MemoryIndex {
	return &MemoryIndex{records: map[ds.Scope]map[string]ds.Identity{}, byEmail: map[string]map[indexKey]bool{}, byExt: map[string]map[indexKey]bool{},
		syncs: map[ds.Scope]ds.SyncStatus{}, locks: map[string]bool{}}
}

func (x *MemoryIndex) PutIdentities(_ context.Context, ids []ds.Identity) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, id := range ids {
		s := ds.Scope{Provider: id.Provider, Credential: id.Credential}
		recs := x.records[s]
		if recs == nil {
			recs = map[string]ds.Identity{}
			x.records[s] = recs
		}
		k := indexKey{s, id.VendorID}
		old, ok := recs[id.VendorID]
		if ok {
			x.unlink(k, old)
		}
		if !ok || !sameIdentity(old, id) {
			x.changes.Add(1)
		}
		recs[id.VendorID] = id
		if id.Email != "" {
			if x.byEmail[id.Email] == nil {
				x.byEmail[id.Email] = map[indexKey]bool{}
			}
			x.byEmail[id.Email][k] = true
		}
		for _, r := range id.Refs {
			for _, e := range r.ExternalIDs {
				if x.byExt[e] == nil {
					x.byExt[e] = map[indexKey]bool{}
				}
				x.byExt[e][k] = true
			}
		}
	}
	return nil
}

func (x *MemoryIndex) DropIdentities(_ context.Context, p ds.ProviderID, cred string, vendorIDs []string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	s := ds.Scope{Provider: p, Credential: cred}
	for _, v := range vendorIDs {
		if old, ok := x.records[s][v]; ok {
			x.changes.Add(1)
			x.unlink(indexKey{s, v}, old)
			delete(x.records[s], v)
		}
	}
	return nil
}

// unlink removes a record's email and reference entries.
func (x *MemoryIndex) unlink(k indexKey, old ds.Identity) {
	delete(x.byEmail[old.Email], k)
	for _, r := range old.Refs {
		for _, e := range r.ExternalIDs {
			delete(x.byExt[e], k)
		}
	}
}

func (x *MemoryIndex) ByKeys(_ context.Context, scopes []ds.Scope, keys []ds.CustomerKey) ([]ds.Identity, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	cred := map[ds.ProviderID]string{}
	for _, s := range scopes {
		cred[s.Provider] = s.Credential
	}
	var out []ds.Identity
	for _, k := range keys {
		c, ok := cred[k.Provider]
		if !ok {
			continue
		}
		if id, ok := x.records[ds.Scope{Provider: k.Provider, Credential: c}][k.ProviderID]; ok {
			out = append(out, id)
		}
	}
	return out, nil
}

func (x *MemoryIndex) ByExternalID(_ context.Context, scopes []ds.Scope, externalIDs []string) ([]ds.Identity, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	allowed := scopeSet(scopes)
	seen := map[indexKey]bool{}
	var out []ds.Identity
	for _, e := range externalIDs {
		for k := range x.byExt[e] {
			if allowed[k.scope] && !seen[k] {
				seen[k] = true
				out = append(out, x.records[k.scope][k.id])
			}
		}
	}
	return out, nil
}

func (x *MemoryIndex) ByEmail(_ context.Context, scopes []ds.Scope, emails []string) ([]ds.Identity, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	allowed := scopeSet(scopes)
	var out []ds.Identity
	for _, e := range emails {
		for k := range x.byEmail[ds.NormalizeEmail(e)] {
			if allowed[k.scope] {
				out = append(out, x.records[k.scope][k.id])
			}
		}
	}
	return out, nil
}

func (x *MemoryIndex) CountIdentities(_ context.Context, p ds.ProviderID, cred string) (int, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.records[ds.Scope{Provider: p, Credential: cred}]), nil
}

func (x *MemoryIndex) SyncState(_ context.Context, p ds.ProviderID, cred string) (ds.SyncStatus, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.syncs[ds.Scope{Provider: p, Credential: cred}], nil
}

func (x *MemoryIndex) PutSyncState(_ context.Context, p ds.ProviderID, cred string, s ds.SyncStatus) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.syncs[ds.Scope{Provider: p, Credential: cred}] = s
	x.changes.Add(1)
	return nil
}

func (x *MemoryIndex) TryLock(_ context.Context, name string) (func(), bool, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.locks[name] {
		return nil, false, nil
	}
	x.locks[name] = true
	return func() {
		x.mu.Lock()
		defer x.mu.Unlock()
		delete(x.locks, name)
	}, true, nil
}

// scopeSet is scopes as a set.
func scopeSet(scopes []ds.Scope) map[ds.Scope]bool {
	allowed := make(map[ds.Scope]bool, len(scopes))
	for _, s := range scopes {
		allowed[s] = true
	}
	return allowed
}
