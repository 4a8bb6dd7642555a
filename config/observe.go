package config

import (
	"fmt"
	"net/url"
	"regexp"
)

// Log configures the gateway's log lines.
type Log struct {
	// Level is debug, info (default), warn or error.
	Level string `yaml:"level"`
	// Format is text (default, logfmt-like) or json.
	Format string `yaml:"format"`
}

// Tracing configures OpenTelemetry tracing; without an endpoint it is off.
type Tracing struct {
	// OTLPEndpoint is the OTLP/HTTP collector's URL, e.g.
	// http://otel-collector:4318 (/v1/traces is added when it has no path).
	OTLPEndpoint string `yaml:"otlp_endpoint"`
	// SampleRatio is the share of requests traced when the caller sent no
	// sampling decision (traceparent); default 1.
	SampleRatio *float64 `yaml:"sample_ratio"`
	// ServiceName is the service.name resource attribute (default "gateway").
	ServiceName string `yaml:"service_name"`
}

// keyName is what an API key's name may be: it appears in logs and traces.
var keyName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// checkObserve checks log, tracing and the API keys' names, and names the
// keys that have none key-1, key-2, ... by their place in the list.
func checkObserve(c *Config) error {
	switch c.Log.Level {
	case "", "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("config: log.level %q: want debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "", "text", "json":
	default:
		return fmt.Errorf("config: log.format %q: want text or json", c.Log.Format)
	}
	if e := c.Tracing.OTLPEndpoint; e != "" {
		if u, err := url.Parse(e); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("config: tracing.otlp_endpoint %q: want an http(s) URL like http://otel-collector:4318", e)
		}
	}
	if r := c.Tracing.SampleRatio; r != nil && (*r < 0 || *r > 1) {
		return fmt.Errorf("config: tracing.sample_ratio %g: want a number from 0 to 1", *r)
	}
	seen := map[string]int{}
	for i := range c.Auth.APIKeys {
		k := &c.Auth.APIKeys[i]
		if k.Name == "" {
			k.Name = fmt.Sprintf("key-%d", i+1)
		} else if !keyName.MatchString(k.Name) {
			return fmt.Errorf("config: auth.api_keys[%d].name %q: use up to 64 letters, digits, '.', '_' or '-'", i, k.Name)
		}
		if j, dup := seen[k.Name]; dup {
			return fmt.Errorf("config: auth.api_keys[%d].name %q is also the name of auth.api_keys[%d]", i, k.Name, j)
		}
		seen[k.Name] = i
	}
	return nil
}
