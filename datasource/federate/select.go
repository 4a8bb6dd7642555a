// Provider selection and scope: which providers a filter selects, Restrict and Unavailable.

package federate

import (
	"context"
	"fmt"
	"strings"

	ds "github.com/federated-customers/gateway/datasource"
)

// SelectedProviders returns the configured customer providers the filter
// selects, in enum order, warning about selected ones that cannot take part.
func (s *Service) selectedProviders(ctx context.Context, f ds.Filter) ([]ds.ProviderID, error) {
	for _, k := range f.IDs {
		if s.Denied[k.Provider] {
			return nil, s.Unavailable(k.Provider) // an id outside the key is refused, not dropped
		}
	}
	var out []ds.ProviderID
	for _, p := range ds.AllProviders {
		if !f.Selects(p) {
			continue
		}
		if _, ok := s.Customers[p]; ok {
			out = append(out, p)
			continue
		}
		if len(f.Providers) == 0 {
			continue // not configured and not asked for: nothing to say
		}
		if s.Denied[p] {
			return nil, s.Unavailable(p)
		}
		msg := p.String() + " is not configured in this gateway; left out"
		if p == ds.CareCloud && s.Sources != nil {
			msg = "CARECLOUD has no customer list (it holds customer source records: see customerSources); left out"
		}
		pp := p
		ds.Warn(ctx, ds.Warning{Code: ds.CodeUnsupportedByProvider, Provider: &pp, Message: msg})
	}
	return out, nil
}

func (s *Service) unsupported(provs []ds.ProviderID, what string) error {
	if len(provs) == 0 {
		return ds.Errorf(ds.CodeUnsupportedByProvider, "%s is not supported", what)
	}
	p := provs[0]
	return &ds.Error{Code: ds.CodeUnsupportedByProvider, Provider: &p,
		Message: fmt.Sprintf("%s is not supported by %s", what, joinProviders(provs))}
}

func joinProviders(ps []ds.ProviderID) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.String()
	}
	return strings.Join(names, ", ")
}

// Restrict returns a view of the service limited to the allowed providers
// (an API key's scope). Asking for another provider is FORBIDDEN.
func (s *Service) Restrict(allowed []ds.ProviderID) *Service {
	ok := map[ds.ProviderID]bool{}
	for _, p := range allowed {
		ok[p] = true
	}
	v := &Service{Customers: map[ds.ProviderID]ds.CustomerProvider{}, Simulated: s.Simulated, Cursors: s.Cursors, Denied: map[ds.ProviderID]bool{},
		Index: s.Index, SyncStatus: s.SyncStatus, SyncComplete: s.SyncComplete, LookupBudget: s.LookupBudget, Calls: s.Calls,
		Synced: s.Synced, ServeMaxAge: s.ServeMaxAge, PeopleScopeSet: s.PeopleScopeSet, Idempotency: s.Idempotency}
	for _, p := range ds.AllProviders {
		if !ok[p] {
			v.Denied[p] = true
		}
	}
	for p, prov := range s.Customers {
		if ok[p] {
			v.Customers[p] = prov
		}
	}
	if s.Sources != nil && ok[s.Sources.ID()] {
		v.Sources = s.Sources
	}
	return v
}

// Unavailable explains why provider p cannot be used in this request:
// FORBIDDEN for a provider outside the caller's scope, NOT_FOUND-style for
// one this gateway does not serve; nil when it can be used.
func (s *Service) Unavailable(p ds.ProviderID) error {
	if s.Denied[p] {
		return ds.ProviderErrorf(p, ds.CodeForbidden, "this API key may not use %s", p)
	}
	if _, ok := s.Customers[p]; ok {
		return nil
	}
	if s.Sources != nil && s.Sources.ID() == p {
		return nil
	}
	return ds.ProviderErrorf(p, ds.CodeNotFound, "%s is not configured in this gateway", p)
}
