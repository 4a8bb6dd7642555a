package resolvers

import (
	"context"

	"github.com/graph-gophers/dataloader/v7"

	ds "github.com/federated-customers/gateway/datasource"
)

// personOf batches Customer.person: one synced-store read for every record
// of a page.
func (l *Loaders) personOf(ctx context.Context, k ds.CustomerKey) (*ds.Person, error) {
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

// personRecords loads a person's records through the customer loaders
// (records no longer there are left out).
func (l *Loaders) personRecords(ctx context.Context, p *ds.Person) ([]*ds.Customer, error) {
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

// distinct is the distinct present values of field over cs, in record order.
func distinct(cs []*ds.Customer, field func(*ds.Customer) *string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, c := range cs {
		if v := field(c); v != nil && !seen[*v] {
			seen[*v] = true
			out = append(out, *v)
		}
	}
	return out
}
