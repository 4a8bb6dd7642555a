package registry

import (
	"net/http"

	"gopkg.in/yaml.v3"

	ds "github.com/federated-customers/gateway/datasource"
	ccsim "github.com/federated-customers/gateway/datasource/carecloud/sim"
	clsim "github.com/federated-customers/gateway/datasource/commercelayer/sim"
	"github.com/federated-customers/gateway/datasource/demo"
	drsim "github.com/federated-customers/gateway/datasource/digitalriver/sim"
	kisim "github.com/federated-customers/gateway/datasource/kintsugi/sim"
	"github.com/federated-customers/gateway/datasource/simkit"
	tesim "github.com/federated-customers/gateway/datasource/telness/sim"
)

// Simulator is one vendor's simulator served as a vendor is: at a URL of
// its own, outside any gateway, so that several gateways (replicas in
// tests, the builds cmd/bench compares) call it with the same credentials.
type Simulator struct {
	Handler http.Handler
	Kit     *simkit.Kit
	URL     string
	// Config is the vendor package's Config that points a client at URL.
	Config any
	srv    *http.Server
}

// Simulators are served simulators by provider.
type Simulators map[ds.ProviderID]*Simulator

type kitted interface {
	http.Handler
	Kit() *simkit.Kit
}

// ServeSimulators serves the simulators of providers (every provider when
// none is named), each over people, on loopback ports until Close.
func ServeSimulators(people []demo.Person, providers ...ds.ProviderID) (Simulators, error) {
	if len(providers) == 0 {
		providers = ds.AllProviders
	}
	out := Simulators{}
	for _, p := range providers {
		h, clientConfig := newSimulator(p, people)
		srv, url, err := serveLoopback(p, h)
		if err != nil {
			out.Close()
			return nil, err
		}
		out[p] = &Simulator{Handler: h, Kit: h.Kit(), URL: url, Config: clientConfig(url), srv: srv}
	}
	return out, nil
}

func newSimulator(p ds.ProviderID, people []demo.Person) (kitted, func(string) any) {
	switch p {
	case ds.CareCloud:
		return served(ccsim.New(people))
	case ds.Kintsugi:
		return served(kisim.New(people))
	case ds.DigitalRiver:
		return served(drsim.New(people))
	case ds.Telness:
		return served(tesim.New(people))
	default:
		return served(clsim.New(people))
	}
}

// served is a simulator and its ClientConfig, whatever the vendor's Config.
func served[C any, S interface {
	kitted
	ClientConfig(string) C
}](s S) (kitted, func(string) any) {
	return s, func(url string) any { return s.ClientConfig(url) }
}

// Block is the simulator's providers: entry of a configuration file (the
// Config's yaml keys), for a caller to add keys to (upstream:, say).
func (s *Simulator) Block() map[string]any {
	b, _ := yaml.Marshal(s.Config)
	block := map[string]any{}
	_ = yaml.Unmarshal(b, &block)
	delete(block, "simulate") // served already: the client calls URL
	return block
}

// Close stops every simulator at once (a gateway still calling sees the
// connection refused, as with a vendor gone).
func (s Simulators) Close() {
	for _, sim := range s {
		_ = sim.srv.Close()
	}
}

// Kits are the simulators' kits (calls, faults, latency).
func (s Simulators) Kits() []*simkit.Kit {
	var out []*simkit.Kit
	for _, sim := range s {
		out = append(out, sim.Kit)
	}
	return out
}
