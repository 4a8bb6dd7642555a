package providertest

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/simkit"
)

// call is one read of the provider under test, named for messages.
type call struct {
	name string
	do   func(ctx context.Context) error
}

// reads are one provider instance's reads: calls (the first lists 5
// records) and a list from a page token.
type reads struct {
	calls  []call
	listAt func(ctx context.Context, token string) error
}

// faultSuite is what the fault subtests need of a provider, customer and
// source providers alike.
type faultSuite struct {
	provider         ds.ProviderID
	validationStatus int
	retryAfterHeader bool
	start            func(t *testing.T, o Options) (reads, *simkit.Kit)
	// badTokens are page tokens the client could not have issued;
	// tokensFail: each must be BAD_USER_INPUT (else the vendor may answer it).
	badTokens  []string
	tokensFail bool
}

// runFaults checks that upstream failures reach the caller as typed errors.
func runFaults(t *testing.T, s faultSuite) {
	t.Helper()
	// The gateway's own credentials being rejected is not the caller's fault:
	// UNAUTHENTICATED is kept for the caller's own API key.
	t.Run("rejected gateway credentials are PROVIDER_UNAVAILABLE with reason PROVIDER_AUTH", func(t *testing.T) {
		r, _ := s.start(t, Options{BadCredentials: true})
		for _, c := range r.calls {
			err := c.do(context.Background())
			assertCode(t, err, ds.CodeProviderUnavailable, s.provider)
			assertReason(t, err, ds.ReasonProviderAuth)
		}
	})

	// A request the gateway built and the vendor refuses is a gateway bug.
	t.Run("vendor validation error on a read is INTERNAL with the vendor's message", func(t *testing.T) {
		r, kit := s.start(t, Options{})
		for _, c := range r.calls {
			kit.Inject(simkit.Fault{Status: s.validationStatus, Message: "Input should be sane"})
			err := c.do(context.Background())
			assertCode(t, err, ds.CodeInternal, s.provider)
			if !strings.Contains(err.Error(), "Input should be sane") {
				t.Errorf("%s: error %q does not carry the vendor's message", c.name, err)
			}
		}
	})

	t.Run("a vendor message echoing the gateway's credential reaches neither caller nor log", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			status int
		}{
			{"bad request", s.validationStatus},
			{"server error", http.StatusInternalServerError}, // retried: it must stay down
			{"rejected credential", http.StatusUnauthorized},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r, kit := s.start(t, Options{})
				logs := CaptureLog(t)
				kit.Reset()
				kit.SetDown(&simkit.Fault{Status: tc.status, Message: "bad key", EchoCredentials: true})
				t.Cleanup(func() { kit.SetDown(nil) })
				err := r.calls[0].do(context.Background())
				if err == nil {
					t.Fatal("no error")
				}
				AssertNoCredential(t, kit, err.Error(), logs.String())
			})
		}
	})

	t.Run("rate limiting is retried and then succeeds", func(t *testing.T) {
		r, kit := s.start(t, Options{})
		hdr := http.Header{}
		if s.retryAfterHeader {
			hdr.Set("Retry-After", "0")
		}
		kit.Reset()
		kit.Inject(simkit.Fault{Status: 429, Message: "slow down", Header: hdr})
		if err := r.calls[0].do(context.Background()); err != nil {
			t.Fatalf("after one 429: %v", err)
		}
		if n := kit.Count(); n != 2 {
			t.Errorf("calls = %d, want 2 (one 429, one retry)", n)
		}
	})

	t.Run("a long Retry-After is PROVIDER_RATE_LIMITED, not a long wait", func(t *testing.T) {
		// Even a vendor that does not document Retry-After may send one; the
		// client must not hold a request for two minutes either way.
		r, kit := s.start(t, Options{})
		hdr := http.Header{}
		hdr.Set("Retry-After", "120")
		kit.Inject(simkit.Fault{Status: 429, Message: "slow down", Header: hdr})
		begin := time.Now()
		err := r.calls[0].do(context.Background())
		assertCode(t, err, ds.CodeProviderRateLimited, s.provider)
		if d := time.Since(begin); d > 2*time.Second {
			t.Errorf("waited %v before giving up", d)
		}
	})

	t.Run("a provider that stays down is PROVIDER_UNAVAILABLE", func(t *testing.T) {
		r, kit := s.start(t, Options{})
		kit.SetDown(&simkit.Fault{Status: 503, Message: "maintenance"})
		t.Cleanup(func() { kit.SetDown(nil) })
		for _, c := range r.calls {
			assertCode(t, c.do(context.Background()), ds.CodeProviderUnavailable, s.provider)
		}
	})

	t.Run("a bad page token is BAD_USER_INPUT, never a panic", func(t *testing.T) {
		r, _ := s.start(t, Options{})
		for _, tok := range s.badTokens {
			err := r.listAt(context.Background(), tok)
			if (err != nil || s.tokensFail) && ds.ErrorCode(err) != ds.CodeBadUserInput {
				t.Errorf("token %q: code %s, want BAD_USER_INPUT (%v)", tok, ds.ErrorCode(err), err)
			}
		}
	})

	t.Run("honours context cancellation", func(t *testing.T) {
		r, kit := s.start(t, Options{})
		kit.SetLatency(5 * time.Second)
		for _, c := range r.calls {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			begin := time.Now()
			err := c.do(ctx)
			cancel()
			if err == nil {
				t.Fatalf("%s: want an error", c.name)
			}
			if d := time.Since(begin); d > time.Second {
				t.Errorf("%s: returned after %v", c.name, d)
			}
			if !errors.Is(err, context.DeadlineExceeded) && ds.ErrorCode(err) != ds.CodeProviderUnavailable {
				t.Errorf("%s: error = %v", c.name, err)
			}
		}
	})
}
