package datasource

import "context"

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
	Node  *Customer
	after Position
	mint  *cursorMint
}

// Cursor is the edge's opaque cursor.
func (e *CustomerEdge) Cursor() string { return e.mint.encode(e.after) }

// cursorMint signs the cursors of one page: the codec, the connection kind
// and the filter fingerprint they share.
type cursorMint struct {
	codec    CursorCodec
	kind, fp string
}

func (m *cursorMint) encode(pos Position) string { return m.codec.Encode(m.kind, m.fp, pos) }

// CustomerConnection is one page of the federated customer list.
type CustomerConnection struct {
	Edges    []*CustomerEdge
	PageInfo PageInfo
	// PartialErrors are provider failures that cut the page short; the
	// resolver reports them next to the data it has.
	PartialErrors []error
	count         func(ctx context.Context) (*int, error)
}

// Nodes is the edges' nodes, for clients that do not need cursors.
func (c *CustomerConnection) Nodes() []*Customer {
	out := make([]*Customer, len(c.Edges))
	for i, e := range c.Edges {
		out[i] = e.Node
	}
	return out
}

// TotalCount is exact or nil; it is only computed when a query asks for it.
func (c *CustomerConnection) TotalCount(ctx context.Context) (*int, error) {
	if c.count == nil {
		return nil, nil
	}
	return c.count(ctx)
}

// CustomerSourceEdge is one source record with its cursor, signed when asked for.
type CustomerSourceEdge struct {
	Node  *CustomerSource
	after Position
	mint  *cursorMint
}

// Cursor is the edge's opaque cursor.
func (e *CustomerSourceEdge) Cursor() string { return e.mint.encode(e.after) }

// CustomerSourceConnection is one page of the customer-source list.
type CustomerSourceConnection struct {
	Edges         []*CustomerSourceEdge
	PageInfo      PageInfo
	PartialErrors []error
	count         func(ctx context.Context) (*int, error)
}

// Nodes is the edges' nodes.
func (c *CustomerSourceConnection) Nodes() []*CustomerSource {
	out := make([]*CustomerSource, len(c.Edges))
	for i, e := range c.Edges {
		out[i] = e.Node
	}
	return out
}

// TotalCount is exact or nil.
func (c *CustomerSourceConnection) TotalCount(ctx context.Context) (*int, error) {
	if c.count == nil {
		return nil, nil
	}
	return c.count(ctx)
}

// customerEdges makes a page's edges in one allocation.
func customerEdges(walked []Edge[*Customer], mint *cursorMint) []*CustomerEdge {
	return edgesOf(walked, func(e Edge[*Customer]) CustomerEdge { return CustomerEdge{Node: e.Node, after: e.After, mint: mint} })
}

// sourceEdges makes a page's source edges in one allocation.
func sourceEdges(walked []Edge[*CustomerSource], mint *cursorMint) []*CustomerSourceEdge {
	return edgesOf(walked, func(e Edge[*CustomerSource]) CustomerSourceEdge {
		return CustomerSourceEdge{Node: e.Node, after: e.After, mint: mint}
	})
}

func edgesOf[N, E any](walked []Edge[N], edge func(Edge[N]) E) []*E {
	backing := make([]E, len(walked))
	out := make([]*E, len(walked))
	for i, e := range walked {
		backing[i] = edge(e)
		out[i] = &backing[i]
	}
	return out
}
