package resolvers

import (
	"context"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/federate"
	"github.com/federated-customers/gateway/graph/model"
)

// maxNodes bounds nodes(ids:) so one query cannot fan out unboundedly.
const maxNodes = 100

// nodeThunk starts loading the object behind a decoded global ID.
func nodeThunk(ctx context.Context, l *Loaders, ref ds.NodeRef) func() (model.Node, error) {
	switch ref.Kind {
	case ds.NodeCustomer:
		th := l.CustomerThunk(ctx, ds.CustomerKey{Provider: ref.Provider, ProviderID: ref.ProviderID})
		return func() (model.Node, error) {
			c, err := th()
			if err != nil || c == nil {
				return nil, err // a typed nil would not be a null Node
			}
			return c, nil
		}
	case ds.NodePerson:
		return func() (model.Node, error) {
			p, err := l.personOf(ctx, ds.CustomerKey{Provider: ref.Provider, ProviderID: ref.ProviderID})
			if err != nil || p == nil {
				return nil, err
			}
			return p, nil
		}
	default:
		return func() (model.Node, error) {
			s, err := loadSource(ctx, l, ref)
			if err != nil || s == nil {
				return nil, err
			}
			return s, nil
		}
	}
}

// loadSource finds one source record: CareCloud records by their customer,
// other providers' sources by re-reading the customer that carries them.
func loadSource(ctx context.Context, l *Loaders, ref ds.NodeRef) (*ds.CustomerSource, error) {
	var all []*ds.CustomerSource
	if ref.Provider == ds.CareCloud {
		var err error
		if all, err = l.SourcesOfCustomer(ctx, ref.CustomerID); err != nil {
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

// customerSources is every link between c and another system: the vendor
// record's own cross-references plus CareCloud records pointing at it.
func customerSources(ctx context.Context, l *Loaders, c *ds.Customer) ([]*ds.CustomerSource, error) {
	out := ds.RefSources(c)
	cc, err := l.SourcesPointingAt(ctx, ds.CustomerKey{Provider: c.Provider, ProviderID: c.ProviderID})
	if err != nil {
		return out, err
	}
	return append(out, cc...), nil
}

func providerStatuses(svc *federate.Service) []*model.ProviderStatus {
	out := make([]*model.ProviderStatus, 0, len(ds.AllProviders))
	for _, p := range ds.AllProviders {
		prov, isCustomer := svc.Customers[p]
		isSource := svc.Sources != nil && svc.Sources.ID() == p
		_, writes := prov.(ds.CustomerWriter)
		out = append(out, &model.ProviderStatus{
			Provider:  p,
			Enabled:   isCustomer || isSource,
			Simulated: svc.Simulated[p],
			Customers: isCustomer,
			Sources:   isSource,
			Writes:    isCustomer && writes,
		})
	}
	return out
}

// providerSync is provider p's sync state, nil when p is not configured here.
func providerSync(ctx context.Context, svc *federate.Service, p ds.ProviderID) *ds.SyncStatus {
	if svc.SyncStatus == nil || svc.Unavailable(p) != nil {
		return nil
	}
	st, ok := svc.SyncStatus(ctx, p)
	if !ok {
		return nil
	}
	return &st
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
