package request

import (
	"github.com/vektah/gqlparser/v2/ast"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/federate"
)

// The likely estimate is what a query will probably make, as opposed to
// estimate's upper bound. Only the costly lane reads it: the ordinary graph
// page (customers with sources and links) has an upper bound of hundreds of
// calls (every source a lookup at every provider, every reference chain
// four hops, the source provider's lookups paged) but makes a few dozen cold, so
// classing it by its bound queued it behind every costly query. The upper
// bound still decides refusal and what a key's quota reserves, and the
// request's run-time budget still stops it at max_upstream_calls, so a
// query that turns out dearer than likely is still bounded.
//
// What it assumes, per level: one linked record per customer, spread over
// the customer providers; one batched round of lookups per level (reference
// chains are rare); the source provider's lookups unpaged; a source's customer is one
// record per parent customer; providers without bulk lookup within the
// links lookup budget. Lists and node lookups are as the upper bound says
// (a post-filtered scan is likely to scan: nothing tells it will match).
func LikelyCalls(svc *federate.Service, doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any) Estimate {
	return (&estimator{svc: svc, doc: doc, vars: vars, memo: map[costKey]Estimate{}, active: map[string]bool{}, likely: true}).run(op)
}

// likelyCalls is one round of lookups of k ids at provider p: batches at a
// bulk provider, the list read in pages at one that scans, else one per id.
func (e *estimator) likelyCalls(p ds.ProviderID, k int) int {
	if k <= 0 {
		return 0
	}
	m := e.model(p)
	switch {
	case m.Bulk():
		return (k + m.LookupBatch - 1) / m.LookupBatch
	case m.ScanAbove > 0 && k > m.ScanAbove:
		return (k + m.ScanAbove - 1) / m.ScanAbove
	}
	return k
}

// likelySpread is k ids looked up where they lie: an even share at each
// customer provider, one round, ids one by one within limit (0: none).
func (e *estimator) likelySpread(k, limit int) Estimate {
	var out Estimate
	if k <= 0 || len(e.svc.Customers) == 0 {
		return out
	}
	share := (k + len(e.svc.Customers) - 1) / len(e.svc.Customers)
	for p := range e.svc.Customers {
		n := e.likelyCalls(p, share)
		if limit > 0 && !e.model(p).Bulk() {
			n = min(n, limit)
		}
		out.add(p, n)
		out.Total = add(out.Total, n)
	}
	return out
}

// likelyLinks is n customers' links: one linked record each, looked up in
// one round, within the lookup budget; the source provider's records naming
// them in one batched round, then each of its customers' records within the
// budget.
func (e *estimator) likelyLinks(n int) Estimate {
	budget := e.svc.LinkLookupBudget()
	out := e.likelySpread(n, budget)
	if src := e.svc.Sources; src != nil {
		m := add(e.likelyCalls(src.ID(), n), min(n, budget))
		out.add(src.ID(), m)
		out.Total = add(out.Total, m)
	}
	return out
}

// sourceCustomers is the customers c's sources point at: the upper bound's
// lookups, or likely one record per parent customer.
func (e *estimator) sourceCustomers(c costCtx) Estimate {
	if !e.likely {
		return e.lookups(c.n)
	}
	return e.likelySpread(c.n/max(1, c.perParent), 0)
}
