// The synced store as the engine reads it: keys, queries, snapshots and the SyncedStore interface
// that postgres implements (the read path itself is federate/synced.go).

package datasource

import (
	"context"
	"errors"
	"time"
)

// MaxSyncedFirst is the largest page the synced path serves (live: MaxFirst).
const MaxSyncedFirst = 1000

// SyncedKey is a record's place in a synced order: its sort value (Missing
// when the record has none), provider and vendor id.
type SyncedKey struct {
	Missing  bool       `json:"m,omitempty"`
	Value    string     `json:"v,omitempty"`
	Provider ProviderID `json:"p"`
	VendorID string     `json:"i"`
}

// SyncedQuery is one synced read.
type SyncedQuery struct {
	Scopes []Scope
	Filter Filter     // normalized (federate.NormalizeFilter)
	Order  *Order     // nil: provider (enum order) then vendor id
	After  *SyncedKey // keyset: rows strictly after it in the walking order
	// Backward walks the order in reverse (last/before); rows still come
	// in walking order, nearest first.
	Backward bool
	Limit    int
	// AsOf is the snapshot read; nil: the store picks one, a moment ago
	// but for each provider never before its Floor (when its last walk
	// finished: a walk that says it is complete is visible at once).
	AsOf, Floor Snapshot
}

// Snapshot is the instant a walk reads each provider's records at: one per
// provider, since each provider's walks finish at their own times.
type Snapshot map[ProviderID]time.Time

// SyncedWalk is a provider credential's last complete walk.
type SyncedWalk struct{ Started, Finished time.Time }

// SyncedRow is one record with its key in the query's order.
type SyncedRow struct {
	Customer *Customer
	Key      SyncedKey
}

// SyncedStore is the synced record store. ErrNotSynced (or any error)
// from it sends the request to the live path.
type SyncedStore interface {
	// SyncedWalks says, per scope, when its last complete walk ran.
	SyncedWalks(ctx context.Context, scopes []Scope) (map[ProviderID]SyncedWalk, error)
	// SyncedPage reads up to q.Limit rows and the snapshot it read.
	SyncedPage(ctx context.Context, q SyncedQuery) ([]SyncedRow, Snapshot, error)
	// SyncedCount counts the rows matching q's scopes and filter at q.AsOf.
	SyncedCount(ctx context.Context, q SyncedQuery) (int, error)
}

type resumeKey struct{}

// ResumesSnapshot reports whether ctx reads on from a synced cursor. The
// store is then tried even while its level is marked unreachable (a blink
// under load): the alternative is to fail a walk half done, not to answer live.
func ResumesSnapshot(ctx context.Context) bool { v, _ := ctx.Value(resumeKey{}).(bool); return v }

// WithResumesSnapshot marks ctx as reading on from a synced cursor.
func WithResumesSnapshot(ctx context.Context) context.Context {
	return context.WithValue(ctx, resumeKey{}, true)
}

// ErrNotSynced says the synced store cannot answer now (no database, or it
// is unreachable).
var ErrNotSynced = errors.New("the synced store is not available")
