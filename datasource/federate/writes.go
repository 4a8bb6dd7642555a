// Write dispatch: a provider's writer and payment-source attacher.

package federate

import (
	ds "github.com/federated-customers/gateway/datasource"
)

// Writer returns provider p's write side, or UNSUPPORTED_BY_PROVIDER.
func (s *Service) Writer(p ds.ProviderID) (ds.CustomerWriter, error) {
	if err := s.Unavailable(p); err != nil {
		return nil, err
	}
	prov := s.Customers[p]
	w, ok := prov.(ds.CustomerWriter)
	if !ok || !prov.Capabilities().Writes {
		return nil, ds.ProviderErrorf(p, ds.CodeUnsupportedByProvider, "%s does not support writing customers", p)
	}
	return w, nil
}

// Attacher returns provider p's payment-source side, or UNSUPPORTED_BY_PROVIDER.
func (s *Service) Attacher(p ds.ProviderID, sourceID string) (ds.SourceAttacher, error) {
	if sourceID == "" || len(sourceID) > maxFilterText {
		return nil, ds.Errorf(ds.CodeBadUserInput, "sourceId must be a non-empty id of at most %d bytes", maxFilterText)
	}
	if err := s.Unavailable(p); err != nil {
		return nil, err
	}
	prov := s.Customers[p]
	a, ok := prov.(ds.SourceAttacher)
	if !ok || !prov.Capabilities().Attaches {
		return nil, ds.ProviderErrorf(p, ds.CodeUnsupportedByProvider, "%s has no payment sources to attach or detach", p)
	}
	return a, nil
}
