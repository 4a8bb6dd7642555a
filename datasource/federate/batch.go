// Batched lookups and exact totals: GetCustomersBatched and countSegments.

package federate

import (
	"context"

	ds "github.com/federated-customers/gateway/datasource"
)

// GetCustomersBatched calls GetCustomers in chunks of the provider's loader cap.
func GetCustomersBatched(ctx context.Context, prov ds.CustomerProvider, ids []string) ([]*ds.Customer, error) {
	size := max(1, prov.Capabilities().LoaderCap)
	var out []*ds.Customer
	for i := 0; i < len(ids); i += size {
		got, err := prov.GetCustomers(ctx, ids[i:min(i+size, len(ids))])
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

// countSegments sums exact totals; any provider that cannot count makes it nil.
func countSegments[T any](segs []Segment[T], known map[ds.ProviderID]int) func(context.Context) (*int, error) {
	return func(ctx context.Context) (*int, error) {
		sum := 0
		for _, seg := range segs {
			if n, ok := known[seg.Provider]; ok {
				sum += n
				continue
			}
			if seg.Count == nil {
				return nil, nil
			}
			n, err := seg.Count(ctx)
			if err != nil {
				return nil, err
			}
			if n == nil {
				return nil, nil
			}
			sum += *n
		}
		return &sum, nil
	}
}
