package registry

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/federated-customers/gateway/config"
	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
)

func TestUpstreamPoliciesAreReadPerProvider(t *testing.T) {
	for _, tc := range []struct {
		name  string
		yaml  string
		err   string // "" = builds
		check ds.ProviderID
		want  rest.Policy
	}{
		{"defaults and the vendor's documented quota", `
providers:
  digitalriver: {simulate: true}
`, "", ds.DigitalRiver, rest.Policy{Timeout: rest.Duration(rest.DefaultTimeout), Budget: rest.Duration(rest.DefaultBudget),
			Rate: 18, Burst: 1, BreakerFailures: rest.DefaultBreakerFailures, BreakerOpen: rest.Duration(rest.DefaultBreakerOpen), RetryRatio: rest.DefaultRetryRatio}},
		{"configured, for a provider with no documented quota", `
providers:
  telness:
    simulate: true
    upstream: {timeout: 1s, budget: 2s, rate: 5, burst: 2, breaker_failures: 3, breaker_open: 30s, retry_ratio: 0.2}
`, "", ds.Telness, rest.Policy{Timeout: rest.Duration(time.Second), Budget: rest.Duration(2 * time.Second),
			Rate: 5, Burst: 2, BreakerFailures: 3, BreakerOpen: rest.Duration(30 * time.Second), RetryRatio: 0.2}},
		{"an unknown key is an error naming it", `
providers:
  kintsugi: {simulate: true, upstream: {timeoutt: 1s}}
`, "providers.kintsugi.upstream", 0, rest.Policy{}},
		{"a bad duration", `
providers:
  kintsugi: {simulate: true, upstream: {timeout: soon}}
`, "not a duration", 0, rest.Policy{}},
		{"a budget beyond the request deadline", `
providers:
  kintsugi: {simulate: true, upstream: {budget: 40s}}
`, "inside the 30 s request deadline", 0, rest.Policy{}},
		{"a retry ratio above 1", `
providers:
  kintsugi: {simulate: true, upstream: {retry_ratio: 3}}
`, "retry_ratio", 0, rest.Policy{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			b, err := Build(cfg, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = b.Close(t.Context()) })
			g, ok := b.Guards[tc.check]
			if !ok {
				t.Fatalf("no guard for %s", tc.check)
			}
			if got := g.Policy(); got != tc.want {
				t.Fatalf("policy %+v, want %+v", got, tc.want)
			}
			if h, ok := b.Health(tc.check); !ok || h.State != "CLOSED" {
				t.Fatalf("health %+v %v", h, ok)
			}
		})
	}
}
