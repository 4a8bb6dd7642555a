package resolvers

import (
	"context"
	"sync"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/federate"
)

// loaderWait is how long a loader collects keys before calling upstream.
const loaderWait = 2 * time.Millisecond

// Loaders are built per request (after auth) so that batching and the
// request-scoped memo never mix two callers' data. Every upstream lookup a
// resolver makes goes through them.
type Loaders struct {
	svc       *federate.Service
	customers map[ds.ProviderID]*dataloader.Loader[string, *ds.Customer]
	// customerCache is each customer loader's cache, which preloadCustomers fills.
	customerCache map[ds.ProviderID]dataloader.Cache[string, *ds.Customer]
	// sourcesByExternal: CareCloud records whose external id is the key.
	sourcesByExternal *dataloader.Loader[string, []*ds.CustomerSource]
	// sourcesByCustomer: CareCloud records of the CareCloud customer that is the key.
	sourcesByCustomer *dataloader.Loader[string, []*ds.CustomerSource]
	// index batches identity-index reads (nil without an index).
	index  *indexLoaders
	budget *budget

	ccOnce    sync.Once
	ccIndexed bool
	// complete memoizes, per request, which providers the index holds whole.
	complete indexCompleteness

	peopleOnce sync.Once
	people     *dataloader.Loader[ds.CustomerKey, *ds.Person]
}

// NewLoaders builds the loaders for one request.
func NewLoaders(svc *federate.Service) *Loaders {
	limit := svc.LinkLookupBudget()
	l := &Loaders{svc: svc, customers: map[ds.ProviderID]*dataloader.Loader[string, *ds.Customer]{},
		customerCache: map[ds.ProviderID]dataloader.Cache[string, *ds.Customer]{},
		index:         newIndexLoaders(svc.Index, svc.Scopes()),
		budget:        &budget{limit: limit, used: map[ds.ProviderID]int{}, seen: map[ds.CustomerKey]bool{}}}
	for p, prov := range svc.Customers {
		l.customerCache[p] = dataloader.NewCache[string, *ds.Customer]()
		l.customers[p] = dataloader.NewBatchedLoader(customerLookup(p, prov),
			dataloader.WithWait[string, *ds.Customer](loaderWait),
			dataloader.WithCache(l.customerCache[p]),
			dataloader.WithBatchCapacity[string, *ds.Customer](max(1, prov.Capabilities().LoaderCap)))
	}
	if src := svc.Sources; src != nil {
		l.sourcesByExternal = dataloader.NewBatchedLoader(traced("sources by external id", providerAttr(src.ID().String()),
			groupBatch(src.SourcesByExternalIDs, func(s *ds.CustomerSource) []string { return s.ExternalIDs })),
			dataloader.WithWait[string, []*ds.CustomerSource](loaderWait),
			dataloader.WithBatchCapacity[string, []*ds.CustomerSource](max(1, src.Capabilities().LoaderCap)))
		l.sourcesByCustomer = dataloader.NewBatchedLoader(traced("sources by customer", providerAttr(src.ID().String()),
			groupBatch(src.SourcesByCustomers, func(s *ds.CustomerSource) []string { return []string{s.CustomerID} })),
			dataloader.WithWait[string, []*ds.CustomerSource](loaderWait),
			dataloader.WithBatchCapacity[string, []*ds.CustomerSource](max(1, src.Capabilities().LoaderCap)))
	}
	return l
}

// customerLookup is provider p's customer batch function, traced; the
// loaders and preloadCustomers both call it.
func customerLookup(p ds.ProviderID, prov ds.CustomerProvider) dataloader.BatchFunc[string, *ds.Customer] {
	return traced("customers "+p.String(), providerAttr(p.String()), customerBatch(prov))
}

