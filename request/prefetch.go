package request

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/link"
)

// PrefetchLinks starts, for every customer of a page whose nodes select
// sources, linkedCustomers or links, the first lookups those fields make:
// the source provider's records naming the customer and the index reads by email and
// by reference. Started together as soon as the page is known, they fall in
// one batch per loader (one round of calls, however the node resolvers are
// scheduled) instead of as many batches as the loaders' short window cuts
// the nodes' goroutines into. The node resolvers then find the same loads in
// the loaders' per-request cache.
func PrefetchLinks(ctx context.Context, conn *ds.CustomerConnection) {
	if conn == nil || len(conn.Edges) == 0 || !graphql.HasOperationContext(ctx) {
		return
	}
	sources, links := selectsLinks(ctx)
	if !sources && !links {
		return
	}
	l := From(ctx)
	indexed := l.sourcesInIndex(ctx)
	for _, e := range conn.Edges {
		c := e.Node
		if l.sourcesByExternal != nil && !indexed {
			l.sourcesByExternal.Load(ctx, c.ProviderID)
		}
		if l.index == nil {
			continue
		}
		if links || indexed {
			l.index.ext.Load(ctx, c.ProviderID) // references to c, and the source records once indexed
		}
		if links && c.Email != nil {
			if email := ds.NormalizeEmail(*c.Email); link.Personal(email) {
				l.index.email.Load(ctx, email)
			}
		}
	}
}

// selectsLinks reports whether the connection field being resolved selects,
// on its nodes (nodes, or edges.node), sources, and linkedCustomers or links.
func selectsLinks(ctx context.Context) (sources, links bool) {
	nodeFields(ctx, "CustomerConnection", "CustomerEdge", []string{"Customer", "Node"}, func(name string) {
		switch name {
		case "sources":
			sources = true
		case "linkedCustomers", "links":
			links = true
		}
	})
	return sources, links
}

// nodeFields calls fn with each field the connection field being resolved
// (of type conn, its edges of type edge) selects on its nodes (nodes, or
// edges.node), those of types node.
func nodeFields(ctx context.Context, conn, edge string, node []string, fn func(name string)) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return
	}
	op := graphql.GetOperationContext(ctx)
	fields := func(set ast.SelectionSet) {
		for _, f := range graphql.CollectFields(op, set, node) {
			fn(f.Name)
		}
	}
	for _, f := range graphql.CollectFields(op, fc.Field.Selections, []string{conn}) {
		switch f.Name {
		case "nodes":
			fields(f.Selections)
		case "edges":
			for _, g := range graphql.CollectFields(op, f.Selections, []string{edge}) {
				if g.Name == "node" {
					fields(g.Selections)
				}
			}
		}
	}
}
