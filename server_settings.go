package main

import (
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
		ak := api.APIKey{Key: k.Key, Rate: k.Rate, Burst: k.Burst, CallsPerMinute: k.CallsPerMinute}
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
