package registry

import (
	"context"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/federated-customers/gateway/config"
	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/demo"
)

// TestServedSimulatorsAnswerClientsBuiltFromTheirBlocks: every vendor's
// Block, as a configuration file says it, builds a client that reaches
// that simulator (tests and cmd/bench point gateways at them so).
func TestServedSimulatorsAnswerClientsBuiltFromTheirBlocks(t *testing.T) {
	t.Parallel()
	sims, err := ServeSimulators(demo.People(20))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sims.Close)
	provs := map[string]any{}
	for p, s := range sims {
		provs[p.Key()] = s.Block()
	}
	y, err := yaml.Marshal(map[string]any{"providers": provs})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(y)
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	b, err := Build(cfg, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, p := range ds.AllProviders {
		if c, ok := b.Service.Customers[p]; ok {
			_, err = c.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Limit: 1})
		} else {
			_, err = b.Service.Sources.ListSources(ctx, ds.ListRequest[ds.SourceFilter]{Limit: 1})
		}
		if err != nil || sims[p].Kit.Count() == 0 || b.Service.Simulated[p] {
			t.Errorf("%s: %v after %d calls at its simulator (built-in simulator: %v)", p, err, sims[p].Kit.Count(), b.Service.Simulated[p])
		}
	}
}
