// Command gateway serves one GraphQL endpoint over five customer-provider
// REST APIs. With no configuration it runs in demo mode: every provider is
// served by the built-in simulator on loopback with deterministic demo data.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/federated-customers/gateway/api"
	"github.com/federated-customers/gateway/config"
	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/registry"
)

// Main is the gateway process: tests start it on :0 and talk to Addr.
type Main struct {
	ConfigPath string // "" = demo mode
	Listen     string // overrides the config's listen address when set
	Log        *slog.Logger
	// People is the size of the demo world (default demo.DefaultSize).
	People int

	Addr    string // the address actually listened on, set by Run
	Service *ds.Service
	Sims    map[ds.ProviderID]http.Handler

	built *registry.Built
	srv   *http.Server
	done  chan error
}

// Run loads the configuration, starts the providers and the HTTP server, and
// returns once the server is listening.
func (m *Main) Run(ctx context.Context) error {
	if m.Log == nil {
		m.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	cfg := &config.Config{}
	if m.ConfigPath != "" {
		c, err := config.Load(m.ConfigPath)
		if err != nil {
			return err
		}
		cfg = c
	} else {
		cfg.Providers = registry.DemoProviders()
		m.Log.Info("no --config given: demo mode, every provider served by its simulator")
	}
	if cfg.DatabaseURL != "" {
		m.Log.Warn("database_url is set but this version keeps no Postgres cache yet; it is ignored")
	}
	n := m.People
	if n == 0 {
		n = demo.DefaultSize
	}
	built, err := registry.Build(cfg, demo.People(n), m.Log)
	if err != nil {
		return err
	}
	m.built, m.Service, m.Sims = built, built.Service, built.Sims

	var keys []api.APIKey
	for _, k := range cfg.Auth.APIKeys {
		ak := api.APIKey{Key: k.Key}
		for _, p := range k.Providers {
			q, _ := ds.ParseProvider(p)
			ak.Providers = append(ak.Providers, q)
		}
		keys = append(keys, ak)
	}
	h := api.New(api.Options{
		Service: built.Service,
		Keys:    keys,
		Log:     m.Log,
		Ready:   func(context.Context) error { return nil }, // config is loaded and no cache is configured yet
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
		_ = built.Close(ctx)
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	m.Addr = ln.Addr().String()
	m.srv = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second, // security: slowloris
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	m.done = make(chan error, 1)
	go func() { m.done <- m.srv.Serve(ln) }()
	m.Log.Info("gateway listening", "addr", m.Addr, "playground", "http://"+m.Addr+"/")
	return nil
}

// Close shuts the server down gracefully, then the simulators.
func (m *Main) Close(ctx context.Context) error {
	var errs []error
	if m.srv != nil {
		errs = append(errs, m.srv.Shutdown(ctx))
		if err := <-m.done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	if m.built != nil {
		errs = append(errs, m.built.Close(ctx))
	}
	return errors.Join(errs...)
}

func main() {
	fs := flag.NewFlagSet("gateway", flag.ExitOnError)
	cfgPath := fs.String("config", os.Getenv("GATEWAY_CONFIG"), "YAML configuration file (env GATEWAY_CONFIG); none = demo mode")
	listen := fs.String("listen", "", "listen address (default :8080, or the config's listen)")
	_ = fs.Parse(os.Args[1:])

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{ConfigPath: *cfgPath, Listen: *listen}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
	select {
	case <-ctx.Done():
	case err := <-m.done:
		m.done <- err // let Close see it
	}
	m.Log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := m.Close(shutdownCtx); err != nil {
		m.Log.Error("shutdown", "error", err)
		os.Exit(1)
	}
}
