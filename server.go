// Command gateway serves one GraphQL endpoint over five customer-provider
// REST APIs. With no configuration it runs in demo mode: every provider is
// served by the built-in simulator on loopback with deterministic demo data.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/trace"

	"github.com/federated-customers/gateway/api"
	"github.com/federated-customers/gateway/config"
	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/cache"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/federate"
	"github.com/federated-customers/gateway/datasource/registry"
	"github.com/federated-customers/gateway/postgres"
)

// demoSyncInterval is the background sync of demo mode.
const demoSyncInterval = 15 * time.Minute

// Main is the gateway process: tests start it on :0 and talk to Addr.
type Main struct {
	ConfigPath string // "" = demo mode
	Listen     string // overrides the config's listen address when set
	// Log receives the gateway's lines; nil: one per the configuration's
	// log: {level, format}, writing to LogOutput (default stderr).
	Log       *slog.Logger
	LogOutput io.Writer
	// Tracing overrides tracing: in the configuration (tests record spans).
	Tracing trace.TracerProvider
	// People is the size of the demo world (default demo.DefaultSize).
	People int
	// Now is the cache's clock (tests move it); default time.Now.
	Now func() time.Time
	// NoSync turns the background sync off whatever the configuration says
	// (tests that count upstream calls).
	NoSync bool
	// Limits override the configuration's request limits (tests).
	Limits api.Limits

	Addr string // the address actually listened on, set by Run
	// MetricsAddr is where /metrics is served when metrics_listen is set.
	MetricsAddr string
	Service     *federate.Service
	Sims        map[ds.ProviderID]http.Handler
	Cache       *cache.Layer
	Syncer      *cache.Syncer

	built    *registry.Built
	cfg      *config.Config // the configuration running (Reload replaces auth, cors and limits)
	handler  *api.Handler
	reloadMu sync.Mutex
	db       *postgres.DB
	stopSync context.CancelFunc
	quota    *registry.QuotaShare // replicas on one database share vendor quotas
	srv      *http.Server
	done     chan error
	metrics  *http.Server
	// stopRequests cancels every request still running once shutdown's
	// deadline has passed, so no runaway request outlives the process's stop.
	stopRequests context.CancelFunc

	readiness   *api.Readiness
	stopTracing func(context.Context) error
	logLevel    slog.LevelVar // the level of the logger Run made (log.level)

	closeOnce sync.Once
	closeErr  error
	// grace is how long the gateway keeps serving after SIGTERM (drain.go).
	grace time.Duration
}

// Run loads the configuration, starts the providers and the HTTP server, and
// returns once the server is listening.
func (m *Main) Run(ctx context.Context) error {
	cfg := &config.Config{}
	if m.ConfigPath != "" {
		c, err := config.Load(m.ConfigPath)
		if err != nil {
			return err
		}
		cfg = c
	} else {
		cfg.Providers = registry.DemoProviders()
	}
	if m.Log == nil {
		m.Log = newLogger(cfg.Log, m.LogOutput, &m.logLevel)
	}
	if m.ConfigPath == "" {
		m.Log.Info("no --config given: demo mode, every provider served by its simulator")
	}
	m.grace = defaultShutdownGrace
	if cfg.ShutdownGrace != nil {
		m.grace = time.Duration(*cfg.ShutdownGrace)
	}
	dbURL := cfg.DatabaseURL
	if dbURL == "" {
		dbURL = os.Getenv("DATABASE_URL")
		if err := config.CheckDatabaseURL(dbURL); err != nil {
			return err
		}
	}
	var shared cache.Shared
	if dbURL != "" {
		db, err := postgres.Open(dbURL)
		if err != nil {
			return err
		}
		m.db, shared = db, db
	}
	m.Cache = cache.New(cache.Options{
		TTL: cfg.Cache.TTLOption(), StaleIfError: time.Duration(cfg.Cache.StaleIfError),
		MaxEntries: cfg.Cache.MaxEntries, MaxBytes: cfg.Cache.MaxBytes,
		Shared: shared, Log: m.Log, Now: m.Now,
	})
	m.Cache.Start()
	n := m.People
	if n == 0 {
		n = demo.DefaultSize
	}
	m.cfg = cfg
	built, err := registry.Build(cfg, demo.People(n), m.Cache, m.Log)
	if err != nil {
		m.closeCache()
		return err
	}
	m.built, m.Service, m.Sims = built, built.Service, built.Sims
	m.Service.LookupBudget = cfg.Links.LookupBudget
	m.Service.Idempotency = &ds.MemoryIdempotency{}
	if m.db != nil {
		m.Service.Idempotency = &postgres.Idempotency{DB: m.db} // shared by replicas
	}
	m.startSync(cfg)
	if m.db != nil {
		m.quota = built.ShareQuota(m.db, m.Log)
	}

	for _, w := range keyWarnings(cfg) {
		m.Log.Warn(w)
	}
	persisted, err := m.persisted(cfg)
	if err != nil {
		_ = m.Close(ctx)
		return err
	}
	var reg *prometheus.Registry
	if cfg.MetricsListen != "" {
		reg = api.NewRegistry()
		if err := m.serveMetrics(cfg.MetricsListen, reg); err != nil {
			_ = m.Close(ctx)
			return err
		}
	}
	var postgresReady func(context.Context) error
	if m.db != nil {
		postgresReady = func(context.Context) error { // out of service degrades, never unreadies
			if h := m.Cache.Health(); !h.Up {
				return fmt.Errorf("%s: %s", h.Reason, h.LastError)
			}
			return nil
		}
	}
	var configured []ds.ProviderID
	for _, p := range ds.AllProviders {
		if _, ok := built.Guards[p]; ok {
			configured = append(configured, p)
		}
	}
	m.readiness = api.NewReadiness(api.ReadinessOptions{Postgres: postgresReady, Health: built.Health, Providers: configured, Log: m.Log})
	tracing, err := m.tracerProvider(ctx, cfg.Tracing)
	if err != nil {
		_ = m.Close(ctx)
		return fmt.Errorf("tracing: %w", err)
	}
	m.handler = api.New(api.Options{
		Tracing:            tracing,
		Version:            Version(), // one version for --version, logs, build_info and traces
		Readiness:          m.readiness,
		Registry:           reg,
		NoMetricsRoute:     reg != nil,
		Limits:             m.limitsOf(cfg),
		Service:            built.Service,
		Keys:               apiKeys(cfg),
		CORS:               m.corsSettings(cfg),
		Persisted:          persisted,
		NoIntrospection:    cfg.Introspection != nil && !*cfg.Introspection,
		Log:                m.Log,
		Health:             built.Health,
		Changes:            m.Cache.Changes,
		Clock:              m.Cache.Now,
		ResponseCacheBytes: cfg.Cache.ResponseMaxBytes,
	})

	addr := m.Listen
	if addr == "" {
		addr = cfg.Listen
	}
	if addr == "" {
		addr = ":8080"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		_ = m.Close(ctx)
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	m.Addr = ln.Addr().String()
	m.srv = &http.Server{
		Handler:           m.handler,
		ReadHeaderTimeout: 10 * time.Second, // security: slowloris
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	base, stop := context.WithCancel(context.Background())
	m.srv.BaseContext = func(net.Listener) context.Context { return base }
	m.stopRequests = stop
	m.done = make(chan error, 1)
	go func() { m.done <- m.srv.Serve(ln) }()
	m.readiness.Started()
	m.Log.Info("gateway listening", "addr", m.Addr, "playground", "http://"+m.Addr+"/")
	return nil
}

// serveMetrics serves GET /metrics alone on addr (metrics_listen), so that
// the metrics need not be public with the GraphQL endpoint.
func (m *Main) serveMetrics(addr string, reg *prometheus.Registry) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics_listen %s: %w", addr, err)
	}
	m.MetricsAddr = ln.Addr().String()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	m.metrics = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = m.metrics.Serve(ln) }()
	m.Log.Info("metrics listening", "addr", m.MetricsAddr)
	return nil
}

