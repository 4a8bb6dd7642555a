package request

import (
	"encoding/json"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/federate"
)

// The estimate of the root fields: connection pages and lookups by id.

// nodes is the lookups behind global ids: customers batched per provider,
// the source provider's records one list per customer of it, other
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
		if ref.Kind != ds.NodeCustomer && e.svc.Customers[ref.Provider] == nil {
			out.add(ref.Provider, 1) // the source provider's records of one customer
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
	src := e.svc.Sources.ID()
	n := federate.MaxFetchesPerWalk
	if filter, _ := args["filter"].(map[string]any); len(filter) == 0 {
		pg := max(1, e.model(src).ListPage)
		n = min(n, (first+1+pg-1)/pg+1)
	}
	// every list call may need the source catalogue and the source
	// provider's customers its records name
	if args["last"] != nil || args["before"] != nil {
		n += 2 // paging backward first finds where the list ends
	}
	own.add(src, n)
	own.Total = n
	cnt.add(src, 1)
	cnt.Total = 1
	return own, costCtx{n: first, count: cnt}
}
