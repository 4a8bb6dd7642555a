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
	s := kisim.New(demo.People(60))
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	g := rest.NewGuard(ds.Kintsugi, srv.Client().Transport, pol, quota, slog.New(slog.NewTextHandler(io.Discard, nil)))
	c, err := kintsugi.New(s.ClientConfig(srv.URL), &http.Client{Transport: g})
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
	for _, tc := range []struct {
		name    string
		request bool // inside a GraphQL request (its per-provider budget applies)
		hang    func(k *simkit.Kit)
		within  time.Duration
		message string
	}{
		// three attempts of 200 ms would be 600 ms+: the 450 ms budget ends it
		{"hangs, in a request: the budget", true, func(k *simkit.Kit) { k.SetLatency(time.Minute) }, 450*time.Millisecond + 250*time.Millisecond, "budget"},
		// outside a request (background sync) only the call timeout and retries bound it
		{"hangs, no request: the call timeout", false, func(k *simkit.Kit) { k.SetLatency(time.Minute) }, 3*200*time.Millisecond + 600*time.Millisecond, "within the 200ms attempt timeout"},
		// one slow answer, then a fast one: the retry gets the data
		{"one slow answer is retried", true, func(k *simkit.Kit) { k.Inject(simkit.Fault{Delay: time.Minute}) }, 450 * time.Millisecond, ""},
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
			took := time.Since(start)
			if took > tc.within {
				t.Fatalf("answered after %v, want within %v (%v)", took, tc.within, err)
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
	start := time.Now()
	var err error
	calls := 0
	for ; calls < 10 && err == nil; calls++ {
		err = list(ctx, c)
	}
	if ds.ErrorCode(err) != ds.CodeProviderUnavailable || time.Since(start) > 800*time.Millisecond {
		t.Fatalf("after %d calls and %v: %v", calls, time.Since(start), err)
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
