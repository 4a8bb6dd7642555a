package rest_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/kintsugi"
	kisim "github.com/federated-customers/gateway/datasource/kintsugi/sim"
	"github.com/federated-customers/gateway/datasource/rest"
	"github.com/federated-customers/gateway/datasource/simkit"
)

// guarded is a Kintsugi client against its simulator, behind a Guard with pol.
func guarded(t *testing.T, pol rest.Policy, quota rest.Quota) (*kintsugi.Client, *simkit.Kit, *rest.Guard) {
	t.Helper()
	return guardedVia(t, pol, quota, func(g *rest.Guard) http.RoundTripper { return g })
}

// guardedVia is guarded with the client's transport built around the Guard by wrap.
func guardedVia(t *testing.T, pol rest.Policy, quota rest.Quota, wrap func(*rest.Guard) http.RoundTripper) (*kintsugi.Client, *simkit.Kit, *rest.Guard) {
	t.Helper()
	s := kisim.New(demo.People(60))
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	g := rest.NewGuard(ds.Kintsugi, srv.Client().Transport, pol, quota, slog.New(slog.NewTextHandler(io.Discard, nil)))
	c, err := kintsugi.New(s.ClientConfig(srv.URL), &http.Client{Transport: wrap(g)})
	if err != nil {
		t.Fatal(err)
	}
	return c, s.Kit(), g
}

func list(ctx context.Context, c *kintsugi.Client) error {
	_, err := c.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Limit: 5})
	return err
}

func TestAHungProviderIsGivenUpOnInTime(t *testing.T) {
	// The simulator holds a hung call for a minute. Which limit ended the
	// wait is what the error names (the budget or the attempt timeout), and
	// the answer arriving before the hung call would have is the ordering
	// that shows the caller did not wait for it; a wall-clock bound near the
	// limits would flake on a busy machine.
	const hang = time.Minute
	for _, tc := range []struct {
		name    string
		request bool // inside a GraphQL request (its per-provider budget applies)
		hang    func(k *simkit.Kit)
		calls   int // attempts the simulator sees
		message string
	}{
		// three attempts of 200 ms would be 600 ms+: the 450 ms budget ends it
		{"hangs, in a request: the budget", true, func(k *simkit.Kit) { k.SetLatency(hang) }, 0, "budget"},
		// outside a request (background sync) only the call timeout and retries bound it
		{"hangs, no request: the call timeout", false, func(k *simkit.Kit) { k.SetLatency(hang) }, 0, "within the 200ms attempt timeout"},
		// one slow answer, then a fast one: the retry gets the data
		{"one slow answer is retried", true, func(k *simkit.Kit) { k.Inject(simkit.Fault{Delay: hang}) }, 2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, kit, _ := guarded(t, rest.Policy{Timeout: rest.Duration(200 * time.Millisecond), Budget: rest.Duration(450 * time.Millisecond)}, rest.Quota{})
			tc.hang(kit)
			ctx := context.Background()
			if tc.request {
				ctx, _ = ds.WithReport(ctx)
			}
			start := time.Now()
			err := list(ctx, c)
			if took := time.Since(start); took >= hang/2 {
				t.Fatalf("answered after %v: the caller waited for the hung provider (%v)", took, err)
			}
			if tc.calls > 0 && kit.Count() != tc.calls {
				t.Fatalf("%d calls, want %d", kit.Count(), tc.calls)
			}
			if tc.message == "" {
				if err != nil {
					t.Fatalf("after one slow answer: %v", err)
				}
				return
			}
			if ds.ErrorCode(err) != ds.CodeProviderUnavailable || !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("err = %v, want PROVIDER_UNAVAILABLE saying %q", err, tc.message)
			}
			if p, ok := ds.ErrorProvider(err); !ok || p != ds.Kintsugi {
				t.Fatalf("error does not name the provider: %v", err)
			}
		})
	}
}

