package datasource

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// People: one object per person, a connected group of the identity graph
// (the rules links follow, datasource/link.Group), grouped after each
// complete sync walk and served from the synced store.

// Person is one person: the anchor that names them (their first record in
// provider order, then vendor id) and their records.
type Person struct {
	Anchor CustomerKey
	Keys   []CustomerKey
}

// PersonAnchor is how the store spells a person's anchor: it sorts people
// in provider order, then vendor id.
func PersonAnchor(k CustomerKey) string { return fmt.Sprintf("%d:%s", int(k.Provider), k.ProviderID) }

// NewPerson reads a person from the store's spelling: the anchor and the
// records as "provider key/vendor id".
func NewPerson(anchor string, recs []string) Person {
	var p Person
	if r, id, ok := strings.Cut(anchor, ":"); ok && len(r) == 1 && r[0] >= '0' && r[0] <= '9' {
		p.Anchor = CustomerKey{Provider: ProviderID(r[0] - '0'), ProviderID: id}
	}
	for _, s := range recs {
		if k, ok := ParseRecordKey(s); ok {
			p.Keys = append(p.Keys, k)
		}
	}
	sort.Slice(p.Keys, func(i, j int) bool {
		if p.Keys[i].Provider != p.Keys[j].Provider {
			return p.Keys[i].Provider < p.Keys[j].Provider
		}
		return p.Keys[i].ProviderID < p.Keys[j].ProviderID
	})
	return p
}

// ParseRecordKey reads "provider key/vendor id".
func ParseRecordKey(s string) (CustomerKey, bool) {
	pk, id, ok := strings.Cut(s, "/")
	p, okp := ParseProvider(pk)
	if !ok || !okp {
		return CustomerKey{}, false
	}
	return CustomerKey{Provider: p, ProviderID: id}, true
}

// ID is the person's opaque, stable id (it names the anchor record).
func (p Person) ID() string { return encodeID(kindPerson, p.Anchor.Provider, p.Anchor.ProviderID) }

// IsNode marks Person as a GraphQL Node: node(id) finds the person whose
// records hold the anchor.
func (*Person) IsNode() {}

// GetID satisfies gqlgen's generated Node interface.
func (p *Person) GetID() string { return p.ID() }

// Providers are the providers the person has records at, in enum order.
func (p Person) Providers() []ProviderID {
	var out []ProviderID
	for _, k := range p.Keys {
		if len(out) == 0 || out[len(out)-1] != k.Provider {
			out = append(out, k.Provider)
		}
	}
	return out
}

// RecordCount is how many records the person has (within the caller's providers).
func (p Person) RecordCount() int { return len(p.Keys) }

// PeopleQuery is one page (or count) of people: those with a record in
// scopes matching the filter, after the anchor After.
type PeopleQuery struct {
	SyncedQuery
	ScopeSet string
	After    string // anchor, "" from the start
	// RecordScopes are the providers whose records a person lists: every
	// one the caller may see, whichever the filter selected people by.
	RecordScopes []Scope
}

// PeopleStore is the synced store's people side.
type PeopleStore interface {
	People(ctx context.Context, q PeopleQuery) ([]Person, error)
	CountPeople(ctx context.Context, q PeopleQuery) (int, error)
	PeopleOf(ctx context.Context, set string, scopes []Scope, keys []CustomerKey) (map[CustomerKey]Person, error)
}

// ScopeSet names a set of provider credentials (a configuration): people
// are grouped over all of a configuration's providers.
func ScopeSet(scopes []Scope) string {
	parts := make([]string, len(scopes))
	for i, s := range scopes {
		parts[i] = s.Provider.Key() + ":" + s.Credential
	}
	sort.Strings(parts)
	return Fingerprint(parts)
}

// PersonEdge is one person with its cursor.
type PersonEdge struct {
	Node   *Person
	cursor string
}

// Cursor is the edge's opaque cursor.
func (e *PersonEdge) Cursor() string { return e.cursor }

// PersonConnection is one page of people.
type PersonConnection struct {
	Edges    []*PersonEdge
	PageInfo PageInfo
	count    func(ctx context.Context) (*int, error)
}

// Nodes is the edges' people.
func (c *PersonConnection) Nodes() []*Person {
	out := make([]*Person, len(c.Edges))
	for i, e := range c.Edges {
		out[i] = e.Node
	}
	return out
}

// TotalCount is how many distinct people match.
func (c *PersonConnection) TotalCount(ctx context.Context) (*int, error) { return c.count(ctx) }

// people is the synced store's people side, when it has one.
func (s *Service) people() PeopleStore {
	ps, _ := s.Synced.(PeopleStore)
	return ps
}

// ListPeople returns one page of people with a record matching f. People
// are served from the synced store only: every selected provider must be
// synced recently (sync.serve_max_age).
func (s *Service) ListPeople(ctx context.Context, a ConnectionArgs, f Filter) (*PersonConnection, error) {
	f, err := NormalizeFilter(f)
	if err != nil {
		return nil, err
	}
	if len(f.IDs) > 0 {
		return nil, Errorf(CodeBadUserInput, "people does not take filter.ids: ask for customer(id) { person }")
	}
	if a.Last != nil || a.Before != nil {
		return nil, Errorf(CodeBadUserInput, "people pages forward only (first/after)")
	}
	size, _, err := a.sizeUpTo(MaxSyncedFirst)
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
		p := CareCloud
		if len(provs) > 0 {
			p = provs[0]
		}
		return nil, &Error{Code: CodeUnsupportedByProvider, Provider: &p, Message: fmt.Sprintf(
			"people are grouped from the synced store: %s needs a complete sync within sync.serve_max_age (sync.interval, with database_url)", joinProviders(provs))}
	}
	fp := Fingerprint(f)
	q := PeopleQuery{SyncedQuery: SyncedQuery{Scopes: scopes, Filter: f, Limit: size + 1, AsOf: Snapshot{}},
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
		return nil, Errorf(CodeInternal, "the synced store failed to read people; try again")
	}
	for _, p := range provs {
		RecordCached(ctx, p, Synced, ages[p], 0, time.Time{})
	}
	Uncacheable(ctx)
	conn := &PersonConnection{PageInfo: PageInfo{HasPreviousPage: a.After != nil, HasNextPage: len(got) > size}}
	if len(got) > size {
		got = got[:size]
	}
	for _, p := range got {
		conn.Edges = append(conn.Edges, &PersonEdge{Node: &p, cursor: s.Cursors.Encode("people", fp, Position{Token: PersonAnchor(p.Anchor)})})
	}
	if n := len(conn.Edges); n > 0 {
		sc, ec := conn.Edges[0].cursor, conn.Edges[n-1].cursor
		conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = &sc, &ec
	}
	cq := q
	cq.After, cq.Limit = "", 0
	conn.count = func(ctx context.Context) (*int, error) {
		n, err := ps.CountPeople(ctx, cq)
		if err != nil {
			return nil, Errorf(CodeInternal, "the synced store failed to count people; try again")
		}
		return &n, nil
	}
	return conn, nil
}

// PeopleOf returns the person of each record among keys that the synced
// store has grouped (none without one).
func (s *Service) PeopleOf(ctx context.Context, keys []CustomerKey) (map[CustomerKey]Person, error) {
	ps := s.people()
	if ps == nil || s.PeopleScopeSet == "" {
		return nil, nil
	}
	return ps.PeopleOf(ctx, s.PeopleScopeSet, s.Scopes(), keys)
}
