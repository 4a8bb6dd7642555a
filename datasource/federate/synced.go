// The synced read path: pages, cursors and counts served from the synced store.

package federate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
)

// The synced read path: when every selected provider's background sync has
// finished a complete walk recently enough (ServeMaxAge), customers with an
// orderBy, a search, email or country filter, a page over MaxFirst, or a
// synced cursor are answered from the synced store (Postgres) in one query,
// with keyset cursors over one snapshot, and an exact totalCount. Anything
// else, and any provider not synced, is served live as before.

// warnAccentSensitive says, for a live search at a provider whose own
// search narrows it (Pushdown.NativeSearch), that records spelled with other
// accents may be missing: they never reach the folding post-filter.
func warnAccentSensitive(ctx context.Context, prov ds.CustomerProvider, f ds.Filter) {
	if !prov.Capabilities().Pushdown.NativeSearch || f.Search == nil {
		return
	}
	p := prov.ID()
	ds.Warn(ctx, ds.Warning{Code: ds.CodeUnsupportedByProvider, Provider: &p, Message: p.String() +
		"'s own search ignores case but not accents: records that spell the search with other accents may be missing; a complete sync serves search exactly"})
}

// syncedCursor is the token of a synced cursor: the key and the snapshot.
type syncedCursor struct {
	K    ds.SyncedKey     `json:"k"`
	AsOf map[string]int64 `json:"t"` // provider key → unix microseconds
}

// syncedKind is the cursor kind of synced pages, so a live cursor is never
// read as a synced one or the other way round.
const syncedKind = "y"

// syncedAges is how old each provider's last complete walk is, when every
// one of provs has one within its ServeMaxAge; ok false otherwise.
// The floor is when each one's last walk finished.
func (s *Service) syncedAges(ctx context.Context, provs []ds.ProviderID) (ages map[ds.ProviderID]time.Duration, scopes []ds.Scope, floor ds.Snapshot, ok bool) {
	if s.Synced == nil || len(provs) == 0 {
		return nil, nil, floor, false
	}
	scopes = s.scopesOf(provs)
	if len(scopes) != len(provs) {
		return nil, nil, floor, false
	}
	for _, p := range provs {
		if s.ServeMaxAge[p] <= 0 {
			return nil, nil, floor, false
		}
	}
	walks, err := s.Synced.SyncedWalks(ctx, scopes)
	if err != nil {
		return nil, nil, floor, false
	}
	now := time.Now()
	ages, floor = map[ds.ProviderID]time.Duration{}, ds.Snapshot{}
	for _, p := range provs {
		w, ok := walks[p]
		if !ok || now.Sub(w.Started) > s.ServeMaxAge[p] {
			return nil, nil, floor, false
		}
		ages[p] = max(0, now.Sub(w.Started))
		floor[p] = w.Finished
	}
	return ages, scopes, floor, true
}

func (s *Service) scopesOf(provs []ds.ProviderID) []ds.Scope {
	want := map[ds.ProviderID]bool{}
	for _, p := range provs {
		want[p] = true
	}
	var out []ds.Scope
	for _, sc := range s.Scopes() {
		if want[sc.Provider] {
			out = append(out, sc)
		}
	}
	return out
}

// wantsSynced reports whether a request gains from the synced path: it
// orders, filters by content, asks a page over MaxFirst, or goes on from a
// synced cursor. A plain listing stays live, in each provider's native order.
func wantsSynced(a ConnectionArgs, f ds.Filter, o *ds.Order) bool {
	if len(f.IDs) > 0 {
		return false
	}
	big := (a.First != nil && *a.First > MaxFirst) || (a.Last != nil && *a.Last > MaxFirst)
	return o != nil || f.Search != nil || f.Email != nil || len(f.Country) > 0 || big
}

