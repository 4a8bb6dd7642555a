package request

import (
	"context"
	"fmt"
	"sync"

	"github.com/graph-gophers/dataloader/v7"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/link"
)

// indexLoaders batch a request's identity-index reads, as the customer
// loaders batch its upstream calls.
type indexLoaders struct {
	scopes []ds.Scope
	byKey  *dataloader.Loader[ds.CustomerKey, *ds.Identity]
	email  *dataloader.Loader[string, []ds.Identity]
	ext    *dataloader.Loader[string, []ds.Identity]
}

func newIndexLoaders(idx ds.IdentityIndex, scopes []ds.Scope) *indexLoaders {
	if idx == nil {
		return nil
	}
	il := &indexLoaders{scopes: scopes}
	il.byKey = dataloader.NewBatchedLoader(traced("index by key", nil, func(ctx context.Context, keys []ds.CustomerKey) []*dataloader.Result[*ds.Identity] {
		got, err := idx.ByKeys(ctx, scopes, keys)
		m := make(map[ds.CustomerKey]*ds.Identity, len(got))
		for i := range got {
			m[ds.CustomerKey{Provider: got[i].Provider, ProviderID: got[i].VendorID}] = &got[i]
		}
		out := make([]*dataloader.Result[*ds.Identity], len(keys))
		for i, k := range keys {
			out[i] = &dataloader.Result[*ds.Identity]{Data: m[k], Error: err}
		}
		return out
	}), dataloader.WithWait[ds.CustomerKey, *ds.Identity](loaderWait), dataloader.WithBatchCapacity[ds.CustomerKey, *ds.Identity](1000))
	il.email = dataloader.NewBatchedLoader(traced("index by email", nil, grouped(func(ctx context.Context, keys []string) ([]ds.Identity, error) {
		return idx.ByEmail(ctx, scopes, keys)
	}, func(id ds.Identity) []string { return []string{id.Email} })),
		dataloader.WithWait[string, []ds.Identity](loaderWait), dataloader.WithBatchCapacity[string, []ds.Identity](1000))
	il.ext = dataloader.NewBatchedLoader(traced("index by external id", nil, grouped(func(ctx context.Context, keys []string) ([]ds.Identity, error) {
		return idx.ByExternalID(ctx, scopes, keys)
	}, func(id ds.Identity) []string {
		var out []string
		for _, r := range id.Refs {
			out = append(out, r.ExternalIDs...)
		}
		return out
	})), dataloader.WithWait[string, []ds.Identity](loaderWait), dataloader.WithBatchCapacity[string, []ds.Identity](1000))
	return il
}

// budget is the per-request lookup budget of links at providers without a
// bulk lookup (and the source provider's per-customer record lists).
type budget struct {
	mu    sync.Mutex
	limit int
	used  map[ds.ProviderID]int
	seen  map[ds.CustomerKey]bool
}

// take reports whether key k at p may still be looked up; the same key
// twice costs once.
func (b *budget) take(k ds.CustomerKey) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seen[k] {
		return true
	}
	if b.used[k.Provider] >= b.limit {
		return false
	}
	b.used[k.Provider]++
	b.seen[k] = true
	return true
}

// linkEnv backs link.Find with the request's loaders and the index.
type linkEnv struct{ l *Loaders }

func (e linkEnv) Serves(p ds.ProviderID) bool { return e.l.Serves(p) }

func (e linkEnv) Refs(ctx context.Context, k ds.CustomerKey) ([]ds.Ref, bool, error) {
	if il := e.l.index; il != nil {
		if id, err := il.byKey.Load(ctx, k)(); err == nil && id != nil {
			return id.Refs, true, nil
		}
	}
	c, err := e.Load(ctx, k)()
	if err != nil || c == nil {
		return nil, false, err
	}
	return c.Refs, true, nil
}

func (e linkEnv) ByEmail(ctx context.Context, email string) ([]ds.Identity, error) {
	e.l.warnIndexGaps(ctx, "EMAIL")
	if e.l.index == nil {
		return nil, nil
	}
	return e.l.index.email.Load(ctx, email)()
}

