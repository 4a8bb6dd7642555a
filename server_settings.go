package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/federated-customers/gateway/api"
	"github.com/federated-customers/gateway/config"
	ds "github.com/federated-customers/gateway/datasource"
)

// apiKeys turns the configuration's keys into the handler's: a key without
// providers keeps a nil list, which means every configured provider.
func apiKeys(cfg *config.Config) []api.APIKey {
	var keys []api.APIKey
	for _, k := range cfg.Auth.APIKeys {
		ak := api.APIKey{Name: k.Name, Key: k.Key, Rate: k.Rate, Burst: k.Burst, CallsPerMinute: k.CallsPerMinute}
		for _, p := range k.Providers {
			q, _ := ds.ParseProvider(p) // config.Parse checked the names
			ak.Providers = append(ak.Providers, q)
		}
		keys = append(keys, ak)
	}
	return keys
}

// corsSettings are the configuration's CORS settings; demo mode lets a page
// on any origin call, so a frontend can be tried against it at once.
func (m *Main) corsSettings(cfg *config.Config) *api.CORS {
	if m.ConfigPath == "" && len(cfg.CORS.AllowOrigins) == 0 {
		return &api.CORS{AllowOrigins: []string{"*"}}
	}
	return &api.CORS{AllowOrigins: cfg.CORS.AllowOrigins, AllowCredentials: cfg.CORS.AllowCredentials, MaxAge: time.Duration(cfg.CORS.MaxAge)}
}

// persisted reads the trusted documents (a manifest path is relative to
// the configuration file) and shares APQ registrations through Postgres
// when it is configured.
func (m *Main) persisted(cfg *config.Config) (api.Persisted, error) {
	p := api.Persisted{Require: cfg.PersistedQueries.RequirePersisted}
	if m.db != nil {
		p.Store = m.db
	}
	path := cfg.PersistedQueries.Manifest
	if path == "" {
		return p, nil
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(m.ConfigPath), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return p, fmt.Errorf("config: persisted_queries.manifest: %w", err)
	}
	if p.Manifest, err = api.ParseManifest(b); err != nil {
		return p, fmt.Errorf("config: persisted_queries.manifest %s: %w", path, err)
	}
	return p, nil
}

// limitsOf are the configuration's request limits (Main.Limits overrides them, in tests).
func (m *Main) limitsOf(cfg *config.Config) api.Limits {
	if m.Limits != (api.Limits{}) {
		return m.Limits
	}
	return cfg.Limits
}

// keyWarnings name providers a key lists that the file does not configure:
// valid names, but the key cannot use them here (a typo of intent, or a
// provider removed from the file and not from the key).
func keyWarnings(cfg *config.Config) []string {
	var out []string
	for i, k := range cfg.Auth.APIKeys {
		for _, p := range k.Providers {
			if _, ok := cfg.Providers[p]; !ok {
				out = append(out, fmt.Sprintf("auth.api_keys[%d] lists %s, which is not configured under providers", i, p))
			}
		}
	}
	return out
}
