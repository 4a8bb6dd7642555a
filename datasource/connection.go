package datasource

import "context"

// PageInfo is the Relay page info.
type PageInfo struct {
	HasNextPage     bool
	HasPreviousPage bool
	StartCursor     *string
	EndCursor       *string
}

// CustomerEdge is one customer with its cursor.
type CustomerEdge struct {
	Cursor string
	Node   *Customer
}

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

// CustomerSourceEdge is one source record with its cursor.
type CustomerSourceEdge struct {
	Cursor string
	Node   *CustomerSource
}

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