func TestTheBudgetCoversEveryCallOfOneRequest(t *testing.T) {
	c, kit, _ := guarded(t, rest.Policy{Timeout: rest.Duration(400 * time.Millisecond), Budget: rest.Duration(500 * time.Millisecond)}, rest.Quota{})
	kit.SetLatency(150 * time.Millisecond)
	ctx, _ := ds.WithReport(context.Background())
	var err error
	calls := 0
	for ; calls < 10 && err == nil; calls++ {
		err = list(ctx, c)
	}
	// 150 ms calls fit a 500 ms budget at most 3 times; the 4th is cut
	// short (fewer on a busy machine, where calls take longer)
	if ds.ErrorCode(err) != ds.CodeProviderUnavailable || !strings.Contains(err.Error(), "budget") || calls > 4 {
		t.Fatalf("after %d calls: %v", calls, err)
	}
	// a new request has a budget of its own
	ctx2, _ := ds.WithReport(context.Background())
	if err := list(ctx2, c); err != nil {
		t.Fatalf("the next request: %v", err)
	}
}

// calls makes n concurrent list calls and returns their errors.
func calls(ctx context.Context, c *kintsugi.Client, n int) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = list(ctx, c) })
	}
	wg.Wait()
	return errs
}

func TestTheBreakerOpensAnswersAtOnceAndProbes(t *testing.T) {
	c, kit, g := guarded(t, rest.Policy{BreakerFailures: 3, BreakerOpen: rest.Duration(300 * time.Millisecond)}, rest.Quota{})
	if h := g.Health(); h.State != "CLOSED" || h.LastError != "" {
		t.Fatalf("health at start %+v", h)
	}
	kit.SetDown(&simkit.Fault{Status: 503, Message: "maintenance"})
	// one call and its retries are one failure: the circuit stays closed
	if err := list(context.Background(), c); ds.ErrorCode(err) != ds.CodeProviderUnavailable || kit.Count() != 3 {
		t.Fatalf("err %v after %d attempts", err, kit.Count())
	}
	if h := g.Health(); h.State != "CLOSED" {
		t.Fatalf("one failed call (3 attempts) opened the circuit: %+v", h)
	}
	// three failed calls open it
	for range 2 {
		if err := list(context.Background(), c); ds.ErrorCode(err) != ds.CodeProviderUnavailable {
			t.Fatalf("err %v", err)
		}
	}
	h := g.Health()
	if h.State != "OPEN" || !strings.Contains(h.LastError, "503") || time.Since(h.Since) > time.Second {
		t.Fatalf("health after 3 failures %+v", h)
	}
	kit.Reset()
	start := time.Now()
	for _, err := range calls(context.Background(), c, 50) {
		if ds.ErrorCode(err) != ds.CodeProviderUnavailable || ds.ErrorReason(err) != ds.ReasonCircuitOpen {
			t.Fatalf("while open: %v", err)
		}
	}
	if took, n := time.Since(start), kit.Count(); took > 100*time.Millisecond || n != 0 {
		t.Fatalf("50 calls while open took %v and reached the provider %d times", took, n)
	}
	// after the open period one probe goes; it fails: open again
	time.Sleep(350 * time.Millisecond)
	if h := g.Health(); h.State != "HALF_OPEN" {
		t.Fatalf("after the open period: %+v", h)
	}
	_ = list(context.Background(), c)
	if n := kit.Count(); n != 1 {
		t.Fatalf("half-open let %d calls through, want 1 probe", n)
	}
	if h := g.Health(); h.State != "OPEN" {
		t.Fatalf("after a failed probe: %+v", h)
	}
	// the provider comes back: the next probe closes the circuit
	kit.SetDown(nil)
	time.Sleep(350 * time.Millisecond)
	if err := list(context.Background(), c); err != nil {
		t.Fatalf("probe after recovery: %v", err)
	}
	if h := g.Health(); h.State != "CLOSED" {
		t.Fatalf("after a good probe: %+v", h)
	}
}

func TestWhatIsNotTheProvidersFaultDoesNotOpenTheBreaker(t *testing.T) {
	c, kit, g := guarded(t, rest.Policy{BreakerFailures: 2}, rest.Quota{})
	for _, f := range []simkit.Fault{{Status: 404}, {Status: 422}, {Status: 401}, {Status: 404}} {
		kit.Inject(f)
		_ = list(context.Background(), c)
	}
	// callers giving up while the provider is slow
	kit.SetLatency(time.Second)
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		_ = list(ctx, c)
		cancel()
	}
	if h := g.Health(); h.State != "CLOSED" {
		t.Fatalf("health %+v", h)
	}
}

