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
		{"hangs, no request: the call timeout", false, func(k *simkit.Kit) { k.SetLatency(time.Minute) }, 3*200*time.Millisecond + 600*time.Millisecond, "within 200ms"},
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
