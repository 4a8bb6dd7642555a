// Package registry builds the configured providers: it is the one place that
// knows which vendor packages exist, and it knows nothing of their URLs,
// headers or envelopes (each vendor package and its simulator do).
package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/federated-customers/gateway/config"
	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/cache"
	"github.com/federated-customers/gateway/datasource/carecloud"
	ccsim "github.com/federated-customers/gateway/datasource/carecloud/sim"
	"github.com/federated-customers/gateway/datasource/commercelayer"
	clsim "github.com/federated-customers/gateway/datasource/commercelayer/sim"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/digitalriver"
	drsim "github.com/federated-customers/gateway/datasource/digitalriver/sim"
	"github.com/federated-customers/gateway/datasource/federate"
	"github.com/federated-customers/gateway/datasource/kintsugi"
	kisim "github.com/federated-customers/gateway/datasource/kintsugi/sim"
	"github.com/federated-customers/gateway/datasource/rest"
	"github.com/federated-customers/gateway/datasource/telness"
	tesim "github.com/federated-customers/gateway/datasource/telness/sim"
)

// defaultCursorKey signs cursors when the configuration sets no cursor_secret.
// It is public, so a deployment that cares about forged cursors sets its own.
const defaultCursorKey = "federated-customers/cursor/v1"

// Built is the set of running providers (and any simulators behind them).
type Built struct {
	Service *federate.Service
	// Sims holds the simulators started for simulate: true, by provider.
	Sims map[ds.ProviderID]http.Handler
	// Sources is the cached customer-source provider, when one is configured.
	Sources *cache.Sources
	// Guards are the upstream policies in front of each provider's calls.
	Guards map[ds.ProviderID]*rest.Guard
	// Credentials are each provider's credential identity (a hash), which
	// replicas sharing a quota are grouped by.
	Credentials map[ds.ProviderID]string
	closers     []func(context.Context) error
}

// Health is provider p's circuit breaker state; ok is false when p is not configured.
func (b *Built) Health(p ds.ProviderID) (rest.Health, bool) {
	g, ok := b.Guards[p]
	if !ok {
		return rest.Health{}, false
	}
	return g.Health(), true
}

// Close stops the simulators.
func (b *Built) Close(ctx context.Context) error {
	var errs []error
	for _, c := range b.closers {
		errs = append(errs, c(ctx))
	}
	return errors.Join(errs...)
}

// DemoProviders is the configuration of `go run .` with no file: every
// provider served by its simulator.
func DemoProviders() map[string]yaml.Node {
	out := map[string]yaml.Node{}
	for _, p := range ds.AllProviders {
		var n yaml.Node
		_ = n.Encode(map[string]bool{"simulate": true})
		out[p.Key()] = n
	}
	return out
}

// Build starts simulators where asked and builds a client per configured
// provider, each behind the cache layer when one is given.
func Build(cfg *config.Config, people []demo.Person, layer *cache.Layer, log *slog.Logger) (*Built, error) {
	b := &Built{Sims: map[ds.ProviderID]http.Handler{}, Guards: map[ds.ProviderID]*rest.Guard{}, Credentials: map[ds.ProviderID]string{}}
	if log == nil {
		log = slog.Default()
	}
	key := cfg.CursorSecret
	if key == "" {
		key = defaultCursorKey
		if len(cfg.Auth.APIKeys) > 0 {
			log.Warn("cursor_secret is not set: cursors are signed with a public key, so any caller can forge one; " +
				"set cursor_secret (the same on every replica) in a deployment with API keys")
		}
	}
	svc := &federate.Service{
		Customers: map[ds.ProviderID]ds.CustomerProvider{},
		Simulated: map[ds.ProviderID]bool{},
		Cursors:   federate.CursorCodec{Key: []byte(key)},
		Calls:     CallModels,
	}
	b.Service = svc
	// One tuned transport for every provider: pooled keep-alive connections
	// instead of Go's default 2 idle per host. Each provider's calls go
	// through a Guard of its own on top of it (see build).
	tr := NewTransport()
	for _, p := range ds.AllProviders {
		node, ok := cfg.Providers[p.Key()]
		if !ok {
			continue
		}
		sim := config.Simulated(node)
		var err error
		switch p {
		case ds.CareCloud:
			var c *carecloud.Client
			c, err = build(b, p, node, sim, tr, log, simulator(ccsim.New, people), carecloud.New)
			if err == nil {
				svc.Sources = c
				if layer != nil {
					b.Sources = layer.WrapSources(c)
					svc.Sources = b.Sources
				}
			}
		case ds.Kintsugi:
			svc.Customers[p], err = build(b, p, node, sim, tr, log, simulator(kisim.New, people), kintsugi.New)
		case ds.DigitalRiver:
			svc.Customers[p], err = build(b, p, node, sim, tr, log, simulator(drsim.New, people), digitalriver.New)
		case ds.Telness:
			svc.Customers[p], err = build(b, p, node, sim, tr, log, simulator(tesim.New, people), telness.New)
		case ds.CommerceLayer:
			svc.Customers[p], err = build(b, p, node, sim, tr, log, simulator(clsim.New, people), commercelayer.New)
		}
		if err != nil {
			_ = b.Close(context.Background())
			return nil, err
		}
		if prov, ok := svc.Customers[p]; ok && layer != nil {
			svc.Customers[p] = layer.Wrap(prov)
		}
		if sim {
			svc.Simulated[p] = true
			log.Info("provider served by the built-in simulator", "provider", p.Key())
		}
	}
	return b, nil
}

