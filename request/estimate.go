package request

import (
	"fmt"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/federate"
	"github.com/federated-customers/gateway/datasource/link"
)

// Estimate is a query's upstream calls, at most, before it runs: per
// provider and in all (the total can be less than the providers' sum, as
// one connection page makes at most federate.MaxFetchesPerWalk list calls).
type Estimate struct {
	Total       int
	PerProvider [5]int
}

func (e *Estimate) add(p ds.ProviderID, n int) {
	if p.Valid() {
		e.PerProvider[p] = add(e.PerProvider[p], n)
	}
}

func (e *Estimate) merge(o Estimate) {
	e.Total = add(e.Total, o.Total)
	for i := range e.PerProvider {
		e.PerProvider[i] = add(e.PerProvider[i], o.PerProvider[i])
	}
}

// Extension is the estimate as extensions.cost shows it.
func (e Estimate) Extension(limit int) map[string]any {
	var list []map[string]any
	for _, p := range ds.AllProviders {
		if n := e.PerProvider[p]; n > 0 {
			list = append(list, map[string]any{"provider": p.String(), "calls": n})
		}
	}
	return map[string]any{"upstreamCalls": e.Total, "limit": limit, "providers": list}
}

func (e Estimate) String() string {
	var parts []string
	for _, p := range ds.AllProviders {
		if n := e.PerProvider[p]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %s", p, Count(n)))
		}
	}
	return Count(e.Total) + " upstream calls (" + strings.Join(parts, ", ") + ")"
}

// Fan-out assumed for list fields whose length the query does not give,
// the same as the complexity functions assume.
const recordsPerID = sourcesPerCustomer

// costCtx is what a selection's cost depends on besides its text: how many
// parent objects it runs for, and what the enclosing connection's
// totalCount costs.
type costCtx struct {
	n     int
	count Estimate
	// perParent is how many of n each parent object was assumed to have
	// (the likely estimate takes one)
	perParent int
}

type costKey struct {
	fragment string
	ctx      costCtx
}

// estimator walks an operation once per fragment and context (memoized like
// the limits walk, so fragment fan-out stays linear).
type estimator struct {
	svc    *federate.Service
	doc    *ast.QueryDocument
	vars   map[string]any
	memo   map[costKey]Estimate
	active map[string]bool
	// likely: what the query will probably make, not the most (likely.go)
	likely bool
}

// Calls is the most upstream calls an operation makes for a caller of svc.
func Calls(svc *federate.Service, doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any) Estimate {
	return (&estimator{svc: svc, doc: doc, vars: vars, memo: map[costKey]Estimate{}, active: map[string]bool{}}).run(op)
}

func (e *estimator) run(op *ast.OperationDefinition) Estimate {
	svc := e.svc
	est := e.set(op.SelectionSet, costCtx{n: 1})
	for _, p := range ds.AllProviders {
		if est.PerProvider[p] > 0 {
			once := svc.Calls[p].Once
			est.add(p, once)
			est.Total = add(est.Total, once)
		}
	}
	return est
}

func (e *estimator) set(set ast.SelectionSet, c costCtx) Estimate {
	var out Estimate
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			out.merge(e.field(s, c))
		case *ast.InlineFragment:
			out.merge(e.set(s.SelectionSet, c))
		case *ast.FragmentSpread:
			k := costKey{s.Name, c}
			if est, ok := e.memo[k]; ok {
				out.merge(est)
				continue
			}
			f := e.doc.Fragments.ForName(s.Name)
			if f == nil || e.active[s.Name] {
				continue
			}
			e.active[s.Name] = true
			est := e.set(f.SelectionSet, c)
			delete(e.active, s.Name)
			e.memo[k] = est
			out.merge(est)
		}
	}
	return out
}

func (e *estimator) model(p ds.ProviderID) ds.CallModel { return e.svc.Calls[p] }

