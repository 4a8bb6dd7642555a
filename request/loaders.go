// Package request holds what one GraphQL request asks of the providers: its
// dataloaders (built after authentication, so batching and the request memo
// never mix two callers' data), the link lookups and their budget, and the
// estimate of those calls made before the query runs. The estimate sits
// beside the calls it counts and reads the same figures (LinkLookupBudget,
// the fan-outs, the call models), so the two cannot drift apart.
package request

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

// Loaders are one request's lookups. Every upstream lookup a resolver
// makes goes through them.
type Loaders struct {
	svc       *federate.Service
	customers map[ds.ProviderID]*dataloader.Loader[string, *ds.Customer]
	// customerCache is each customer loader's cache, which preloadCustomers fills.
	customerCache map[ds.ProviderID]dataloader.Cache[string, *ds.Customer]
	// sourcesByExternal: source records (svc.Sources) whose external id is the key.
	sourcesByExternal *dataloader.Loader[string, []*ds.CustomerSource]
	// sourcesByCustomer: the source records of the source provider's customer that is the key.
	sourcesByCustomer *dataloader.Loader[string, []*ds.CustomerSource]
	// index batches identity-index reads (nil without an index).
	index  *indexLoaders
	budget *budget

	sourcesOnce    sync.Once
	sourcesIndexed bool
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
			grouped(src.SourcesByExternalIDs, func(s *ds.CustomerSource) []string { return s.ExternalIDs })),
			dataloader.WithWait[string, []*ds.CustomerSource](loaderWait),
			dataloader.WithBatchCapacity[string, []*ds.CustomerSource](max(1, src.Capabilities().LoaderCap)))
		l.sourcesByCustomer = dataloader.NewBatchedLoader(traced("sources by customer", providerAttr(src.ID().String()),
			grouped(src.SourcesByCustomers, func(s *ds.CustomerSource) []string { return []string{s.CustomerID} })),
			dataloader.WithWait[string, []*ds.CustomerSource](loaderWait),
			dataloader.WithBatchCapacity[string, []*ds.CustomerSource](max(1, src.Capabilities().LoaderCap)))
	}
	return l
}

// Service is the federation service of this request's caller.
func (l *Loaders) Service() *federate.Service { return l.svc }

// Serves reports whether provider p's customers can be looked up here.
func (l *Loaders) Serves(p ds.ProviderID) bool { return l.customers[p] != nil }

// isSourceProvider reports whether p is the source provider: the one whose
// records point at other providers' customers (svc.Sources).
func (l *Loaders) isSourceProvider(p ds.ProviderID) bool { return isSourceProvider(l.svc, p) }

func isSourceProvider(svc *federate.Service, p ds.ProviderID) bool {
	return svc.Sources != nil && svc.Sources.ID() == p
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

// grouped turns a bulk lookup (source records, index rows) into one result
// list per key, in key order.
func grouped[T any](fetch func(context.Context, []string) ([]T, error), keysOf func(T) []string) dataloader.BatchFunc[string, []T] {
	return func(ctx context.Context, keys []string) []*dataloader.Result[[]T] {
		got, err := fetch(ctx, keys)
		byKey := map[string][]T{}
		for _, v := range got {
			for _, k := range keysOf(v) {
				byKey[k] = append(byKey[k], v)
			}
		}
		out := make([]*dataloader.Result[[]T], len(keys))
		for i, k := range keys {
			out[i] = &dataloader.Result[[]T]{Data: byKey[k], Error: err}
		}
		return out
	}
}

type loadersKey struct{}

// With puts a request's loaders in its context.
func With(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, loadersKey{}, l)
}

// Of is the request's loaders, nil outside a request.
func Of(ctx context.Context) *Loaders {
	l, _ := ctx.Value(loadersKey{}).(*Loaders)
	return l
}

// From is the request's loaders; the resolvers run only inside a request.
func From(ctx context.Context) *Loaders {
	l := Of(ctx)
	if l == nil {
		panic("request: no loaders in context (the HTTP endpoint must add them)")
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

// sourcesPointingAt returns the source records whose external id is the
// customer's vendor id at its provider.
func (l *Loaders) sourcesPointingAt(ctx context.Context, k ds.CustomerKey) ([]*ds.CustomerSource, error) {
	if l.sourcesByExternal == nil {
		return nil, nil
	}
	if l.sourcesInIndex(ctx) {
		// The index holds every source record: none pointing at k is an
		// answer, with no call.
		ids, err := l.index.ext.Load(ctx, k.ProviderID)()
		if err == nil && !l.sourcePointsAt(ids, k) {
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

// sourcesOfCustomer returns the source records of one of the source
// provider's customers (none without a source provider).
func (l *Loaders) sourcesOfCustomer(ctx context.Context, customerID string) ([]*ds.CustomerSource, error) {
	if l.sourcesByCustomer == nil {
		return nil, nil
	}
	return l.sourcesByCustomer.Load(ctx, customerID)()
}
