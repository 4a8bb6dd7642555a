package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/federate"
	"github.com/federated-customers/gateway/datasource/rest"
)

// Readiness answers /readyz. It is 503 only when the gateway cannot serve:
// not started yet, shutting down, or no provider configured. Everything
// else that is wrong (Postgres unreachable, a provider misconfigured or
// behind an open circuit) is a degraded state: still 200, because every
// request is still answered, with the detail in the JSON body, in the
// gateway_ready and gateway_dependency_up series, and in one log line per
// change of state (never one per probe).
type Readiness struct {
	postgres  func(context.Context) error // nil: no Postgres configured
	health    func(ds.ProviderID) (rest.Health, bool)
	providers []ds.ProviderID
	log       *slog.Logger

	started      atomic.Bool
	shuttingDown atomic.Bool

	mu   sync.Mutex
	last string // the last state logged
}

// ReadinessOptions configure a Readiness.
type ReadinessOptions struct {
	// Postgres reports whether the second cache level answers; nil when
	// none is configured.
	Postgres func(context.Context) error
	// Health is each provider's breaker and configuration state.
	Health func(ds.ProviderID) (rest.Health, bool)
	// Providers are the configured providers.
	Providers []ds.ProviderID
	Log       *slog.Logger
}

// NewReadiness is not ready until Started.
func NewReadiness(o ReadinessOptions) *Readiness {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Readiness{postgres: o.Postgres, health: o.Health, providers: o.Providers, log: o.Log}
}

// Started says the gateway serves: it listens and everything is wired.
func (r *Readiness) Started() { r.started.Store(true) }

// ShuttingDown makes /readyz 503 from now on, so load balancers stop
// sending requests while the ones in flight finish (graceful shutdown and
// any drain before it call it first).
func (r *Readiness) ShuttingDown() { r.shuttingDown.Store(true) }

// Readiness states.
const (
	StatusReady    = "ready"
	StatusDegraded = "degraded"
	StatusNotReady = "not_ready"
)

// ReadyBody is /readyz's JSON body.
type ReadyBody struct {
	Status string `json:"status"`
	// Reason says why the gateway is not ready ("" otherwise).
	Reason       string           `json:"reason,omitempty"`
	Dependencies []ComponentState `json:"dependencies"`
	Providers    []ComponentState `json:"providers"`
}

// ComponentState is one dependency's or provider's state.
type ComponentState struct {
	Name string `json:"name"`
	// State: UP or DOWN for a dependency; OK, CIRCUIT_OPEN, HALF_OPEN or
	// MISCONFIGURED for a provider.
	State string `json:"state"`
	// Problem is a provider's configuration problem (CREDENTIALS_REJECTED,
	// BASE_URL_NOT_FOUND).
	Problem string `json:"problem,omitempty"`
	Reason  string `json:"reason,omitempty"`
	// detail is the underlying error, for the log line only: /readyz may be
	// public, and a driver's error names internal hosts.
	detail string
}

// Check says how the gateway stands now, and logs a change of state once.
func (r *Readiness) Check(ctx context.Context) ReadyBody {
	b := ReadyBody{Status: StatusReady, Dependencies: []ComponentState{}, Providers: []ComponentState{}}
	degrade := func() {
		if b.Status == StatusReady {
			b.Status = StatusDegraded
		}
	}
	if r.postgres != nil {
		pg := ComponentState{Name: "postgres", State: "UP"}
		if err := r.postgres(ctx); err != nil {
			pg.State, pg.Reason, pg.detail = "DOWN", "unreachable: requests are served from the in-process cache and live calls", err.Error()
			degrade()
		}
		b.Dependencies = append(b.Dependencies, pg)
	}
	for _, p := range r.providers {
		c := ComponentState{Name: p.String(), State: "OK"}
		if r.health != nil {
			if h, ok := r.health(p); ok {
				switch {
				case h.Problem != "":
					c.State, c.Problem, c.Reason = "MISCONFIGURED", h.Problem, h.Reason
				case h.State == "OPEN":
					c.State, c.Reason = "CIRCUIT_OPEN", h.LastError
				case h.State == "HALF_OPEN":
					c.State, c.Reason = "HALF_OPEN", h.LastError
				}
			}
		}
		if c.State != "OK" {
			degrade()
		}
		b.Providers = append(b.Providers, c)
	}
	switch { // in order of precedence; the issue16 drain sets shuttingDown too
	case r.shuttingDown.Load():
		b.Status, b.Reason = StatusNotReady, "shutting down"
	case !r.started.Load():
		b.Status, b.Reason = StatusNotReady, "starting"
	case len(r.providers) == 0:
		b.Status, b.Reason = StatusNotReady, "no provider configured"
	}
	r.logChange(b)
	return b
}

