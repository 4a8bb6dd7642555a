package request

import (
	"context"

	"github.com/graph-gophers/dataloader/v7"

	ds "github.com/federated-customers/gateway/datasource"
)

// Source finds one source record: the source provider's records by their
// customer, other providers' sources by re-reading the customer that
// carries them.
func (l *Loaders) Source(ctx context.Context, ref ds.NodeRef) (*ds.CustomerSource, error) {
	var all []*ds.CustomerSource
	if l.isSourceProvider(ref.Provider) {
		var err error
		if all, err = l.sourcesOfCustomer(ctx, ref.CustomerID); err != nil {
			return nil, err
		}
	} else {
		c, err := l.Customer(ctx, ds.CustomerKey{Provider: ref.Provider, ProviderID: ref.CustomerID})
		if err != nil || c == nil {
			return nil, err
		}
		all = ds.RefSources(c)
	}
	for _, s := range all {
		if s.RecordID == ref.RecordID {
			return s, nil
		}
	}
	return nil, nil
}

// Sources is every link between c and another system: the vendor record's
// own cross-references plus the source provider's records pointing at it.
func (l *Loaders) Sources(ctx context.Context, c *ds.Customer) ([]*ds.CustomerSource, error) {
	out := ds.RefSources(c)
	pointing, err := l.sourcesPointingAt(ctx, ds.CustomerKey{Provider: c.Provider, ProviderID: c.ProviderID})
	if err != nil {
		return out, err
	}
	return append(out, pointing...), nil
}

// SourceCustomer is the customer source s points to, nil when it points
// nowhere or at a provider this gateway does not serve.
func (l *Loaders) SourceCustomer(ctx context.Context, s *ds.CustomerSource) (*ds.Customer, error) {
	target := sourceTarget(s)
	if target == nil || !l.Serves(target.Provider) {
		return nil, nil
	}
	return l.Customer(ctx, *target)
}

// sourceTarget is the customer a source points to: the record in the other
// system for SYSTEM sources, and for a PAYMENT source the customer it is
// attached to.
func sourceTarget(s *ds.CustomerSource) *ds.CustomerKey {
	if s.Target != nil {
		return s.Target
	}
	if s.Kind == ds.SourcePayment && s.CustomerID != "" {
		return &ds.CustomerKey{Provider: s.Provider, ProviderID: s.CustomerID}
	}
	return nil
}

// PersonOf batches Customer.person: one synced-store read for every record
// of a page.
func (l *Loaders) PersonOf(ctx context.Context, k ds.CustomerKey) (*ds.Person, error) {
	l.peopleOnce.Do(func() {
		l.people = dataloader.NewBatchedLoader(func(ctx context.Context, keys []ds.CustomerKey) []*dataloader.Result[*ds.Person] {
			got, err := l.svc.PeopleOf(ctx, keys)
			out := make([]*dataloader.Result[*ds.Person], len(keys))
			for i, k := range keys {
				out[i] = &dataloader.Result[*ds.Person]{}
				if p, ok := got[k]; ok {
					out[i].Data = &p
				} else if err != nil {
					out[i].Error = ds.Errorf(ds.CodeInternal, "the synced store failed to read people; try again")
				}
			}
			return out
		}, dataloader.WithWait[ds.CustomerKey, *ds.Person](loaderWait))
	})
	return l.people.Load(ctx, k)()
}

// PersonRecords loads a person's records through the customer loaders
// (records no longer there are left out).
func (l *Loaders) PersonRecords(ctx context.Context, p *ds.Person) ([]*ds.Customer, error) {
	thunks := make([]func() (*ds.Customer, error), len(p.Keys))
	for i, k := range p.Keys {
		thunks[i] = l.CustomerThunk(ctx, k)
	}
	out := make([]*ds.Customer, 0, len(thunks))
	for _, th := range thunks {
		c, err := th()
		if err != nil {
			return out, err
		}
		if c != nil {
			out = append(out, c)
		}
	}
	return out, nil
}
