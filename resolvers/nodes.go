package resolvers

import (
	"context"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/federate"
	"github.com/federated-customers/gateway/graph/model"
	"github.com/federated-customers/gateway/request"
)

// maxNodes bounds nodes(ids:) so one query cannot fan out unboundedly.
const maxNodes = 100

// nodeThunk starts loading the object behind a decoded global ID.
func nodeThunk(ctx context.Context, l *request.Loaders, ref ds.NodeRef) func() (model.Node, error) {
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
			p, err := l.PersonOf(ctx, ds.CustomerKey{Provider: ref.Provider, ProviderID: ref.ProviderID})
			if err != nil || p == nil {
				return nil, err
			}
			return p, nil
		}
	default:
		return func() (model.Node, error) {
			s, err := l.Source(ctx, ref)
			if err != nil || s == nil {
				return nil, err
			}
			return s, nil
		}
	}
}

func providerStatuses(svc *federate.Service) []*model.ProviderStatus {
	out := make([]*model.ProviderStatus, 0, len(ds.AllProviders))
	for _, p := range ds.AllProviders {
		prov, isCustomer := svc.Customers[p]
		isSource := svc.Sources != nil && svc.Sources.ID() == p
		// the declared capability, not the interface: the cache wrapper
		// always has a write side (refusing when the vendor has none)
		writes := isCustomer && prov.Capabilities().Writes
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