// startSync starts the background sync: per the configuration, every 15
// minutes in demo mode, never with NoSync.
func (m *Main) startSync(cfg *config.Config) {
	opts := cache.SyncOptions{Interval: map[ds.ProviderID]time.Duration{}, Gap: time.Duration(cfg.Sync.Gap)}
	for _, p := range ds.AllProviders {
		every := time.Duration(cfg.Sync.Interval)
		if m.ConfigPath == "" {
			every = demoSyncInterval
		}
		if d, ok := cfg.Sync.Providers[p.Key()]; ok {
			every = time.Duration(d)
		}
		opts.Interval[p] = every
	}
	var provs []ds.CustomerProvider
	for _, p := range ds.AllProviders {
		if c, ok := m.Service.Customers[p]; ok {
			provs = append(provs, c)
		}
	}
	m.Syncer = m.Cache.NewSyncer(opts, provs, m.built.Sources)
	m.Service.Index = m.Cache.Index()
	m.Service.SyncStatus = m.Syncer.Status
	m.Service.SyncComplete = m.Syncer.Complete
	m.Service.Synced, m.Service.ServeMaxAge = m.Cache.SyncedStore(), map[ds.ProviderID]time.Duration{}
	m.Service.PeopleScopeSet = ds.ScopeSet(m.Syncer.Scopes())
	for p, every := range opts.Interval {
		m.Service.ServeMaxAge[p] = cfg.Sync.ServeMaxAgeFor(every)
	}
	if m.NoSync {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.stopSync = cancel
	m.Syncer.Run(ctx)
}

func (m *Main) closeCache() {
	if m.Cache != nil {
		m.Cache.Close()
	}
	if m.db != nil {
		_ = m.db.Close()
	}
}

// Close shuts the server down gracefully, then the sync, the cache and the
// simulators. Later calls return the first call's result.
func (m *Main) Close(ctx context.Context) error {
	m.closeOnce.Do(func() { m.closeErr = m.close(ctx) })
	return m.closeErr
}

func (m *Main) close(ctx context.Context) error {
	var errs []error
	if m.readiness != nil {
		m.readiness.ShuttingDown()
	}
	if m.srv != nil {
		errs = append(errs, m.srv.Shutdown(ctx))
		m.stopRequests() // past the deadline: cancel what still runs
		if err := <-m.done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	if m.metrics != nil {
		errs = append(errs, m.metrics.Shutdown(ctx))
	}
	if m.stopSync != nil {
		m.stopSync()
		m.Syncer.Wait()
	}
	if m.quota != nil {
		m.quota.Stop()
	}
	m.closeCache()
	if m.built != nil {
		errs = append(errs, m.built.Close(ctx))
	}
	if m.stopTracing != nil {
		errs = append(errs, m.stopTracing(ctx)) // flushes the spans still batched
	}
	return errors.Join(errs...)
}
