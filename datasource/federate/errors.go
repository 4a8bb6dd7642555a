// Error dedupe: one error per provider and code.

package federate

import (
	ds "github.com/federated-customers/gateway/datasource"
)

// DedupeErrors keeps one error per provider and code, so a failing provider
// is reported once rather than once per node.
func DedupeErrors(errs []error) []error {
	type key struct {
		p    ds.ProviderID
		ok   bool
		code ds.Code
	}
	seen := map[key]bool{}
	var out []error
	for _, err := range errs {
		p, ok := ds.ErrorProvider(err)
		k := key{p, ok, ds.ErrorCode(err)}
		if !seen[k] {
			seen[k] = true
			out = append(out, err)
		}
	}
	return out
}