// listSynced serves the page from the synced store; handled false sends it
// to the live path.
func (s *Service) listSynced(ctx context.Context, a ConnectionArgs, f ds.Filter, o *ds.Order, provs []ds.ProviderID, fp string) (conn *ds.CustomerConnection, handled bool, err error) {
	c, fromSynced, err := s.syncedCursorOf(a, fp)
	if err != nil {
		return nil, true, err
	}
	if !fromSynced && !wantsSynced(a, f, o) {
		return nil, false, nil
	}
	if fromSynced {
		ctx = ds.WithResumesSnapshot(ctx)
	}
	ages, scopes, floor, ok := s.syncedAges(ctx, provs)
	if !ok {
		if fromSynced {
			return nil, true, ds.Errorf(ds.CodeBadUserInput, "this cursor is from the synced store, which cannot serve %s now (no complete recent sync); start again without after/before", joinProviders(provs))
		}
		return nil, false, nil
	}
	size, backward, err := a.sizeUpTo(ds.MaxSyncedFirst)
	if err != nil {
		return nil, true, err
	}
	q := ds.SyncedQuery{Scopes: scopes, Filter: f, Order: o, Backward: backward, Limit: size + 1, Floor: floor}
	if fromSynced {
		q.After, q.AsOf = &c.K, ds.Snapshot{}
		for _, p := range provs {
			t, ok := c.AsOf[p.Key()]
			if !ok {
				return nil, true, ds.Errorf(ds.CodeBadUserInput, "invalid cursor: malformed")
			}
			q.AsOf[p] = time.UnixMicro(t)
		}
	}
	rows, asOf, err := s.Synced.SyncedPage(ctx, q)
	if err != nil {
		if ds.ErrorCode(err) == ds.CodeBadUserInput {
			return nil, true, err // the cursor's own fault (too old)
		}
		if fromSynced {
			return nil, true, ds.Errorf(ds.CodeInternal, "the synced store failed to read this page; try again")
		}
		return nil, false, nil // the live path answers instead
	}
	for _, p := range provs {
		ds.RecordCached(ctx, p, ds.Synced, ages[p], 0, time.Time{})
	}
	ds.Uncacheable(ctx) // the store changes with every sync; answers are not kept
	more := len(rows) > size
	if more {
		rows = rows[:size]
	}
	if backward {
		for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
			rows[i], rows[j] = rows[j], rows[i]
		}
	}
	mint := &cursorMint{s.Cursors, syncedKind, fp}
	edges := make([]*ds.CustomerEdge, len(rows))
	for i, r := range rows {
		edges[i] = &ds.CustomerEdge{Node: r.Customer, After: syncedPosition(r.Key, asOf), Mint: mint}
		ds.RecordCached(ctx, r.Customer.Provider, ds.Synced, ages[r.Customer.Provider], 1, time.Time{})
	}
	conn = &ds.CustomerConnection{Edges: edges}
	if backward {
		conn.PageInfo = backwardPageInfo(more, fromSynced, len(edges), func(i int) string { return edges[i].Cursor() })
	} else {
		conn.PageInfo = ds.PageInfo{HasNextPage: more, HasPreviousPage: fromSynced}
		if len(edges) > 0 {
			sc, ec := edges[0].Cursor(), edges[len(edges)-1].Cursor()
			conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = &sc, &ec
		}
	}
	cq := q
	cq.After, cq.AsOf = nil, asOf
	conn.Count = func(ctx context.Context) (*int, error) {
		if fromSynced {
			ctx = ds.WithResumesSnapshot(ctx)
		}
		n, err := s.Synced.SyncedCount(ctx, cq)
		if err != nil {
			return nil, ds.Errorf(ds.CodeInternal, "the synced store failed to count; try again")
		}
		return &n, nil
	}
	return conn, true, nil
}

// syncedPosition packs a synced key and snapshot into a cursor position;
// cursors of both directions carry the same key, so before and after of one
// edge name the same place.
func syncedPosition(k ds.SyncedKey, asOf ds.Snapshot) ds.Position {
	c := syncedCursor{K: k, AsOf: map[string]int64{}}
	for p, t := range asOf {
		c.AsOf[p.Key()] = t.UnixMicro()
	}
	b, _ := json.Marshal(c)
	return ds.Position{Provider: k.Provider, Token: string(b)}
}

// syncedCursorOf decodes the request's cursor when it is a synced one
// (ok false: no cursor, or a live one, which the live path reads).
func (s *Service) syncedCursorOf(a ConnectionArgs, fp string) (c syncedCursor, ok bool, err error) {
	cur := a.After
	if cur == nil {
		cur = a.Before
	}
	if cur == nil {
		return c, false, nil
	}
	pos, derr := s.Cursors.Decode(syncedKind, fp, *cur)
	if derr != nil {
		return c, false, nil
	}
	if err := json.Unmarshal([]byte(pos.Token), &c); err != nil || !c.K.Provider.Valid() || c.K.Provider != pos.Provider {
		return c, true, ds.Errorf(ds.CodeBadUserInput, "invalid cursor %s: malformed", ds.QuoteShort(*cur))
	}
	return c, true, nil
}

// orderNeedsSync explains an orderBy the live path cannot serve: the
// provider's own reason, and that a complete sync would serve it.
func (s *Service) orderNeedsSync(p ds.ProviderID, cause error) error {
	var e *ds.Error
	msg := cause.Error()
	if errors.As(cause, &e) {
		msg = e.Message
	}
	hint := "a complete sync of " + p.String() + " (sync.interval, with database_url) would serve this order from the synced store"
	if s.Synced != nil && s.ServeMaxAge[p] > 0 {
		hint = p.String() + "'s sync has no complete walk within sync.serve_max_age yet; once it has, the synced store serves this order"
	}
	return &ds.Error{Code: ds.CodeUnsupportedByProvider, Provider: &p, Message: fmt.Sprintf("%s; %s", msg, hint)}
}

// orSyncedCount is a live count that, where the provider cannot count (its
// list carries no total), falls back to the synced store's exact count of
// the provider's records matching f, when its sync is recent enough: so the
// default query's totalCount is a number, not null, once the sync is done.
func (s *Service) orSyncedCount(p ds.ProviderID, f ds.Filter, live func(context.Context) (*int, error)) func(context.Context) (*int, error) {
	if s.Synced == nil || s.ServeMaxAge[p] <= 0 {
		return live
	}
	return func(ctx context.Context) (*int, error) {
		n, err := live(ctx)
		if err != nil || n != nil {
			return n, err
		}
		ages, scopes, floor, ok := s.syncedAges(ctx, []ds.ProviderID{p})
		if !ok {
			return nil, nil
		}
		got, err := s.Synced.SyncedCount(ctx, ds.SyncedQuery{Scopes: scopes, Filter: f, Floor: floor})
		if err != nil {
			return nil, nil // null, never a guess
		}
		ds.RecordCached(ctx, p, ds.Synced, ages[p], 0, time.Time{})
		ds.Uncacheable(ctx)
		return &got, nil
	}
}
