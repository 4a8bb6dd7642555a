package resolvers

import (
	ds "github.com/federated-customers/gateway/datasource"
)

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
