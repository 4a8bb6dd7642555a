// Package config reads the gateway's YAML configuration (shared/design.md):
// ${VAR} expands from the environment, unknown keys are errors, and each
// provider block is decoded by its vendor package.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	ds "github.com/federated-customers/gateway/datasource"
)

// Config is the whole file.
type Config struct {
	Listen string `yaml:"listen"`
	// MetricsListen serves /metrics on its own address instead of Listen.
	MetricsListen string `yaml:"metrics_listen"`
	DatabaseURL   string `yaml:"database_url"`
	Cache         Cache  `yaml:"cache"`
	Sync          Sync   `yaml:"sync"`
	Links         Links  `yaml:"links"`
	Auth          Auth   `yaml:"auth"`
	Limits        Limits `yaml:"limits"`
	CORS          CORS   `yaml:"cors"`
	// PersistedQueries configures trusted documents.
	PersistedQueries PersistedQueries `yaml:"persisted_queries"`
	// Introspection answers __schema and __type (default true).
	Introspection *bool `yaml:"introspection"`
	// CursorSecret signs pagination cursors; replicas must share it.
	CursorSecret string `yaml:"cursor_secret"`
	// ShutdownGrace is how long SIGTERM keeps the gateway serving with
	// /readyz at 503 before the listener closes (default 5s; 0s: none).
	ShutdownGrace *Duration `yaml:"shutdown_grace"`
	Log           Log       `yaml:"log"`
	Tracing       Tracing   `yaml:"tracing"`
	// Providers holds one block per provider key; an absent key disables it.
	Providers map[string]yaml.Node `yaml:"providers"`
}

// Cache configures the record store.
type Cache struct {
	// TTL is nil when absent (the default); 0 means always live across
	// requests (a request still reads each record once).
	TTL          *Duration `yaml:"ttl"`
	StaleIfError Duration  `yaml:"stale_if_error"`
	// MaxEntries and MaxBytes bound the in-process first level.
	MaxEntries int   `yaml:"max_entries"`
	MaxBytes   int64 `yaml:"max_bytes"`
	// ResponseMaxBytes bounds the responses kept for replay (default 32 MiB;
	// -1 turns the response cache off).
	ResponseMaxBytes int64 `yaml:"response_max_bytes"`
}

// TTLOption is cache.ttl as the cache takes it: 0 when absent (its
// default), negative for an explicit 0 (always live).
func (c Cache) TTLOption() time.Duration {
	switch {
	case c.TTL == nil:
		return 0
	case *c.TTL == 0:
		return -1
	}
	return time.Duration(*c.TTL)
}

// Links configures linkedCustomers and links.
type Links struct {
	// LookupBudget is how many records one request may look up for links at
	// a provider without a bulk lookup (default 20).
	LookupBudget int `yaml:"lookup_budget"`
}

// Sync configures the background walk that keeps the record store and the
// identity index complete.
type Sync struct {
	// Interval applies to every provider; 0 (the default) means no sync.
	Interval Duration `yaml:"interval"`
	// Providers overrides the interval per provider key ("0s" turns it off).
	Providers map[string]Duration `yaml:"providers"`
	// Gap is the pause between two calls of one walk (default 200ms).
	Gap Duration `yaml:"gap"`
	// ServeMaxAge is how old a provider's last complete walk may be for the
	// synced store to answer for it (default DefaultServeMaxAgeFactor times
	// its interval; negative: never served from the synced store).
	ServeMaxAge Duration `yaml:"serve_max_age"`
}

// DefaultServeMaxAgeFactor: by default the synced store serves a provider
// while its last complete walk is at most this many intervals old, so one
// slow or failed walk does not send every analyst query back to live calls.
const DefaultServeMaxAgeFactor = 3

// ServeMaxAgeFor is the serve_max_age of a provider synced every interval
// (0: not served from the synced store).
func (s Sync) ServeMaxAgeFor(interval time.Duration) time.Duration {
	switch {
	case interval <= 0 || s.ServeMaxAge < 0:
		return 0
	case s.ServeMaxAge > 0:
		return time.Duration(s.ServeMaxAge)
	}
	return DefaultServeMaxAgeFactor * interval
}

// CORS says which browser origins may call the gateway (none by default;
// any in demo mode).
type CORS struct {
	// AllowOrigins are "https://app.example.com", "https://*.example.com" or "*".
	AllowOrigins     []string `yaml:"allow_origins"`
	AllowCredentials bool     `yaml:"allow_credentials"`
	// MaxAge is how long browsers keep a preflight's answer (default 10m).
	MaxAge Duration `yaml:"max_age"`
}

// PersistedQueries is a trusted-documents list (a BFF's safelist).
type PersistedQueries struct {
	// Manifest is an Apollo persisted query manifest or a Relay map of id
	// to document, relative to the configuration file's directory.
	Manifest string `yaml:"manifest"`
	// RequirePersisted refuses every operation not in the manifest.
	RequirePersisted bool `yaml:"require_persisted"`
}

// Auth configures API keys; without keys the endpoint is open.
type Auth struct {
	APIKeys []APIKey `yaml:"api_keys"`
}

