// Connection types: the Relay pages the engine returns and the schema binds.
package datasource

import (
	"context"
)

// PageInfo is the Relay page info.
type PageInfo struct {
	HasNextPage     bool
	HasPreviousPage bool
	StartCursor     *string
	EndCursor       *string
}

// CustomerEdge is one customer with its cursor. The cursor is signed only
// when a query asks for it: a page read through nodes never pays for 50
// HMACs (the speed issue's profile had cursor encoding at 8% of a warm page).
type CustomerEdge struct {
	Node *Customer
	// After is the place right after Node, which Mint signs into its cursor.
	After Position
	Mint  Minter
}

// Cursor is the edge's opaque cursor.
func (e *CustomerEdge) Cursor() string { return e.Mint.Mint(e.After) }

// Minter signs a place in a list into an opaque cursor (the engine's cursor
// codec, with the connection kind and filter fingerprint of one page).
type Minter interface{ Mint(Position) string }

// CustomerConnection is one page of the federated customer list.
type CustomerConnection struct {
	Edges    []*CustomerEdge
	PageInfo PageInfo
	// PartialErrors are provider failures that cut the page short; the
	// resolver reports them next to the data it has.
	PartialErrors []error
	// Count computes the exact total when a query asks for it (nil: unknown).
	Count func(ctx context.Context) (*int, error)
}

// Nodes is the edges' nodes, for clients that do not need cursors.
func (c *CustomerConnection) Nodes() []*Customer {
	return nodes(c.Edges, func(e *CustomerEdge) *Customer { return e.Node })
}

// TotalCount is exact or nil; it is only computed when a query asks for it.
func (c *CustomerConnection) TotalCount(ctx context.Context) (*int, error) {
	return total(ctx, c.Count)
}

// CustomerSourceEdge is one source record with its cursor, signed when asked for.
type CustomerSourceEdge struct {
	Node  *CustomerSource
	After Position
	Mint  Minter
}

// Cursor is the edge's opaque cursor.
func (e *CustomerSourceEdge) Cursor() string { return e.Mint.Mint(e.After) }

// CustomerSourceConnection is one page of the customer-source list.
type CustomerSourceConnection struct {
	Edges         []*CustomerSourceEdge
	PageInfo      PageInfo
	PartialErrors []error
	// Count computes the exact total when a query asks for it (nil: unknown).
	Count func(ctx context.Context) (*int, error)
}

// Nodes is the edges' nodes.
func (c *CustomerSourceConnection) Nodes() []*CustomerSource {
	return nodes(c.Edges, func(e *CustomerSourceEdge) *CustomerSource { return e.Node })
}

// TotalCount is exact or nil.
func (c *CustomerSourceConnection) TotalCount(ctx context.Context) (*int, error) {
	return total(ctx, c.Count)
}

// nodes is a page's nodes, for clients that do not need cursors.
func nodes[E, N any](edges []*E, node func(*E) N) []N {
	out := make([]N, len(edges))
	for i, e := range edges {
		out[i] = node(e)
	}
	return out
}

// total runs a connection's count, nil when it has none.
func total(ctx context.Context, count func(context.Context) (*int, error)) (*int, error) {
	if count == nil {
		return nil, nil
	}
	return count(ctx)
}
