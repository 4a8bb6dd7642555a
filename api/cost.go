package api

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

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
			parts = append(parts, fmt.Sprintf("%s %s", p, count(n)))
		}
	}
	return count(e.Total) + " upstream calls (" + strings.Join(parts, ", ") + ")"
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

func estimate(svc *federate.Service, doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any) Estimate {
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

// links is what finding the linked records of n customers costs (see
// resolvers.links and datasource/link): at providers that look ids up one
// by one, and CareCloud's per-customer record lists, at most the request's
// lookup budget; at bulk providers and CareCloud's external-id lookups, one
// batched round per reference hop.
func (e *estimator) links(n int) Estimate {
	if e.likely {
		return e.likelyLinks(n)
	}
	var out Estimate
	keys := mul(n, linksPerCustomer)
	budget := e.svc.LinkLookupBudget()
	for p := range e.svc.Customers {
		calls := mul(link.MaxReferenceHops, e.model(p).LookupCalls(keys, 0))
		if e.model(p).LookupBatch <= 1 {
			calls = budget
		}
		out.add(p, calls)
		out.Total = add(out.Total, calls)
	}
	if e.svc.Sources != nil {
		cc := add(budget, mul(link.MaxReferenceHops, e.model(ds.CareCloud).LookupCalls(keys, recordsPerID)))
		out.add(ds.CareCloud, cc)
		out.Total = add(out.Total, cc)
	}
	return out
}

// ccLookups is k keys looked up among CareCloud's source records.
func (e *estimator) ccLookups(k int) Estimate {
	var out Estimate
	if e.svc.Sources == nil {
		return out
	}
	if e.likely {
		return e.likelyCC(k)
	}
	n := e.model(ds.CareCloud).LookupCalls(k, recordsPerID)
	out.add(ds.CareCloud, n)
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
		own = e.ccLookups(c.n)
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

// nodes is the lookups behind global ids: customers batched per provider,
// CareCloud source records one list per CareCloud customer, other
// providers' sources by re-reading their customer. Ids that do not decode
// are refused before any call.
func (e *estimator) nodes(ids []string) Estimate {
	var out Estimate
	byProvider := map[ds.ProviderID][]string{}
	for _, id := range ids {
		ref, err := ds.DecodeNodeID(id)
		if err != nil {
			continue
		}
		if ref.Kind != ds.NodeCustomer && ref.Provider == ds.CareCloud {
			out.add(ds.CareCloud, 1)
			out.Total = add(out.Total, 1)
			continue
		}
		id := ref.ProviderID
		if ref.Kind != ds.NodeCustomer {
			id = ref.CustomerID // a source: its customer is read again
		}
		byProvider[ref.Provider] = append(byProvider[ref.Provider], id)
	}
	out.merge(e.lookupIDs(byProvider))
	return out
}

// lookupIDs is the vendors' ids looked up at their providers.
func (e *estimator) lookupIDs(byProvider map[ds.ProviderID][]string) Estimate {
	var out Estimate
	for p, ids := range byProvider {
		n := e.model(p).LookupIDs(ids, 0)
		out.add(p, n)
		out.Total = add(out.Total, n)
	}
	return out
}

// asList is a list argument as the resolvers see it: GraphQL coerces a
// single value given where a list is expected (a literal or a variable) to
// a list of that one value, so the estimate must too.
func asList(v any) []any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return v
	case []string:
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = s
		}
		return out
	}
	return []any{v}
}

// page is a connection's first (or last): 20 by default, at most federate.MaxFirst.
func page(args map[string]any) int {
	n := federate.DefaultFirst
	v := args["first"]
	if v == nil {
		v = args["last"]
	}
	switch v := v.(type) {
	case int64:
		n = int(min(v, federate.MaxFirst))
	case int:
		n = v
	case float64:
		n = int(min(v, federate.MaxFirst))
	case json.Number:
		if i, err := v.Int64(); err == nil {
			n = int(min(i, federate.MaxFirst))
		}
	}
	return max(0, min(n, federate.MaxFirst))
}