// CallModels are the vendors' call models for the cost estimate, derived
// from the capabilities each vendor package declares (its caps.go).
var CallModels = map[ds.ProviderID]ds.CallModel{
	ds.CareCloud:     carecloud.Caps.CallModel(),
	ds.Kintsugi:      kintsugi.Caps.CallModel(),
	ds.DigitalRiver:  digitalriver.Caps.CallModel(),
	ds.Telness:       telness.Caps.CallModel(),
	ds.CommerceLayer: commercelayer.Caps.CallModel(),
}

type validator interface{ Validate() error }

// build makes one provider's client: from its config block, or pointed at a
// freshly started simulator on loopback when simulate is set.
// simulator is build's newSim for a vendor simulator serving people.
func simulator[C any, S interface {
	http.Handler
	ClientConfig(baseURL string) C
}](newSim func([]demo.Person) S, people []demo.Person) func() (http.Handler, func(string) C) {
	return func() (http.Handler, func(string) C) {
		s := newSim(people)
		return s, s.ClientConfig
	}
}

func build[C validator, P any](b *Built, p ds.ProviderID, node yaml.Node, simulate bool, tr http.RoundTripper, log *slog.Logger,
	newSim func() (http.Handler, func(string) C), newClient func(C, *http.Client) (P, error)) (P, error) {
	var zero P
	var cfg C
	node, policy, err := splitUpstream(node, p.Key())
	if err != nil {
		return zero, err
	}
	if simulate {
		if err := config.DecodeProvider(node, p.Key(), &cfg); err != nil { // a misspelt key is an error here too
			return zero, err
		}
		h, clientConfig := newSim()
		url, err := b.serve(p, h)
		if err != nil {
			return zero, err
		}
		cfg = clientConfig(url)
	} else {
		if err := config.DecodeProvider(node, p.Key(), &cfg); err != nil {
			return zero, err
		}
		if err := cfg.Validate(); err != nil {
			return zero, fmt.Errorf("config: line %d: providers.%s: %w", config.LineOf(&node), p.Key(), err)
		}
	}
	var quota rest.Quota
	if q, ok := any(cfg).(interface{ Quota() rest.Quota }); ok {
		quota = q.Quota()
	}
	g := rest.NewGuard(p, tr, policy, quota, log)
	b.Guards[p] = g
	// The guard bounds every attempt; the client timeout is only a backstop.
	// Each attempt is a span (and carries traceparent) around the guard.
	client, err := newClient(cfg, &http.Client{Timeout: 30 * time.Second, Transport: rest.Traced(p, g), CheckRedirect: rest.SameOrigin})
	if err != nil {
		return zero, err
	}
	if c, ok := any(client).(ds.Credentialed); ok {
		b.Credentials[p] = c.CredentialID()
	}
	return client, nil
}

// serve starts a simulator on a loopback port.
func (b *Built) serve(p ds.ProviderID, h http.Handler) (string, error) {
	srv, url, err := serveLoopback(p, h)
	if err != nil {
		return "", err
	}
	b.Sims[p] = h
	// The gateway has stopped by the time simulators close, so they close at
	// once: Shutdown would wait up to 5 s for connections the HTTP client
	// dialled but never used (net/http treats those as possibly active).
	b.closers = append(b.closers, func(context.Context) error { return srv.Close() })
	return url, nil
}

// serveLoopback serves simulator h on a free loopback port: the one way
// both the gateway's built-in simulators and ServeSimulators start one.
func serveLoopback(p ds.ProviderID, h http.Handler) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", fmt.Errorf("serve the %s simulator: %w", p.Key(), err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return srv, "http://" + ln.Addr().String(), nil
}
