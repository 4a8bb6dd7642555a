package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/link"
)

// prefetchLinks starts, for every customer of a page whose nodes select
// sources, linkedCustomers or links, the first lookups those fields make:
// CareCloud's records naming the customer and the index reads by email and
// by reference. Started together as soon as the page is known, they fall in
// one batch per loader (one round of calls, however the node resolvers are
// scheduled) instead of as many batches as the loaders' short window cuts
// the nodes' goroutines into. The node resolvers then find the same loads in
// the loaders' per-request cache.
func prefetchLinks(ctx context.Context, conn *ds.CustomerConnection) {
	if conn == nil || len(conn.Edges) == 0 || !graphql.HasOperationContext(ctx) || !selectsLinks(ctx) {
		return
	}
	l := loadersFrom(ctx)
	ccLive := l.sourcesByExternal != nil && !l.careCloudIndexed(ctx)
	for _, e := range conn.Edges {
		c := e.Node
		if ccLive {
			l.sourcesByExternal.Load(ctx, c.ProviderID)
		}
		if l.index == nil {
			continue
		}
		l.index.ext.Load(ctx, c.ProviderID)
		if c.Email != nil {
			if email := ds.NormalizeEmail(*c.Email); link.Personal(email) {
				l.index.email.Load(ctx, email)
			}
		}
	}
}

// selectsLinks reports whether the connection field being resolved selects
// sources, linkedCustomers or links on its nodes (nodes, or edges.node).
func selectsLinks(ctx context.Context) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return false
	}
	op := graphql.GetOperationContext(ctx)
	var customerFields func(set ast.SelectionSet) bool
	customerFields = func(set ast.SelectionSet) bool {
		for _, f := range graphql.CollectFields(op, set, []string{"Customer", "Node"}) {
			switch f.Name {
			case "sources", "linkedCustomers", "links":
				return true
			}
		}
		return false
	}
	for _, f := range graphql.CollectFields(op, fc.Field.Selections, []string{"CustomerConnection"}) {
		switch f.Name {
		case "nodes":
			if customerFields(f.Selections) {
				return true
			}
		case "edges":
			for _, g := range graphql.CollectFields(op, f.Selections, []string{"CustomerEdge"}) {
				if g.Name == "node" && customerFields(g.Selections) {
					return true
				}
			}
		}
	}
	return false
}