// customerBatch returns exactly one result per key, in key order.
func customerBatch(prov ds.CustomerProvider) dataloader.BatchFunc[string, *ds.Customer] {
	return func(ctx context.Context, keys []string) []*dataloader.Result[*ds.Customer] {
		out := make([]*dataloader.Result[*ds.Customer], len(keys))
		got, err := prov.GetCustomers(ctx, keys)
		byID := make(map[string]*ds.Customer, len(got))
		for _, c := range got {
			byID[c.ProviderID] = c
		}
		for i, k := range keys {
			r := &dataloader.Result[*ds.Customer]{Data: byID[k]}
			if r.Data == nil {
				r.Error = err // what the cache could still answer stands
			}
			out[i] = r
		}
		return out
	}
}

// groupBatch turns a bulk lookup into one result list per key, in key order.
func groupBatch(fetch func(context.Context, []string) ([]*ds.CustomerSource, error), keysOf func(*ds.CustomerSource) []string) dataloader.BatchFunc[string, []*ds.CustomerSource] {
	return func(ctx context.Context, keys []string) []*dataloader.Result[[]*ds.CustomerSource] {
		out := make([]*dataloader.Result[[]*ds.CustomerSource], len(keys))
		got, err := fetch(ctx, keys)
		byKey := map[string][]*ds.CustomerSource{}
		for _, s := range got {
			for _, k := range keysOf(s) {
				byKey[k] = append(byKey[k], s)
			}
		}
		for i, k := range keys {
			out[i] = &dataloader.Result[[]*ds.CustomerSource]{Data: byKey[k], Error: err}
		}
		return out
	}
}

type loadersKey struct{}

// WithLoaders puts a request's loaders in its context.
func WithLoaders(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, loadersKey{}, l)
}

func loadersFrom(ctx context.Context) *Loaders {
	l, _ := ctx.Value(loadersKey{}).(*Loaders)
	if l == nil {
		panic("resolvers: no loaders in context (the HTTP middleware must add them)")
	}
	return l
}

// Customer loads one customer; nil when the provider does not have it.
func (l *Loaders) Customer(ctx context.Context, k ds.CustomerKey) (*ds.Customer, error) {
	return l.CustomerThunk(ctx, k)()
}

// CustomerThunk starts loading one customer and returns a function that
// waits for it, so that many lookups batch into one upstream call.
func (l *Loaders) CustomerThunk(ctx context.Context, k ds.CustomerKey) func() (*ds.Customer, error) {
	ld := l.customers[k.Provider]
	if ld == nil {
		err := l.svc.Unavailable(k.Provider)
		return func() (*ds.Customer, error) { return nil, err }
	}
	if p, ok := l.svc.Customers[k.Provider].(ds.Peeker); ok {
		if c, ok := p.Peek(ctx, k.ProviderID); ok {
			return func() (*ds.Customer, error) { return c, nil } // in memory: no batch window to wait for
		}
	}
	return ld.Load(ctx, k.ProviderID)
}

// SourcesPointingAt returns CareCloud records whose external id is the
// customer's vendor id at its provider.
func (l *Loaders) SourcesPointingAt(ctx context.Context, k ds.CustomerKey) ([]*ds.CustomerSource, error) {
	if l.sourcesByExternal == nil {
		return nil, nil
	}
	if l.careCloudIndexed(ctx) {
		// The index holds every CareCloud record: none pointing at k is an
		// answer, with no call.
		ids, err := l.index.ext.Load(ctx, k.ProviderID)()
		if err == nil && !careCloudPointsAt(ids, k) {
			return nil, nil
		}
	}
	all, err := l.sourcesByExternal.Load(ctx, k.ProviderID)()
	if err != nil {
		return nil, err
	}
	var out []*ds.CustomerSource
	for _, s := range all {
		if s.Target != nil && *s.Target == k {
			out = append(out, s)
		}
	}
	return out, nil
}

// SourcesOfCustomer returns the CareCloud records of one CareCloud customer.
func (l *Loaders) SourcesOfCustomer(ctx context.Context, careCloudID string) ([]*ds.CustomerSource, error) {
	if l.sourcesByCustomer == nil {
		return nil, l.svc.Unavailable(ds.CareCloud)
	}
	return l.sourcesByCustomer.Load(ctx, careCloudID)()
}
