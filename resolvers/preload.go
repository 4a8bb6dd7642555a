package resolvers

import (
	"context"
	"sync"

	ds "github.com/federated-customers/gateway/datasource"
)

// preloadNodes preloads the customers behind refs: the customers, and the
// customers carrying the sources of providers other than CareCloud.
func (l *Loaders) preloadNodes(ctx context.Context, refs []ds.NodeRef) {
	var keys []ds.CustomerKey
	for _, ref := range refs {
		switch {
		case ref.Kind == ds.NodeCustomer:
			keys = append(keys, ds.CustomerKey{Provider: ref.Provider, ProviderID: ref.ProviderID})
		case ref.Provider != ds.CareCloud:
			keys = append(keys, ds.CustomerKey{Provider: ref.Provider, ProviderID: ref.CustomerID})
		}
	}
	l.preloadCustomers(ctx, keys)
}

// preloadCustomers fetches keys known all at once (nodes(ids:)) in one bulk
// call per provider and batch size, and puts the answers in the customer
// loaders' caches, so the lookups that follow make no call. The loaders'
// short window would batch them too when the loop issuing them runs
// unhindered, but a loop preempted for longer than the window (a busy
// machine) splits a provider's batch into several calls.
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
	var wg sync.WaitGroup
	for p, ids := range byProvider {
		prov := l.svc.Customers[p]
		size := max(1, prov.MaxBatch())
		for len(ids) > 0 {
			chunk := ids[:min(size, len(ids))]
			ids = ids[len(chunk):]
			wg.Go(func() {
				results := customerBatch(prov)(ctx, chunk)
				for i, id := range chunk {
					r := results[i]
					l.customerCache[p].Set(ctx, id, func() (*ds.Customer, error) { return r.Data, r.Error })
				}
			})
		}
	}
	wg.Wait()
}
