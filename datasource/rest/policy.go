package rest

import (
	"fmt"
	"time"

	"gopkg.in/yaml.v3"
)

// Policy is how the gateway treats one provider's upstream: deadlines,
// circuit breaker, outbound quota and retry budget. It is the upstream:
// block of a provider's configuration; zero fields take the defaults.
type Policy struct {
	// Timeout bounds one HTTP attempt, headers and body (default 3s).
	Timeout Duration `yaml:"timeout"`
	// Budget bounds all calls to the provider within one GraphQL request,
	// retries and quota waits included, counted from the request's start
	// (default 6s: well inside the 30 s request deadline).
	Budget Duration `yaml:"budget"`
	// Rate is the outbound quota in requests per second (0: the vendor's
	// documented default, or none); Burst its bucket size (default: Rate/10, at least 1).
	Rate  float64 `yaml:"rate"`
	Burst int     `yaml:"burst"`
	// BreakerFailures is how many consecutive failures open the circuit
	// (default 5); BreakerOpen how long it stays open before one probe (default 10s).
	BreakerFailures int      `yaml:"breaker_failures"`
	BreakerOpen     Duration `yaml:"breaker_open"`
	// RetryRatio caps retries at this share of calls (default 0.1).
	RetryRatio float64 `yaml:"retry_ratio"`
}

// Defaults of Policy.
const (
	DefaultTimeout         = 3 * time.Second
	DefaultBudget          = 6 * time.Second
	DefaultBreakerFailures = 5
	DefaultBreakerOpen     = 10 * time.Second
	DefaultRetryRatio      = 0.1
)

// Duration is a time.Duration read from YAML as "3s".
type Duration time.Duration

// UnmarshalText reads a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration (e.g. 3s): %w", b, err)
	}
	*d = Duration(v)
	return nil
}

// UnmarshalYAML reads a duration and names the line of a bad one (yaml
// reports a TextUnmarshaler's error with no line).
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if err := d.UnmarshalText([]byte(n.Value)); err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	return nil
}

// WithDefaults fills zero fields; quota is the vendor's documented quota,
// used when Rate is 0.
func (p Policy) WithDefaults(quota Quota) Policy {
	if p.Timeout <= 0 {
		p.Timeout = Duration(DefaultTimeout)
	}
	if p.Budget <= 0 {
		p.Budget = Duration(DefaultBudget)
	}
	if p.Budget < p.Timeout {
		p.Budget = p.Timeout
	}
	if p.Rate == 0 {
		p.Rate, p.Burst = quota.Rate, max(p.Burst, quota.Burst)
	}
	if p.Rate > 0 && p.Burst <= 0 {
		p.Burst = max(1, int(p.Rate/10))
	}
	if p.BreakerFailures <= 0 {
		p.BreakerFailures = DefaultBreakerFailures
	}
	if p.BreakerOpen <= 0 {
		p.BreakerOpen = Duration(DefaultBreakerOpen)
	}
	if p.RetryRatio <= 0 {
		p.RetryRatio = DefaultRetryRatio
	}
	return p
}

// Validate rejects values that cannot be meant.
func (p Policy) Validate() error {
	switch {
	case p.Timeout < 0 || p.Budget < 0 || p.BreakerOpen < 0:
		return fmt.Errorf("upstream: durations must not be negative")
	case p.Rate < 0 || p.Burst < 0 || p.BreakerFailures < 0:
		return fmt.Errorf("upstream: rate, burst and breaker_failures must not be negative")
	case p.RetryRatio < 0 || p.RetryRatio > 1:
		return fmt.Errorf("upstream: retry_ratio must be between 0 and 1")
	case time.Duration(p.Budget) > 25*time.Second || time.Duration(p.Timeout) > 25*time.Second:
		return fmt.Errorf("upstream: timeout and budget must stay well inside the 30 s request deadline (at most 25s)")
	}
	return nil
}

// Quota is a vendor's documented outbound limit as a token bucket: Rate
// requests per second, bursts of Burst. The zero Quota is no limit.
type Quota struct {
	Rate  float64
	Burst int
}
