package request_test

import (
	"context"
	"testing"

	"github.com/vektah/gqlparser/v2"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/federate"
	"github.com/federated-customers/gateway/graph"
	"github.com/federated-customers/gateway/request"
	"github.com/federated-customers/gateway/resolvers"
)

// sources is a source provider under any id: no call is made here.
type sources struct{ id ds.ProviderID }

func (s sources) ID() ds.ProviderID { return s.id }
func (s sources) Capabilities() ds.Capabilities {
	return ds.Capabilities{Provider: s.id, PageLimit: 50, LookupBatch: 10, LoaderCap: 10}
}
func (s sources) ListSources(context.Context, ds.ListRequest[ds.SourceFilter]) (ds.Page[*ds.CustomerSource], error) {
	return ds.Page[*ds.CustomerSource]{}, nil
}
func (s sources) SourcesByExternalIDs(context.Context, []string) ([]*ds.CustomerSource, error) {
	return nil, nil
}
func (s sources) SourcesByCustomers(context.Context, []string) ([]*ds.CustomerSource, error) {
	return nil, nil
}

// TestTheEstimateChargesWhicheverProviderServesTheSources: the source role
// is svc.Sources, whatever its id, never a vendor named in this package.
func TestTheEstimateChargesWhicheverProviderServesTheSources(t *testing.T) {
	schema := graph.NewExecutableSchema(graph.Config{Resolvers: &resolvers.Resolver{}}).Schema()
	for _, id := range []ds.ProviderID{ds.CareCloud, ds.Telness} {
		svc := &federate.Service{Customers: map[ds.ProviderID]ds.CustomerProvider{}, Sources: sources{id},
			Calls: map[ds.ProviderID]ds.CallModel{id: sources{id}.Capabilities().CallModel()}}
		for _, q := range []string{
			`{ customerSources(first: 5) { totalCount nodes { sourceId } } }`,
			`{ nodes(ids: ["` + ds.SourceNodeID(id, "c1", "r1") + `"]) { id } }`,
		} {
			doc, errs := gqlparser.LoadQuery(schema, q)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			for name, est := range map[string]request.Estimate{
				"most":   request.Calls(svc, doc, doc.Operations[0], nil),
				"likely": request.LikelyCalls(svc, doc, doc.Operations[0], nil),
			} {
				if est.Total == 0 || est.PerProvider[id] != est.Total {
					t.Errorf("sources at %s, %s %s: %s; want every call there", id, name, q, est)
				}
			}
		}
	}
}