// logChange logs the state once per change: WARN when it got worse than
// ready, INFO when it is ready again.
func (r *Readiness) logChange(b ReadyBody) {
	var parts []string
	for _, c := range append(append([]ComponentState(nil), b.Dependencies...), b.Providers...) {
		if c.State != "OK" && c.State != "UP" {
			parts = append(parts, c.Name+"="+c.State)
		}
	}
	state := b.Status + " " + b.Reason + " " + strings.Join(parts, ",")
	r.mu.Lock()
	changed := state != r.last
	first := r.last == ""
	r.last = state
	r.mu.Unlock()
	if !changed || (first && b.Status == StatusReady) {
		return
	}
	lvl := slog.LevelWarn
	if b.Status == StatusReady || b.Reason == "shutting down" {
		lvl = slog.LevelInfo
	}
	attrs := []any{"status", b.Status}
	if b.Reason != "" {
		attrs = append(attrs, "reason", b.Reason)
	}
	for _, c := range append(append([]ComponentState(nil), b.Dependencies...), b.Providers...) {
		if c.State != "OK" && c.State != "UP" {
			attrs = append(attrs, slog.Group(c.Name, "state", c.State, "problem", c.Problem, "reason", c.Reason, "error", c.detail))
		}
	}
	r.log.Log(context.Background(), lvl, "readiness changed", attrs...)
}

func (r *Readiness) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b := r.Check(req.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if b.Status == StatusNotReady {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(b)
}

var (
	readyDesc = prometheus.NewDesc("gateway_ready",
		"1 when the gateway serves (ready or degraded), 0 when /readyz is 503.", nil, nil)
	degradedDesc = prometheus.NewDesc("gateway_degraded",
		"1 when the gateway serves with a dependency down or a provider misconfigured or failing.", nil, nil)
	dependencyDesc = prometheus.NewDesc("gateway_dependency_up",
		"1 when a dependency (postgres) or provider is as it should be; 0 when down, misconfigured or behind an open circuit.",
		[]string{"dependency", "state"}, nil)
)

// Describe implements prometheus.Collector.
func (r *Readiness) Describe(ch chan<- *prometheus.Desc) {
	ch <- readyDesc
	ch <- degradedDesc
	ch <- dependencyDesc
}

// Collect implements prometheus.Collector: the state as of the scrape.
func (r *Readiness) Collect(ch chan<- prometheus.Metric) {
	b := r.Check(context.Background())
	ch <- prometheus.MustNewConstMetric(readyDesc, prometheus.GaugeValue, boolValue(b.Status != StatusNotReady))
	ch <- prometheus.MustNewConstMetric(degradedDesc, prometheus.GaugeValue, boolValue(b.Status == StatusDegraded))
	for _, c := range append(append([]ComponentState(nil), b.Dependencies...), b.Providers...) {
		name := strings.ToLower(c.Name)
		ch <- prometheus.MustNewConstMetric(dependencyDesc, prometheus.GaugeValue, boolValue(c.State == "OK" || c.State == "UP"), name, c.State)
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// configured are the providers svc serves (the source provider through svc.Sources).
func configured(svc *federate.Service) []ds.ProviderID {
	var out []ds.ProviderID
	for _, p := range ds.AllProviders {
		if svc.Unavailable(p) == nil {
			out = append(out, p)
		}
	}
	return out
}
