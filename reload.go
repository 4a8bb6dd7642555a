package main

import (
	"context"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"syscall"

	"gopkg.in/yaml.v3"

	"github.com/federated-customers/gateway/config"
)

// reloadable are the configuration's sections a reload applies while
// serving: swapping them drops no request and loses no state but the
// changed keys' rate and quota counts (new limits apply to requests that
// start after the reload).
var reloadable = map[string]bool{"auth": true, "cors": true, "limits": true}

// listenSIGHUP catches SIGHUP from now on (its default action kills the
// process); reloadOn acts on them once the gateway runs.
func listenSIGHUP() chan os.Signal {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	return hup
}

// reloadOn reloads the configuration on each signal until ctx ends.
func (m *Main) reloadOn(ctx context.Context, hup chan os.Signal) {
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				_ = m.Reload()
			}
		}
	}()
}

// Reload reads the configuration file again and applies what can change
// safely (API keys with their rates and quotas, CORS, limits); it logs the sections
// that changed but need a restart. An invalid file changes nothing.
func (m *Main) Reload() error {
	if m.ConfigPath == "" {
		m.Log.Info("reload: demo mode has no configuration file; nothing to reload")
		return nil
	}
	cfg, err := config.Load(m.ConfigPath)
	if err != nil {
		m.Log.Error("reload: the configuration is not valid; the running one stays", "error", err)
		return err
	}
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()
	m.handler.Reload(apiKeys(cfg), m.corsSettings(cfg), m.limitsOf(cfg))
	restart := changedSections(m.cfg, cfg, reloadable)
	running := *m.cfg
	running.Auth, running.CORS, running.Limits = cfg.Auth, cfg.CORS, cfg.Limits
	m.cfg = &running
	m.Log.Info("reload: applied", "sections", "auth, cors, limits", "api_keys", len(cfg.Auth.APIKeys))
	if len(restart) > 0 {
		m.Log.Warn("reload: these sections changed but need a restart; not applied", "sections", strings.Join(restart, ", "))
	}
	return nil
}

// changedSections names the top-level sections that differ between a and
// b, except those in skip. Sections are compared as YAML, so that provider
// blocks compare by content, not by the lines they were read from.
func changedSections(a, b *config.Config, skip map[string]bool) []string {
	var out []string
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	for i := range va.NumField() {
		name, _, _ := strings.Cut(va.Type().Field(i).Tag.Get("yaml"), ",")
		if skip[name] {
			continue
		}
		ya, errA := yaml.Marshal(va.Field(i).Interface())
		yb, errB := yaml.Marshal(vb.Field(i).Interface())
		if errA != nil || errB != nil || string(ya) != string(yb) {
			out = append(out, name)
		}
	}
	return out
}
