package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/federated-customers/gateway/config"
	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/federate"
	"github.com/federated-customers/gateway/datasource/registry"
)

// probeTimeout bounds each provider's probe call under --check --probe.
const probeTimeout = 10 * time.Second

// check validates a configuration file without serving (--check): the
// file, DATABASE_URL and every provider block, as Run would read them; with
// probe, each configured provider is also asked for one customer, so that
// wrong credentials or a wrong base_url show before a deployment. It writes
// one line per provider to out and returns the first error.
func check(ctx context.Context, path string, probe bool, out io.Writer) error {
	if path == "" {
		return fmt.Errorf("--check needs --config FILE (or GATEWAY_CONFIG)")
	}
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		if err := config.CheckDatabaseURL(os.Getenv("DATABASE_URL")); err != nil {
			return err
		}
	}
	if _, err := (&Main{ConfigPath: path}).persisted(cfg); err != nil {
		return err
	}
	built, err := registry.Build(cfg, demo.People(demo.DefaultSize), nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer func() { _ = built.Close(context.Background()) }()
	var failed []string
	for _, p := range ds.AllProviders {
		if _, ok := cfg.Providers[p.Key()]; !ok {
			continue
		}
		line := p.Key() + ": configured"
		if built.Service.Simulated[p] {
			line += " (built-in simulator)"
		}
		if probe {
			if err := probeProvider(ctx, built.Service, p); err != nil {
				line += ", probe failed: " + err.Error()
				failed = append(failed, p.Key())
			} else {
				line += ", probe answered"
			}
		}
		fmt.Fprintln(out, line)
	}
	for _, w := range keyWarnings(cfg) {
		fmt.Fprintln(out, "warning:", w)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%s: the probe failed", strings.Join(failed, ", "))
	}
	fmt.Fprintf(out, "%s: OK\n", path)
	return nil
}

// probeProvider asks p for one customer (CareCloud: one source record too).
func probeProvider(ctx context.Context, svc *federate.Service, p ds.ProviderID) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	if c, ok := svc.Customers[p]; ok {
		if _, err := c.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Limit: 1}); err != nil {
			return err
		}
	}
	if s := svc.Sources; s != nil && s.ID() == p {
		if _, err := s.ListSources(ctx, ds.ListRequest[ds.SourceFilter]{Limit: 1}); err != nil {
			return err
		}
	}
	return nil
}

// probeURL is --health: the image has no shell or curl, so the binary
// checks its own endpoint for the container's health check.
func probeURL(url string) error {
	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}
