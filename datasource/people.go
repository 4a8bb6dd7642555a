package datasource

import (
	"context"
	"fmt"
	"sort"
	"strings"
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
	Node *Person
	// Signed is the edge's cursor, signed by the engine.
	Signed string
}

// Cursor is the edge's opaque cursor.
func (e *PersonEdge) Cursor() string { return e.Signed }

// PersonConnection is one page of people.
type PersonConnection struct {
	Edges    []*PersonEdge
	PageInfo PageInfo
	// Count counts the distinct people matching.
	Count func(ctx context.Context) (*int, error)
}

// Nodes is the edges' people.
func (c *PersonConnection) Nodes() []*Person {
	return nodes(c.Edges, func(e *PersonEdge) *Person { return e.Node })
}

// TotalCount is how many distinct people match.
func (c *PersonConnection) TotalCount(ctx context.Context) (*int, error) { return c.Count(ctx) }
