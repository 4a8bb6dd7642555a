package cache

import (
	"context"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/link"
)

// SyncedShared is a second level that also keeps the synced store (the
// Postgres level): records of complete walks, sortable and searchable.
type SyncedShared interface {
	PutSynced(ctx context.Context, p ds.ProviderID, cred string, cs []*ds.Customer, at time.Time) error
	DropSynced(ctx context.Context, p ds.ProviderID, cred string, vendorIDs []string, at time.Time) error
	FinishWalk(ctx context.Context, p ds.ProviderID, cred string, started, finished time.Time) error
	SyncedWalks(ctx context.Context, scopes []ds.Scope) (map[ds.ProviderID]ds.SyncedWalk, error)
	SyncedPage(ctx context.Context, q ds.SyncedQuery) ([]ds.SyncedRow, ds.Snapshot, error)
	SyncedCount(ctx context.Context, q ds.SyncedQuery) (int, error)
}

// syncWriteTimeout bounds one write of a walk's page to the synced store:
// longer than opTimeout (a page is up to 1000 rows and their indexes), and
// below postgres' snapshot lag, so a write stamped before a walk's snapshot
// has committed when the walk reads.
const syncWriteTimeout = 4 * time.Second

// regroupTimeout bounds one regrouping of people (the whole index).
const regroupTimeout = time.Minute

// syncedReadTimeout bounds one synced read; past it the request is served live.
const syncedReadTimeout = 2 * time.Second

func (l *Layer) synced() SyncedShared {
	s, _ := l.level2().(SyncedShared)
	return s
}

// writeSynced runs op on the synced store while the second level is
// reachable; a failure takes the level out, as any write's does. It reports
// whether op ran and succeeded: a walk whose writes did not all land is not
// finished (finishing closes the records it did not write).
func (l *Layer) writeSynced(ctx context.Context, op func(context.Context, SyncedShared) error) bool {
	s := l.synced()
	if s == nil {
		return false
	}
	octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), syncWriteTimeout)
	defer cancel()
	if err := op(octx, s); err != nil {
		l.fail(err)
		return false
	}
	return true
}

// SyncedStore is the synced store the synced read path reads: nil without
// a second level that keeps one.
func (l *Layer) SyncedStore() ds.SyncedStore {
	if _, ok := l.shared.(SyncedShared); !ok {
		return nil
	}
	return syncedView{l}
}

// syncedView reads the synced store while the second level is reachable;
// otherwise ds.ErrNotSynced sends the request to the live path.
type syncedView struct{ l *Layer }

func (v syncedView) store(ctx context.Context) (SyncedShared, error) {
	if s := v.l.synced(); s != nil {
		return s, nil
	}
	if s, ok := v.l.shared.(SyncedShared); ok && ds.ResumesSnapshot(ctx) {
		return s, nil // a walk goes on if the database answers, whatever the last probe said
	}
	return nil, ds.ErrNotSynced
}

// viewRead runs one bounded read on the store get returns.
func viewRead[S, T any](ctx context.Context, get func(context.Context) (S, error), op func(context.Context, S) (T, error)) (T, error) {
	s, err := get(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	ctx, cancel := context.WithTimeout(ctx, syncedReadTimeout)
	defer cancel()
	return op(ctx, s)
}

func (v syncedView) SyncedWalks(ctx context.Context, scopes []ds.Scope) (map[ds.ProviderID]ds.SyncedWalk, error) {
	return viewRead(ctx, v.store, func(ctx context.Context, s SyncedShared) (map[ds.ProviderID]ds.SyncedWalk, error) {
		return s.SyncedWalks(ctx, scopes)
	})
}

// snapshotLag puts a new walk's snapshot this far in the past (but not
// before its floor), so every sync write stamped before it has committed
// (syncWriteTimeout bounds them below it): a later page of the walk never
// finds a version an earlier page could not see.
const snapshotLag = 5 * time.Second

func (v syncedView) SyncedPage(ctx context.Context, q ds.SyncedQuery) ([]ds.SyncedRow, ds.Snapshot, error) {
	s, err := v.store(ctx)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, syncedReadTimeout)
	defer cancel()
	return s.SyncedPage(ctx, v.snapshot(q))
}