// metric reads one series of the upstream metrics.
func metric(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(rest.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue series
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return 0
}

func TestUpstreamMetricsPerProvider(t *testing.T) {
	c, kit, _ := guarded(t, rest.Policy{}, rest.Quota{Rate: 1000, Burst: 10})
	k := map[string]string{"provider": "KINTSUGI"}
	type reading struct{ calls5xx, calls2xx, retries, notFound, latency, quota float64 }
	read := func() reading {
		return reading{
			calls5xx: metric(t, "gateway_upstream_calls_total", map[string]string{"provider": "KINTSUGI", "outcome": "5xx"}),
			calls2xx: metric(t, "gateway_upstream_calls_total", map[string]string{"provider": "KINTSUGI", "outcome": "2xx"}),
			retries:  metric(t, "gateway_upstream_retries_total", k),
			notFound: metric(t, "gateway_upstream_errors_total", map[string]string{"provider": "KINTSUGI", "code": string(ds.CodeNotFound)}),
			latency:  metric(t, "gateway_upstream_call_duration_seconds", k),
			quota:    metric(t, "gateway_upstream_quota_wait_seconds", k),
		}
	}
	before := read()
	before4xx := metric(t, "gateway_upstream_calls_total", map[string]string{"provider": "KINTSUGI", "outcome": "4xx"})
	kit.Inject(simkit.Fault{Status: 503}) // one failure, retried
	if err := list(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	kit.Inject(simkit.Fault{Status: 404, Message: "gone"})
	if err := list(context.Background(), c); ds.ErrorCode(err) != ds.CodeNotFound {
		t.Fatalf("err %v", err)
	}
	after := read()
	for _, tc := range []struct {
		name      string
		got, want float64
	}{
		{"5xx attempts", after.calls5xx - before.calls5xx, 1},
		{"2xx attempts", after.calls2xx - before.calls2xx, 1},
		{"4xx attempts", metric(t, "gateway_upstream_calls_total", map[string]string{"provider": "KINTSUGI", "outcome": "4xx"}) - before4xx, 1},
		{"retries", after.retries - before.retries, 1},
		{"latency samples", after.latency - before.latency, 3},
		{"quota waits", after.quota - before.quota, 3},
		{"NOT_FOUND errors", after.notFound - before.notFound, 1},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: +%v, want +%v", tc.name, tc.got, tc.want)
		}
	}
}

func TestConfigurationProblemsShowInHealthUntilAnAnswerShowsThemFixed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fault   simkit.Fault
		call    string // "list" or "lookup"
		problem string
	}{
		{"a list answering 404: the base_url", simkit.Fault{Status: 404, Message: "no route"}, "list", rest.ProblemBaseURLNotFound},
		{"401 on a list: the credentials", simkit.Fault{Status: 401, Message: "bad key"}, "list", rest.ProblemCredentialsRejected},
		{"403 on a lookup: the credentials", simkit.Fault{Status: 403, Message: "forbidden"}, "lookup", rest.ProblemCredentialsRejected},
		{"a lookup answering 404 is a missing record, not a problem", simkit.Fault{Status: 404, Message: "not found"}, "lookup", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, kit, g := guarded(t, rest.Policy{}, rest.Quota{})
			kit.Inject(tc.fault)
			ctx := context.Background()
			if tc.call == "list" {
				_ = list(ctx, c)
			} else {
				_, _ = c.GetCustomers(ctx, []string{"cust_0000000000"})
			}
			h := g.Health()
			if h.Problem != tc.problem || (tc.problem != "" && (h.Reason == "" || h.LastError != h.Reason)) || h.State != "CLOSED" {
				t.Fatalf("health %+v, want problem %q with a reason, breaker closed", h, tc.problem)
			}
			// the next answer (a good list) shows it fixed
			if err := list(ctx, c); err != nil {
				t.Fatal(err)
			}
			if h := g.Health(); h.Problem != "" || h.Reason != "" {
				t.Fatalf("after a good answer: %+v", h)
			}
		})
	}
}

