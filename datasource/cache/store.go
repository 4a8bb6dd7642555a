// Package cache is the gateway's record store: a provider that wraps a
// provider. List pages and records are kept in an in-process first level and,
// when a database is configured, a shared second level (package postgres), so
// repeated reads cost no upstream call, a failing provider is answered from
// its last good copy (STALE), identical calls in flight coalesce, and every
// record seen feeds the identity index that links people across providers.
//
// Every key holds the provider's credential identity (a hash, never the
// secret): two configurations on one database never see each other's data.
package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
)

// Kind is what an entry holds.
type Kind string

const (
	// KindPage is one list page: its items, next token and total.
	KindPage Kind = "page"
	// KindRecord is one record by the vendor's id.
	KindRecord Kind = "record"
	// KindLookup is the answer of a keyed look-up that is not a record
	// (CareCloud's source records by customer or by external id).
	KindLookup Kind = "lookup"
)

// Entry is one cached answer.
type Entry struct {
	Key        string
	Provider   ds.ProviderID
	Credential string
	Kind       Kind
	// RecordID is the vendor id of a KindRecord entry.
	RecordID string
	// Body is the answer, JSON-encoded.
	Body     []byte
	StoredAt time.Time
	// Value is the decoded answer, kept by the first level only so a hit
	// costs no decoding; it is shared by every reader and never mutated.
	Value any
	// Size is about how many bytes the entry holds (the first level's bound).
	Size int
}

// Store is one cache level.
type Store interface {
	// Get returns the entries it has among keys.
	Get(ctx context.Context, keys []string) (map[string]Entry, error)
	// Put stores entries, replacing older ones under the same key.
	Put(ctx context.Context, entries []Entry) error
	// Drop removes a provider credential's entries of kind; for KindRecord
	// only those of the given ids (all of them when ids is nil).
	Drop(ctx context.Context, p ds.ProviderID, cred string, kind Kind, ids []string) error
}

// Index is the identity index and the sync bookkeeping beside it.
type Index interface {
	ds.IdentityIndex
	PutIdentities(ctx context.Context, ids []ds.Identity) error
	DropIdentities(ctx context.Context, p ds.ProviderID, cred string, vendorIDs []string) error
	CountIdentities(ctx context.Context, p ds.ProviderID, cred string) (int, error)
	SyncState(ctx context.Context, p ds.ProviderID, cred string) (ds.SyncStatus, error)
	PutSyncState(ctx context.Context, p ds.ProviderID, cred string, s ds.SyncStatus) error
	// TryLock takes a named lock if nobody holds it (across replicas for a
	// shared database); release gives it back.
	TryLock(ctx context.Context, name string) (release func(), ok bool, err error)
}

// Shared is a second level shared by replicas (Postgres).
type Shared interface {
	Store
	Index
	// Ping reports whether the shared level is reachable.
	Ping(ctx context.Context) error
	// Purge deletes at most batch entries whose stale window ended before t,
	// returning how many it deleted.
	Purge(ctx context.Context, before time.Time, batch int) (int, error)
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