// lookups is k ids looked up at every customer provider that could hold them.
func (e *estimator) lookups(k int) Estimate {
	var out Estimate
	for p := range e.svc.Customers {
		n := e.model(p).LookupCalls(k, 0)
		out.add(p, n)
		out.Total = add(out.Total, n)
	}
	// the ids lie at one provider or another, never at all of them
	out.Total = min(out.Total, mul(k, 1)+2*len(e.svc.Customers))
	return out
}

// links is what finding the linked records of n customers costs (linkEnv
// and datasource/link): at providers that look ids up one by one, and the
// source provider's per-customer record lists, at most the request's
// lookup budget; at bulk providers and the source provider's external-id
// lookups, one batched round per reference hop.
func (e *estimator) links(n int) Estimate {
	if e.likely {
		return e.likelyLinks(n)
	}
	var out Estimate
	keys := mul(n, linksPerCustomer)
	budget := e.svc.LinkLookupBudget()
	for p := range e.svc.Customers {
		calls := mul(link.MaxReferenceHops, e.model(p).LookupCalls(keys, 0))
		if !e.model(p).Bulk() {
			calls = budget
		}
		out.add(p, calls)
		out.Total = add(out.Total, calls)
	}
	if src := e.svc.Sources; src != nil {
		n := add(budget, mul(link.MaxReferenceHops, e.model(src.ID()).LookupCalls(keys, recordsPerID)))
		out.add(src.ID(), n)
		out.Total = add(out.Total, n)
	}
	return out
}

// sourceLookups is k keys looked up among the source provider's records.
func (e *estimator) sourceLookups(k int) Estimate {
	var out Estimate
	src := e.svc.Sources
	if src == nil {
		return out
	}
	n := e.model(src.ID()).LookupCalls(k, recordsPerID)
	if e.likely {
		n = e.likelyCalls(src.ID(), k) // one batched round
	}
	out.add(src.ID(), n)
	out.Total = n
	return out
}

func (e *estimator) field(f *ast.Field, c costCtx) Estimate {
	if f.ObjectDefinition == nil || strings.HasPrefix(f.Name, "__") {
		return Estimate{}
	}
	args := f.ArgumentMap(e.vars)
	child := c
	var own Estimate
	switch f.ObjectDefinition.Name + "." + f.Name {
	case "Query.customers":
		own, child = e.customers(args)
	case "Query.customerSources":
		own, child = e.customerSources(args)
	case "Query.customer", "Query.node":
		id, _ := args["id"].(string)
		own, child = e.nodes([]string{id}), costCtx{n: 1}
	case "Query.nodes":
		ids := asList(args["ids"])
		refs := make([]string, 0, len(ids))
		for _, v := range ids {
			s, _ := v.(string)
			refs = append(refs, s)
		}
		own, child = e.nodes(refs), costCtx{n: len(ids)}
	case "CustomerConnection.totalCount", "CustomerSourceConnection.totalCount":
		return c.count
	case "Customer.sources":
		own = e.sourceLookups(c.n)
		child = costCtx{n: mul(c.n, sourcesPerCustomer), perParent: sourcesPerCustomer}
	case "Customer.linkedCustomers", "Customer.links":
		own = e.links(c.n)
		child = costCtx{n: mul(c.n, linksPerCustomer)}
	case "CustomerSource.customer":
		own = e.sourceCustomers(c)
		child = costCtx{n: c.n}
	case "Query.people":
		child = costCtx{n: page(args)} // served from the synced store: no call of its own
	case "Person.records":
		// a person's records, read through the loaders like linked customers
		// (emails and names read the same loads)
		own = e.lookups(mul(c.n, 1+linksPerCustomer))
		child = costCtx{n: mul(c.n, 1+linksPerCustomer)}
	case "Mutation.createCustomer", "Mutation.updateCustomer", "Mutation.deleteCustomer",
		"Mutation.attachCustomerSource", "Mutation.detachCustomerSource":
		// a write, and a read back where the vendor needs one, at one provider
		for p := range e.svc.Customers {
			own.add(p, 2)
		}
		own.Total = 2
		child = costCtx{n: 1}
	}
	if len(f.SelectionSet) > 0 {
		own.merge(e.set(f.SelectionSet, child))
	}
	return own
}
