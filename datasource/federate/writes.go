// Write dispatch: a provider's writer and payment-source attacher.

package federate

import (
	ds "github.com/federated-customers/gateway/datasource"
)

// Writer returns provider p's write side, or UNSUPPORTED_BY_PROVIDER.
func (s *Service) Writer(p ds.ProviderID) (ds.CustomerWriter, error) {
	return side[ds.CustomerWriter](s, p, func(c ds.Capabilities) bool { return c.Writes }, "does not support writing customers")
}

// Attacher returns provider p's payment-source side, or UNSUPPORTED_BY_PROVIDER.
func (s *Service) Attacher(p ds.ProviderID, sourceID string) (ds.SourceAttacher, error) {
	if sourceID == "" || len(sourceID) > maxFilterText {
		return nil, ds.Errorf(ds.CodeBadUserInput, "sourceId must be a non-empty id of at most %d bytes", maxFilterText)
	}
	return side[ds.SourceAttacher](s, p, func(c ds.Capabilities) bool { return c.Attaches }, "has no payment sources to attach or detach")
}

// side returns provider p as T when it implements T and declares the side
// (has), else UNSUPPORTED_BY_PROVIDER saying what p lacks.
func side[T any](s *Service, p ds.ProviderID, has func(ds.Capabilities) bool, lacks string) (T, error) {
	var zero T
	if err := s.Unavailable(p); err != nil {
		return zero, err
	}
	prov := s.Customers[p]
	v, ok := prov.(T)
	if !ok || !has(prov.Capabilities()) {
		return zero, ds.ProviderErrorf(p, ds.CodeUnsupportedByProvider, "%s %s", p, lacks)
	}
	return v, nil
}