// ReferencedBy reads the index: records (not source records) whose references
// carry k's vendor id, under k's provider or under a system that names no
// provider.
func (e linkEnv) ReferencedBy(ctx context.Context, k ds.CustomerKey) ([]ds.CustomerKey, error) {
	e.l.warnIndexGaps(ctx, "REFERENCE")
	if e.l.index == nil {
		return nil, nil
	}
	ids, err := e.l.index.ext.Load(ctx, k.ProviderID)()
	if err != nil {
		return nil, err
	}
	var out []ds.CustomerKey
	for _, id := range ids {
		if e.l.isSourceProvider(id.Provider) || id.Provider == k.Provider {
			continue
		}
		for _, r := range id.Refs {
			p, named := ds.ParseProvider(r.SourceID)
			if r.Kind == ds.SourceSystem && len(r.ExternalIDs) == 1 && r.ExternalIDs[0] == k.ProviderID && (!named || p == k.Provider) {
				out = append(out, ds.CustomerKey{Provider: id.Provider, ProviderID: id.VendorID})
				break
			}
		}
	}
	return out, nil
}

// Resolve finds the records with vendor id id at every served provider, in
// the index.
func (e linkEnv) Resolve(ctx context.Context, id string) ([]ds.CustomerKey, error) {
	e.l.warnIndexGaps(ctx, "REFERENCE")
	if e.l.index == nil {
		return nil, nil
	}
	var ths []func() (*ds.Identity, error)
	for _, p := range ds.AllProviders {
		if e.Serves(p) {
			ths = append(ths, e.l.index.byKey.Load(ctx, ds.CustomerKey{Provider: p, ProviderID: id}))
		}
	}
	var out []ds.CustomerKey
	for _, th := range ths {
		got, err := th()
		if err != nil {
			return out, err
		}
		if got != nil {
			out = append(out, ds.CustomerKey{Provider: got.Provider, ProviderID: got.VendorID})
		}
	}
	return out, nil
}

// SourceSiblings reads the source provider's records from the index once
// its sync has completed, and from the provider (batched, then within the
// budget) otherwise.
func (e linkEnv) SourceSiblings(ctx context.Context, k ds.CustomerKey) ([]ds.CustomerKey, error) {
	l := e.l
	if l.svc.Sources == nil {
		return nil, nil
	}
	src := l.svc.Sources.ID()
	if l.sourcesInIndex(ctx) {
		ids, err := l.index.ext.Load(ctx, k.ProviderID)()
		if err != nil {
			return nil, err
		}
		var out []ds.CustomerKey
		for _, id := range ids {
			if id.Provider == src && pointsAt(id.Refs, k) {
				out = append(out, refTargets(id.Refs)...)
			}
		}
		return out, nil
	}
	recs, err := l.sourcesPointingAt(ctx, k)
	if err != nil {
		return nil, err
	}
	var out []ds.CustomerKey
	seen := map[string]bool{}
	for _, r := range recs {
		if seen[r.CustomerID] {
			continue
		}
		seen[r.CustomerID] = true
		if !l.budget.take(ds.CustomerKey{Provider: src, ProviderID: r.CustomerID}) {
			l.overBudget(ctx, src)
			continue
		}
		sib, err := l.sourcesOfCustomer(ctx, r.CustomerID)
		if err != nil {
			return out, err
		}
		for _, s := range sib {
			if s.Target != nil {
				out = append(out, *s.Target)
			}
		}
	}
	return out, nil
}

// Load looks a linked record up: free when it is in memory, within the
// budget at providers that look ids up one by one.
func (e linkEnv) Load(ctx context.Context, k ds.CustomerKey) func() (*ds.Customer, error) {
	l := e.l
	prov := l.svc.Customers[k.Provider]
	if p, ok := prov.(ds.Peeker); ok {
		if c, ok := p.Peek(ctx, k.ProviderID); ok {
			return func() (*ds.Customer, error) { return c, nil }
		}
	}
	if prov != nil && !prov.Capabilities().BulkLookup() && !l.budget.take(k) {
		l.overBudget(ctx, k.Provider)
		return func() (*ds.Customer, error) { return nil, nil }
	}
	return l.CustomerThunk(ctx, k)
}