// APIKey is one caller's key and the provider keys it may use.
type APIKey struct {
	// Name stands for the key in logs, traces and metrics, which never show
	// the key itself (default key-<n>, its place in the list).
	Name string `yaml:"name"`
	Key  string `yaml:"key"`
	// Providers the key may use; absent means every configured provider.
	Providers []string `yaml:"providers"`
	// Rate is the requests per second the key may make (0: no limit), with
	// bursts of up to Burst (default: twice the rate, at least 1).
	Rate  float64 `yaml:"rate"`
	Burst int     `yaml:"burst"`
	// CallsPerMinute bounds the upstream calls the key's requests make (0: no limit).
	CallsPerMinute int `yaml:"calls_per_minute"`
}

// Duration reads "60s", "24h" and so on.
type Duration time.Duration

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return fmt.Errorf("line %d: %q is not a duration like 60s or 24h", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// Load reads and checks a configuration file.
func Load(path string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(src)
}

// Parse checks a configuration document. Errors name the line they are about.
func Parse(src []byte) (*Config, error) {
	expanded, err := Expand(src)
	if err != nil {
		return nil, err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(expanded, &root); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(expanded))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config: %w", err)
	}
	keys := make([]string, 0, len(c.Providers))
	for k := range c.Providers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p, ok := ds.ParseProvider(k)
		if !ok || p.Key() != k {
			return nil, at(&root, fmt.Errorf("unknown provider %q (want one of %s)", k, providerKeys()), "providers", k)
		}
	}
	for k := range c.Sync.Providers {
		if p, ok := ds.ParseProvider(k); !ok || p.Key() != k {
			return nil, at(&root, fmt.Errorf("unknown provider %q", k), "sync", "providers", k)
		}
	}
	for i, k := range c.Auth.APIKeys {
		if err := k.check(); err != nil {
			return nil, at(&root, err, "auth", "api_keys", strconv.Itoa(i))
		}
	}
	if err := checkObserve(&c); err != nil {
		return nil, err
	}
	if err := c.CORS.check(); err != nil {
		return nil, at(&root, err, "cors")
	}
	if c.PersistedQueries.RequirePersisted && c.PersistedQueries.Manifest == "" {
		return nil, at(&root, errors.New("require_persisted needs a manifest of the operations to allow"), "persisted_queries")
	}
	if err := checkDatabaseURL(c.DatabaseURL); err != nil {
		return nil, at(&root, err, "database_url")
	}
	if err := c.Limits.check(&root); err != nil {
		return nil, err
	}
	if len(c.Providers) == 0 {
		// an empty file would start a gateway that answers nothing
		return nil, errors.New("config: no providers: configure at least one under providers (simulate: true serves one from the built-in simulator; no --config at all is demo mode)")
	}
	return &c, nil
}

// providerKeys are the provider keys the file may use, in enum order.
func providerKeys() string {
	keys := make([]string, len(ds.AllProviders))
	for i, p := range ds.AllProviders {
		keys[i] = p.Key()
	}
	return strings.Join(keys, ", ")
}

// check names what is wrong with one API key.
func (k APIKey) check() error {
	if k.Key == "" {
		return errors.New("key is empty")
	}
	if k.Providers != nil && len(k.Providers) == 0 {
		return errors.New("providers: [] allows nothing; leave providers out to allow every configured provider")
	}
	for _, p := range k.Providers {
		if q, ok := ds.ParseProvider(p); !ok || q.Key() != p {
			return fmt.Errorf("unknown provider %q (want one of %s)", p, providerKeys())
		}
	}
	if k.Rate < 0 || k.Burst < 0 || k.CallsPerMinute < 0 {
		return errors.New("rate, burst and calls_per_minute cannot be negative")
	}
	return nil
}

// checkDatabaseURL refuses a database URL that is not Postgres's: the
// second cache level is Postgres only, and another database would fail
// every query later instead of at start.
func checkDatabaseURL(dsn string) error {
	scheme, _, ok := strings.Cut(dsn, "://")
	if dsn == "" || !ok { // "" is none; key=value pairs are lib/pq's other form
		return nil
	}
	if scheme != "postgres" && scheme != "postgresql" {
		return fmt.Errorf("%s:// is not a Postgres URL (want postgres://user@host:5432/db?sslmode=disable)", scheme)
	}
	return nil
}

// CheckDatabaseURL is checkDatabaseURL for DATABASE_URL, which is read outside the file.
func CheckDatabaseURL(dsn string) error {
	if err := checkDatabaseURL(dsn); err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	return nil
}

// check refuses origins a browser never sends and "*" with credentials,
// which would let any site act with a user's cookies.
func (c CORS) check() error {
	for _, o := range c.AllowOrigins {
		if o == "*" {
			if c.AllowCredentials {
				return errors.New(`allow_origins "*" with allow_credentials: true would let any site call with a user's credentials; list the origins`)
			}
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || strings.Count(o, "*") > 1 {
			return fmt.Errorf("allow_origins: %q is not an origin like https://app.example.com or https://*.example.com", o)
		}
	}
	return nil
}

// Simulated reports whether a provider block sets simulate: true.
func Simulated(n yaml.Node) bool {
	var probe struct {
		Simulate bool `yaml:"simulate"`
	}
	_ = n.Decode(&probe)
	return probe.Simulate
}
