package rest_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
	"github.com/federated-customers/gateway/datasource/simkit"
)

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
