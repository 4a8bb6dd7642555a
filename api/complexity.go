package api

import (
	"github.com/federated-customers/gateway/graph"
	"github.com/federated-customers/gateway/graph/model"
)

// Fan-out estimates for list fields whose size the arguments do not give.
const (
	sourcesPerCustomer = 4
	linksPerCustomer   = 4
)

// setComplexity makes list fields cost what they can fetch, so the
// complexity limit tracks upstream work rather than the query's length.
func setComplexity(cfg *graph.Config) {
	c := &cfg.Complexity
	page := func(first *int) int {
		if first == nil || *first < 1 {
			return 20
		}
		return min(*first, 100) // more is refused when the field runs
	}
	c.Query.Customers = func(child int, first *int, _ *string, last *int, _ *string, _ *model.CustomerFilter, _ *model.CustomerOrder) int {
		n := page(first)
		if last != nil {
			n = page(last)
		}
		return add(1, mul(n, child))
	}
	c.Query.CustomerSources = func(child int, first *int, _ *string, last *int, _ *string, _ *model.CustomerSourceFilter) int {
		n := page(first)
		if last != nil {
			n = page(last)
		}
		return add(1, mul(n, child))
	}
	c.Query.Nodes = func(child int, ids []string) int { return add(1, mul(len(ids), child)) }
	c.Customer.Sources = func(child int) int { return add(1, mul(sourcesPerCustomer, child)) }
	c.Customer.LinkedCustomers = func(child int) int { return add(1, mul(linksPerCustomer, child)) }
	c.Customer.Links = func(child int) int { return add(1, mul(linksPerCustomer, child)) }
}

// mul is a saturating product of non-negative figures (see saturated).
func mul(a, b int) int {
	if a <= 0 || b <= 0 {
		return 0
	}
	if a > saturated/b {
		return saturated
	}
	return a * b
}
