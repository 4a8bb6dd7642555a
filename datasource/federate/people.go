// People: ListPeople and PeopleOf, from the synced store.

package federate

import (
	"context"
	"fmt"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
)

// people is the synced store's people side, when it has one.
func (s *Service) people() ds.PeopleStore {
	ps, _ := s.Synced.(ds.PeopleStore)
	return ps
}

// ListPeople returns one page of people with a record matching f. People
// are served from the synced store only: every selected provider must be
// synced recently (sync.serve_max_age).
func (s *Service) ListPeople(ctx context.Context, a ConnectionArgs, f ds.Filter) (*ds.PersonConnection, error) {
	f, err := NormalizeFilter(f)
	if err != nil {
		return nil, err
	}
	if len(f.IDs) > 0 {
		return nil, ds.Errorf(ds.CodeBadUserInput, "people does not take filter.ids: ask for customer(id) { person }")
	}
	if a.Last != nil || a.Before != nil {
		return nil, ds.Errorf(ds.CodeBadUserInput, "people pages forward only (first/after)")
	}
	size, _, err := a.sizeUpTo(ds.MaxSyncedFirst)
	if err != nil {
		return nil, err
	}
	provs, err := s.selectedProviders(ctx, f)
	if err != nil {
		return nil, err
	}
	ps := s.people()
	ages, scopes, floor, ok := s.syncedAges(ctx, provs)
	if ps == nil || !ok {
		p := ds.CareCloud
		if len(provs) > 0 {
			p = provs[0]
		}
		return nil, &ds.Error{Code: ds.CodeUnsupportedByProvider, Provider: &p, Message: fmt.Sprintf(
			"people are grouped from the synced store: %s needs a complete sync within sync.serve_max_age (sync.interval, with database_url)", joinProviders(provs))}
	}
	fp := ds.Fingerprint(f)
	q := ds.PeopleQuery{SyncedQuery: ds.SyncedQuery{Scopes: scopes, Filter: f, Limit: size + 1, AsOf: ds.Snapshot{}},
		ScopeSet: s.PeopleScopeSet, RecordScopes: s.Scopes()}
	now := time.Now()
	for _, p := range provs {
		q.AsOf[p] = now // people read the current records
		if floor[p].After(now) {
			q.AsOf[p] = floor[p]
		}
	}
	if a.After != nil {
		pos, err := s.Cursors.Decode("people", fp, *a.After)
		if err != nil {
			return nil, err
		}
		q.After = pos.Token
	}
	got, err := ps.People(ctx, q)
	if err != nil {
		return nil, ds.Errorf(ds.CodeInternal, "the synced store failed to read people; try again")
	}
	for _, p := range provs {
		ds.RecordCached(ctx, p, ds.Synced, ages[p], 0, time.Time{})
	}
	ds.Uncacheable(ctx)
	conn := &ds.PersonConnection{PageInfo: ds.PageInfo{HasPreviousPage: a.After != nil, HasNextPage: len(got) > size}}
	if len(got) > size {
		got = got[:size]
	}
	for _, p := range got {
		conn.Edges = append(conn.Edges, &ds.PersonEdge{Node: &p, Signed: s.Cursors.Encode("people", fp, ds.Position{Token: ds.PersonAnchor(p.Anchor)})})
	}
	if n := len(conn.Edges); n > 0 {
		sc, ec := conn.Edges[0].Signed, conn.Edges[n-1].Signed
		conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = &sc, &ec
	}
	cq := q
	cq.After, cq.Limit = "", 0
	conn.Count = func(ctx context.Context) (*int, error) {
		n, err := ps.CountPeople(ctx, cq)
		if err != nil {
			return nil, ds.Errorf(ds.CodeInternal, "the synced store failed to count people; try again")
		}
		return &n, nil
	}
	return conn, nil
}

// PeopleOf returns the person of each record among keys that the synced
// store has grouped (none without one).
func (s *Service) PeopleOf(ctx context.Context, keys []ds.CustomerKey) (map[ds.CustomerKey]ds.Person, error) {
	ps := s.people()
	if ps == nil || s.PeopleScopeSet == "" {
		return nil, nil
	}
	return ps.PeopleOf(ctx, s.PeopleScopeSet, s.Scopes(), keys)
}