func TestTheQuotaGovernorKeepsABurstUnderTheVendorsLimit(t *testing.T) {
	const n = 200
	for _, tc := range []struct {
		name     string
		quota    rest.Quota
		want429s bool
	}{
		// Digital River's test-key quota as the gateway sets it (digitalriver.Config.Quota):
		// 18/s, bursts of 1 (≤ 19 in any second; 20/s left too little headroom
		// against the 25/s window for calls bunched by a busy machine)
		{"governed", rest.Quota{Rate: 18, Burst: 1}, false},
		// the same burst with no governor: the vendor throttles
		{"ungoverned", rest.Quota{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, kit, _ := guarded(t, rest.Policy{Timeout: rest.Duration(5 * time.Second), Budget: rest.Duration(20 * time.Second)}, tc.quota)
			kit.SetRateLimit(25, time.Second)
			ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
			defer cancel()
			start := time.Now()
			errs := calls(ctx, c, n)
			failed := 0
			for _, err := range errs {
				if err != nil {
					failed++
				}
			}
			t.Logf("%d concurrent calls: %d upstream requests, %d answered 429, %d failed, %v", n, kit.Count(), kit.Throttled(), failed, time.Since(start).Round(time.Millisecond))
			if tc.want429s {
				if kit.Throttled() == 0 {
					t.Fatal("the simulator's limit never bit: the test proves nothing")
				}
				return
			}
			if kit.Throttled() != 0 || failed != 0 {
				t.Fatalf("%d 429s and %d failed calls under the governor", kit.Throttled(), failed)
			}
		})
	}
}

func TestAQuotaWaitThatCannotFitTheDeadlineFailsAtOnce(t *testing.T) {
	// the next token is 10 s away, the deadline 2 s: failing before the
	// deadline passes shows the call did not wait (a wall-clock bound of a
	// few milliseconds would flake on a busy machine)
	c, kit, _ := guarded(t, rest.Policy{}, rest.Quota{Rate: 0.1, Burst: 1})
	if err := list(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := list(ctx, c)
	if ds.ErrorCode(err) != ds.CodeProviderRateLimited || ctx.Err() != nil || kit.Count() != 1 {
		t.Fatalf("err %v (deadline passed: %v), %d upstream calls", err, ctx.Err() != nil, kit.Count())
	}
}

func TestRetriesStayWithinTheirBudget(t *testing.T) {
	for _, tc := range []struct {
		name string
		wrap func(*rest.Guard) http.RoundTripper
	}{
		{"the guard is the transport", func(g *rest.Guard) http.RoundTripper { return g }},
		// the tracing wrapper must not hide the guard from the client (it once
		// found it by a type assertion on the transport alone)
		{"the guard beneath the tracing transport", func(g *rest.Guard) http.RoundTripper { return rest.Traced(ds.Kintsugi, g) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, kit, _ := guardedVia(t, rest.Policy{BreakerFailures: 100000, RetryRatio: 0.1}, rest.Quota{}, tc.wrap)
			kit.SetDown(&simkit.Fault{Status: 503, Message: "down"})
			const n = 100
			for range n {
				_ = list(context.Background(), c)
			}
			// 100 calls may add at most 10% retries (plus the starting balance of 3)
			if got := kit.Count(); got > n+n/10+3 {
				t.Fatalf("%d upstream attempts for %d calls", got, n)
			}
			t.Logf("%d calls to a provider answering 503: %d upstream attempts", n, kit.Count())
		})
	}
}

func TestCommerceLayerRateHeadersSlowTheBucket(t *testing.T) {
	c, kit, _ := guarded(t, rest.Policy{}, rest.Quota{Rate: 1000, Burst: 10})
	h := http.Header{"X-Ratelimit-Limit": {"10"}, "X-Ratelimit-Interval": {"1"}, "X-Ratelimit-Remaining": {"0"}}
	kit.Inject(simkit.Fault{Status: 429, Message: "slow down", Header: h})
	start := time.Now()
	if err := list(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	// the 429 says 10 per second with none left: the retry waits about 100 ms
	if d := time.Since(start); d < 90*time.Millisecond || kit.Count() != 2 {
		t.Fatalf("retried after %v with %d calls", d, kit.Count())
	}
	// and the bucket now runs at 10/s: 5 more calls take about 0.4 s or more
	start = time.Now()
	for range 5 {
		if err := list(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 350*time.Millisecond {
		t.Fatalf("5 calls after the hint took %v", d)
	}
}