// snapshot gives a query without one (a new walk) each provider's
// snapshot: a moment ago, but not before its last walk finished.
func (v syncedView) snapshot(q ds.SyncedQuery) ds.SyncedQuery {
	if q.AsOf != nil {
		return q
	}
	q.AsOf = ds.Snapshot{}
	lagged := v.l.now().Add(-snapshotLag)
	for _, sc := range q.Scopes {
		q.AsOf[sc.Provider] = lagged
		if f := q.Floor[sc.Provider]; f.After(lagged) {
			q.AsOf[sc.Provider] = f
		}
	}
	return q
}

func (v syncedView) SyncedCount(ctx context.Context, q ds.SyncedQuery) (int, error) {
	return viewRead(ctx, v.store, func(ctx context.Context, s SyncedShared) (int, error) { return s.SyncedCount(ctx, v.snapshot(q)) })
}

// PeopleShared is a second level that groups people (the Postgres level).
type PeopleShared interface {
	AllIdentities(ctx context.Context, scopes []ds.Scope) ([]ds.Identity, error)
	ReplacePeople(ctx context.Context, set string, creds map[ds.ProviderID]string, people map[ds.CustomerKey]string) error
	ds.PeopleStore
}

func (v syncedView) peopleStore(context.Context) (PeopleShared, error) {
	if s, ok := v.l.level2().(PeopleShared); ok {
		return s, nil
	}
	return nil, ds.ErrNotSynced
}

func (v syncedView) People(ctx context.Context, q ds.PeopleQuery) ([]ds.Person, error) {
	return viewRead(ctx, v.peopleStore, func(ctx context.Context, s PeopleShared) ([]ds.Person, error) { return s.People(ctx, q) })
}

func (v syncedView) CountPeople(ctx context.Context, q ds.PeopleQuery) (int, error) {
	return viewRead(ctx, v.peopleStore, func(ctx context.Context, s PeopleShared) (int, error) { return s.CountPeople(ctx, q) })
}

func (v syncedView) PeopleOf(ctx context.Context, set string, scopes []ds.Scope, keys []ds.CustomerKey) (map[ds.CustomerKey]ds.Person, error) {
	return viewRead(ctx, v.peopleStore, func(ctx context.Context, s PeopleShared) (map[ds.CustomerKey]ds.Person, error) {
		return s.PeopleOf(ctx, set, scopes, keys)
	})
}

// Scopes are the provider credentials the syncer walks: the configuration
// people are grouped over.
func (s *Syncer) Scopes() []ds.Scope {
	var out []ds.Scope
	for _, p := range ds.AllProviders {
		if s.has(p) {
			out = append(out, ds.Scope{Provider: p, Credential: s.cred(p)})
		}
	}
	return out
}

// regroup recomputes every record's person from the whole index after a
// complete walk (link.Group: the rules links follow), so people stay one
// connected group each as records change.
func (s *Syncer) regroup(ctx context.Context) {
	s.regroupMu.Lock() // the last walk to finish groups from what every walk wrote
	defer s.regroupMu.Unlock()
	scopes := s.Scopes()
	creds := map[ds.ProviderID]string{}
	for _, sc := range scopes {
		creds[sc.Provider] = sc.Credential
	}
	ps, ok := s.l.synced().(PeopleShared)
	if !ok {
		return
	}
	// Grouping reads the whole index: it has a bound of its own, and a
	// failure keeps the previous grouping without taking the level out
	// (the probe judges the database's health).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), regroupTimeout)
	defer cancel()
	err := func() error {
		ids, err := ps.AllIdentities(ctx, scopes)
		if err != nil {
			return err
		}
		people := map[ds.CustomerKey]string{}
		for k, anchor := range link.Group(ids) {
			people[k] = ds.PersonAnchor(anchor)
		}
		return ps.ReplacePeople(ctx, ds.ScopeSet(scopes), creds, people)
	}()
	if err != nil {
		s.l.log.Warn("grouping people failed; people keep their previous grouping until the next walk", "error", err)
	}
}
