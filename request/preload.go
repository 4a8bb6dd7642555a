package request

import (
	"context"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/graph-gophers/dataloader/v7"

	ds "github.com/federated-customers/gateway/datasource"
)

// PreloadNodes preloads the customers behind refs: the customers, and the
// customers carrying the sources of providers other than the source provider.
func (l *Loaders) PreloadNodes(ctx context.Context, refs []ds.NodeRef) {
	var keys []ds.CustomerKey
	for _, ref := range refs {
		switch {
		case ref.Kind == ds.NodeCustomer:
			keys = append(keys, ds.CustomerKey{Provider: ref.Provider, ProviderID: ref.ProviderID})
		case !l.isSourceProvider(ref.Provider):
			keys = append(keys, ds.CustomerKey{Provider: ref.Provider, ProviderID: ref.CustomerID})
		}
	}
	l.preloadCustomers(ctx, keys)
}

// preloadCustomers fetches keys known all at once (nodes(ids:), a page's
// source targets) in one bulk call per provider and batch size, started
// now, and puts thunks waiting for the answers in the customer loaders'
// caches, so the lookups that follow make no call of their own. The
// loaders' short window would batch them too when the goroutines issuing
// them all run within it, but on a busy machine some run later and split a
// provider's batch into several calls (more than the cost estimate says).
func (l *Loaders) preloadCustomers(ctx context.Context, keys []ds.CustomerKey) {
	byProvider := map[ds.ProviderID][]string{}
	seen := map[ds.CustomerKey]bool{}
	for _, k := range keys {
		cache := l.customerCache[k.Provider]
		if cache == nil || seen[k] {
			continue
		}
		seen[k] = true
		if _, ok := cache.Get(ctx, k.ProviderID); ok {
			continue
		}
		if p, ok := l.svc.Customers[k.Provider].(ds.Peeker); ok {
			if _, ok := p.Peek(ctx, k.ProviderID); ok {
				continue // in memory: CustomerThunk answers it with no call
			}
		}
		byProvider[k.Provider] = append(byProvider[k.Provider], k.ProviderID)
	}
	for p, ids := range byProvider {
		prov := l.svc.Customers[p]
		size := max(1, prov.Capabilities().LoaderCap)
		for len(ids) > 0 {
			chunk := ids[:min(size, len(ids))]
			ids = ids[len(chunk):]
			done := make(chan struct{})
			var results []*dataloader.Result[*ds.Customer]
			for i, id := range chunk {
				l.customerCache[p].Set(ctx, id, func() (*ds.Customer, error) {
					<-done
					if i >= len(results) { // the lookup panicked (as the loaders do, an error, not a crash)
						return nil, ds.Errorf(ds.CodeInternal, "looking up %s customers failed", p)
					}
					return results[i].Data, results[i].Error
				})
			}
			go func() {
				defer close(done)
				defer func() {
					if r := recover(); r != nil {
						slog.Error("customer lookup panicked", "provider", p.String(), "panic", r)
					}
				}()
				results = customerLookup(p, prov)(ctx, chunk)
			}()
		}
	}
}

// PrefetchSourceTargets preloads the customers a page of sources points at
// when its nodes select customer.
func PrefetchSourceTargets(ctx context.Context, conn *ds.CustomerSourceConnection) {
	if conn == nil || len(conn.Edges) == 0 || !graphql.HasOperationContext(ctx) || !selectsSourceCustomer(ctx) {
		return
	}
	l := From(ctx)
	var keys []ds.CustomerKey
	for _, e := range conn.Edges {
		if target := sourceTarget(e.Node); target != nil {
			keys = append(keys, *target)
		}
	}
	l.preloadCustomers(ctx, keys)
}

// selectsSourceCustomer reports whether the source connection being
// resolved selects customer on its nodes (nodes, or edges.node).
func selectsSourceCustomer(ctx context.Context) bool {
	customer := false
	nodeFields(ctx, "CustomerSourceConnection", "CustomerSourceEdge", []string{"CustomerSource", "Node"}, func(name string) {
		customer = customer || name == "customer"
	})
	return customer
}