func (e *estimator) customers(args map[string]any) (Estimate, costCtx) {
	first := page(args)
	filter, _ := args["filter"].(map[string]any)
	provs := map[ds.ProviderID]bool{}
	if list := asList(filter["providers"]); filter["providers"] != nil {
		for _, v := range list {
			if s, ok := v.(string); ok {
				if p, ok := ds.ParseProvider(s); ok && e.svc.Customers[p] != nil {
					provs[p] = true
				}
			}
		}
	} else {
		for p := range e.svc.Customers {
			provs[p] = true
		}
	}
	var own, cnt Estimate
	if ids := asList(filter["ids"]); len(ids) > 0 {
		byProvider := map[ds.ProviderID][]string{}
		for _, v := range ids {
			s, _ := v.(string)
			if k, err := ds.DecodeCustomerID(s); err == nil && provs[k.Provider] {
				byProvider[k.Provider] = append(byProvider[k.Provider], k.ProviderID)
			}
		}
		own = e.lookupIDs(byProvider)
		cnt = own
		return own, costCtx{n: first, count: cnt}
	}
	// a filter a vendor may not apply natively is post-filtered, scanning
	// up to the walk's cap of list calls
	scan := filter["email"] != nil || filter["search"] != nil || filter["country"] != nil
	sum := 0
	for p := range provs {
		n := federate.MaxFetchesPerWalk
		if !scan {
			pg := max(1, e.model(p).ListPage)
			n = min(n, (first+1+pg-1)/pg+1)
		}
		own.add(p, n)
		sum = add(sum, n)
		cnt.add(p, 1)
		cnt.Total++
	}
	own.Total = min(sum, federate.MaxFetchesPerWalk)
	if args["last"] != nil || args["before"] != nil {
		// paging backward first finds where each provider's list ends
		for p := range provs {
			own.add(p, 2)
			own.Total = add(own.Total, 2)
		}
	}
	return own, costCtx{n: first, count: cnt}
}

func (e *estimator) customerSources(args map[string]any) (Estimate, costCtx) {
	first := page(args)
	var own, cnt Estimate
	if e.svc.Sources == nil {
		return own, costCtx{n: first}
	}
	n := federate.MaxFetchesPerWalk
	if filter, _ := args["filter"].(map[string]any); len(filter) == 0 {
		pg := max(1, e.model(ds.CareCloud).ListPage)
		n = min(n, (first+1+pg-1)/pg+1)
	}
	// every list call may need the source catalogue and the CareCloud
	// customers its records name
	if args["last"] != nil || args["before"] != nil {
		n += 2 // paging backward first finds where the list ends
	}
	own.add(ds.CareCloud, n)
	own.Total = n
	cnt.add(ds.CareCloud, 1)
	cnt.Total = 1
	return own, costCtx{n: first, count: cnt}
}

type serviceKey struct{}

func withService(ctx context.Context, svc *federate.Service) context.Context {
	return context.WithValue(ctx, serviceKey{}, svc)
}

func serviceFrom(ctx context.Context) *federate.Service {
	s, _ := ctx.Value(serviceKey{}).(*federate.Service)
	return s
}

const costExtension = "UpstreamCost"

// costStats is the estimate kept on the operation for extensions.cost.
type costStats struct {
	Estimate Estimate
	Limit    int
	// Likely is what the query will probably make (likely.go): it decides
	// the costly lane.
	Likely Estimate
}

// wantsCost reports whether the request asked for extensions.cost, and
// whether it asked for nothing else (a dry run).
func wantsCost(rc *graphql.OperationContext) (cost, dryRun bool) {
	dry, _ := rc.Extensions["dryRun"].(bool)
	c, _ := rc.Extensions["cost"].(bool)
	return c || dry, dry
}

// badCostExtensions refuses extensions.dryRun or extensions.cost that are
// not booleans: {dryRun: "true"} read as false would run the mutation the
// caller meant only to price.
func badCostExtensions(rc *graphql.OperationContext) *gqlerror.Error {
	for _, name := range []string{"dryRun", "cost"} {
		if v, ok := rc.Extensions[name]; ok && v != nil {
			if _, isBool := v.(bool); !isBool {
				return &gqlerror.Error{
					Message:    fmt.Sprintf("extensions.%s must be true or false, not %s", name, jsonText(v)),
					Extensions: map[string]any{"code": string(ds.CodeBadUserInput)},
				}
			}
		}
	}
	return nil
}

// jsonText is v as the client sent it, cut short.
func jsonText(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}

// addCost puts extensions.cost on a response when the request asked for it.
func addCost(ctx context.Context, resp *graphql.Response) {
	if !graphql.HasOperationContext(ctx) {
		return
	}
	rc := graphql.GetOperationContext(ctx)
	if want, _ := wantsCost(rc); !want {
		return
	}
	st, _ := rc.Stats.GetExtension(costExtension).(*costStats)
	if st == nil {
		return
	}
	if resp.Extensions == nil {
		resp.Extensions = map[string]any{}
	}
	ext := st.Estimate.Extension(st.Limit)
	ext["likelyUpstreamCalls"] = st.Likely.Total
	resp.Extensions["cost"] = ext
}