func (l *Loaders) overBudget(ctx context.Context, p ds.ProviderID) {
	pp := p
	ds.Warn(ctx, ds.Warning{Code: ds.CodeUnsupportedByProvider, Provider: &pp, Message: fmt.Sprintf(
		"links at %s are incomplete: this request used its lookup budget of %d records there (%s has no bulk lookup); links found so far are returned",
		p, l.budget.limit, p)})
}

// sourcesInIndex reports, once per request, whether a sync of the source
// provider has completed, so its records can be read from the index.
func (l *Loaders) sourcesInIndex(ctx context.Context) bool {
	l.sourcesOnce.Do(func() {
		if l.index == nil || l.svc.SyncComplete == nil || l.svc.Sources == nil {
			return
		}
		l.sourcesIndexed = l.svc.SyncComplete(ctx, l.svc.Sources.ID())
	})
	return l.sourcesIndexed
}

func pointsAt(refs []ds.Ref, k ds.CustomerKey) bool {
	for _, t := range refTargets(refs) {
		if t == k {
			return true
		}
	}
	return false
}

func refTargets(refs []ds.Ref) []ds.CustomerKey {
	var out []ds.CustomerKey
	for _, r := range refs {
		if p, ok := ds.ParseProvider(r.SourceID); ok && len(r.ExternalIDs) == 1 {
			out = append(out, ds.CustomerKey{Provider: p, ProviderID: r.ExternalIDs[0]})
		}
	}
	return out
}

// Links is c's links, with the errors met (partial results).
func (l *Loaders) Links(ctx context.Context, c *ds.Customer) ([]link.Link, []error) {
	return link.Find(ctx, linkEnv{l}, c)
}

// sourcePointsAt reports whether one of the source provider's records
// among ids points at k.
func (l *Loaders) sourcePointsAt(ids []ds.Identity, k ds.CustomerKey) bool {
	for _, id := range ids {
		if l.isSourceProvider(id.Provider) && pointsAt(id.Refs, k) {
			return true
		}
	}
	return false
}

// indexCompleteness remembers, for one request, whether the identity index
// holds every record of a provider (a sync walk of it has finished).
type indexCompleteness struct {
	mu    sync.Mutex
	known map[ds.ProviderID]bool
}

// indexed reports whether the index holds all of provider p.
func (l *Loaders) indexed(ctx context.Context, p ds.ProviderID) bool {
	l.complete.mu.Lock()
	defer l.complete.mu.Unlock()
	if v, ok := l.complete.known[p]; ok {
		return v
	}
	v := l.index != nil && l.svc.SyncComplete != nil && l.svc.SyncComplete(ctx, p)
	if l.complete.known == nil {
		l.complete.known = map[ds.ProviderID]bool{}
	}
	l.complete.known[p] = v
	return v
}

// warnIndexGaps says which providers' links by reason (EMAIL: the same
// email; REFERENCE: a record naming another, read backward or resolved by
// id) may be missing: links of those kinds are found in the identity index,
// which holds every record of a provider only once a sync walk of it has
// finished; before that it holds only the records this gateway has read.
func (l *Loaders) warnIndexGaps(ctx context.Context, reason string) {
	for _, p := range ds.AllProviders {
		if l.customers[p] == nil || l.indexed(ctx, p) {
			continue
		}
		pp := p
		ds.Warn(ctx, ds.Warning{Code: ds.CodeUnsupportedByProvider, Provider: &pp, Message: fmt.Sprintf(
			"links by %s to %s records may be incomplete: the identity index does not hold all of %s yet (its sync is off or has not finished a walk); sync makes links complete",
			reason, p, p)})
	}
}
