// Package providertest is the conformance suite every customer provider (a
// vendor client against its simulator, and later any cache layer in front of
// one) must pass: exactly-once paging, limits, totals, batch lookups, typed
// errors for auth and vendor validation failures, retries, cancellation.
package providertest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/cache"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/federate"
	"github.com/federated-customers/gateway/datasource/simkit"
)

// Options configure one provider instance for a subtest.
type Options struct {
	// BadCredentials configures the client with credentials the simulator rejects.
	BadCredentials bool
}

// Harness describes the provider under test.
type Harness struct {
	Provider ds.ProviderID
	// Start starts a simulator serving people and returns a client for it and
	// the simulator's kit (call counts, fault injection). Cleanup via t.Cleanup.
	Start func(t *testing.T, people []demo.Person, o Options) (ds.CustomerProvider, *simkit.Kit)
	// MaxPage is the vendor's documented maximum page size.
	MaxPage int
	// BulkLookup is true when the vendor has a bulk id filter, so GetCustomers
	// of n ids must take ceil(n/MaxBatch) calls.
	BulkLookup bool
	// ValidationStatus is the status the vendor uses for validation errors (400 or 422).
	ValidationStatus int
	// RetryAfterHeader is true when the vendor documents Retry-After on 429.
	RetryAfterHeader bool
}

// People is the demo world the suite runs against (smaller than the demo server's, for speed).
func People() []demo.Person { return demo.People(120) }

// Run runs the whole suite twice: against the provider itself, and through
// the cache layer (a fresh in-process cache per subtest), which must behave
// the same to every caller.
func Run(t *testing.T, h Harness) {
	t.Helper()
	t.Run("direct", func(t *testing.T) { run(t, h) })
	cached := h
	cached.Start = func(t *testing.T, people []demo.Person, o Options) (ds.CustomerProvider, *simkit.Kit) {
		t.Helper()
		prov, kit := h.Start(t, people, o)
		return NewCache(t, nil).Wrap(prov), kit
	}
	t.Run("through the cache", func(t *testing.T) { run(t, cached) })
}

// NewCache is a cache layer for one test (shared: nil keeps it in process),
// closed when the test ends.
func NewCache(t *testing.T, shared cache.Shared) *cache.Layer {
	t.Helper()
	l := cache.New(cache.Options{Shared: shared, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	l.Start()
	t.Cleanup(l.Close)
	return l
}

func run(t *testing.T, h Harness) {
	t.Helper()
	people := People()
	var want []string
	for _, p := range people {
		if id, ok := p.IDs[h.Provider]; ok {
			want = append(want, id)
		}
	}
	sort.Strings(want)
	if len(want) == 0 {
		t.Fatalf("demo world has no %s customers", h.Provider)
	}

	t.Run("walks every customer exactly once whatever the page size", func(t *testing.T) {
		prov, _ := h.Start(t, people, Options{})
		var firstOrder []string
		for _, limit := range []int{1, 7, h.MaxPage, h.MaxPage + 50} {
			got := walk(t, prov, ds.Filter{}, limit)
			if firstOrder == nil {
				firstOrder = got
			} else if strings.Join(got, ",") != strings.Join(firstOrder, ",") {
				t.Errorf("limit %d: native order differs between walks", limit)
			}
			assertSameSet(t, got, want)
		}
	})

	t.Run("never returns more than the vendor maximum in one page", func(t *testing.T) {
		prov, _ := h.Start(t, people, Options{})
		page, err := prov.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) == 0 || len(page.Items) > h.MaxPage {
			t.Errorf("got %d items for limit 1000, want 1..%d", len(page.Items), h.MaxPage)
		}
	})

	t.Run("totals are exact or absent", func(t *testing.T) {
		prov, _ := h.Start(t, people, Options{})
		page, err := prov.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != nil && *page.Total != len(want) {
			t.Errorf("total = %d, want %d", *page.Total, len(want))
		}
	})

	t.Run("maps every record with its provider, id and raw body", func(t *testing.T) {
		prov, _ := h.Start(t, people, Options{})
		page, err := prov.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: h.MaxPage})
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]demo.Person{}
		for _, p := range people {
			if id, ok := p.IDs[h.Provider]; ok {
				byID[id] = p
			}
		}
		for _, c := range page.Items {
			if c.Provider != h.Provider || c.ProviderID == "" || len(c.Raw) == 0 || c.Raw[0] != '{' {
				t.Fatalf("bad mapping: provider=%v id=%q raw=%.40s", c.Provider, c.ProviderID, c.Raw)
			}
			p, ok := byID[c.ProviderID]
			if !ok {
				t.Fatalf("id %q is not in the demo world", c.ProviderID)
			}
			if c.Email == nil || !strings.EqualFold(*c.Email, p.EmailAt(h.Provider)) {
				t.Errorf("%s: email = %v, want %s", c.ProviderID, deref(c.Email), p.EmailAt(h.Provider))
			}
			if c.CreatedAt != nil && c.CreatedAt.Location() != time.UTC {
				t.Errorf("%s: createdAt not in UTC", c.ProviderID)
			}
		}
	})

	for _, tc := range []struct {
		name string
		f    ds.Filter
	}{
		{"email", ds.Filter{Email: ptr(strings.ToUpper(people[len(people)/2].Email))}},
		{"search", ds.Filter{Search: ptr("an")}},
		{"country", ds.Filter{Country: []string{"SE", "CZ"}}},
		{"email and country", ds.Filter{Email: ptr(people[4].Email), Country: []string{people[4].Country}}},
	} {
		t.Run("filter by "+tc.name+" returns exactly the matching records", func(t *testing.T) {
			prov, _ := h.Start(t, people, Options{})
			if err := prov.CanFilter(tc.f); err != nil {
				if ds.ErrorCode(err) != ds.CodeUnsupportedByProvider {
					t.Fatalf("CanFilter error code = %s, want UNSUPPORTED_BY_PROVIDER", ds.ErrorCode(err))
				}
				t.Skipf("provider cannot filter by %s: %v", tc.name, err)
			}
			all := walkCustomers(t, prov, ds.Filter{}, h.MaxPage)
			var expect []string
			for _, c := range all {
				if tc.f.Match(c) {
					expect = append(expect, c.ProviderID)
				}
			}
			got := walk(t, prov, tc.f, h.MaxPage)
			assertSameSet(t, got, expect)
		})
	}

	t.Run("looks customers up by id in as few calls as the vendor allows", func(t *testing.T) {
		prov, kit := h.Start(t, people, Options{})
		ids := append([]string(nil), want...)
		if len(ids) > 60 {
			ids = ids[:60]
		}
		ids = append(ids, missingID(h.Provider))
		kit.Reset()
		got, err := prov.GetCustomers(context.Background(), ids)
		if err != nil {
			t.Fatal(err)
		}
		var gotIDs []string
		for _, c := range got {
			gotIDs = append(gotIDs, c.ProviderID)
		}
		assertSameSet(t, gotIDs, ids[:len(ids)-1])
		if h.BulkLookup {
			max := (len(ids) + prov.MaxBatch() - 1) / prov.MaxBatch()
			if kit.Count() > max {
				t.Errorf("%d ids took %d calls, want at most %d (batch size %d)", len(ids), kit.Count(), max, prov.MaxBatch())
			}
		}
	})

	// The gateway's own credentials being rejected is not the caller's fault:
	// UNAUTHENTICATED is kept for the caller's own API key.
	t.Run("rejected gateway credentials are PROVIDER_UNAVAILABLE with reason PROVIDER_AUTH", func(t *testing.T) {
		prov, _ := h.Start(t, people, Options{BadCredentials: true})
		_, err := prov.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 5})
		assertCode(t, err, ds.CodeProviderUnavailable, h.Provider)
		assertReason(t, err, ds.ReasonProviderAuth)
	})

	// A list request the gateway built and the vendor refuses is a gateway bug.
	t.Run("vendor validation error on a list is INTERNAL with the vendor's message", func(t *testing.T) {
		prov, kit := h.Start(t, people, Options{})
		kit.Inject(simkit.Fault{Status: h.ValidationStatus, Message: "Input should be sane"})
		_, err := prov.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 5})
		assertCode(t, err, ds.CodeInternal, h.Provider)
		if err != nil && !strings.Contains(err.Error(), "Input should be sane") {
			t.Errorf("error %q does not carry the vendor's message", err)
		}
	})

	t.Run("a vendor message echoing the gateway's credential reaches neither caller nor log", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			status int
			sticky bool
		}{
			{"bad request", h.ValidationStatus, false},
			{"server error", http.StatusInternalServerError, true}, // retried: it must stay down
			{"rejected credential", http.StatusUnauthorized, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				prov, kit := h.Start(t, people, Options{})
				logs := CaptureLog(t)
				kit.Reset()
				f := simkit.Fault{Status: tc.status, Message: "bad key", EchoCredentials: true}
				if tc.sticky {
					kit.SetDown(&f)
					t.Cleanup(func() { kit.SetDown(nil) })
				} else {
					kit.Inject(f)
				}
				_, err := prov.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 5})
				if err == nil {
					t.Fatal("no error")
				}
				AssertNoCredential(t, kit, err.Error(), logs.String())
			})
		}
	})

	t.Run("rate limiting is retried and then succeeds", func(t *testing.T) {
		prov, kit := h.Start(t, people, Options{})
		hdr := http.Header{}
		if h.RetryAfterHeader {
			hdr.Set("Retry-After", "0")
		}
		kit.Reset()
		kit.Inject(simkit.Fault{Status: 429, Message: "slow down", Header: hdr})
		if _, err := prov.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 5}); err != nil {
			t.Fatalf("after one 429: %v", err)
		}
		if n := kit.Count(); n != 2 {
			t.Errorf("calls = %d, want 2 (one 429, one retry)", n)
		}
	})

	t.Run("a long Retry-After is PROVIDER_RATE_LIMITED, not a long wait", func(t *testing.T) {
		prov, kit := h.Start(t, people, Options{})
		hdr := http.Header{}
		hdr.Set("Retry-After", "120")
		kit.Inject(simkit.Fault{Status: 429, Message: "slow down", Header: hdr})
		start := time.Now()
		_, err := prov.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 5})
		// Even vendors that do not document Retry-After may send one; the
		// client must not hold a request for two minutes either way.
		assertCode(t, err, ds.CodeProviderRateLimited, h.Provider)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("waited %v before giving up", d)
		}
	})

	t.Run("a provider that stays down is PROVIDER_UNAVAILABLE", func(t *testing.T) {
		prov, kit := h.Start(t, people, Options{})
		for i := 0; i < 5; i++ {
			kit.Inject(simkit.Fault{Status: 503, Message: "maintenance"})
		}
		_, err := prov.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 5})
		assertCode(t, err, ds.CodeProviderUnavailable, h.Provider)
	})

	t.Run("a bad page token is BAD_USER_INPUT or the vendor's rejection, never a panic", func(t *testing.T) {
		prov, _ := h.Start(t, people, Options{})
		for _, tok := range []string{"-1", "zz", "%00", strings.Repeat("9", 40)} {
			_, err := prov.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Token: tok, Limit: 5})
			if err != nil && ds.ErrorCode(err) != ds.CodeBadUserInput {
				t.Errorf("token %q: code %s, want BAD_USER_INPUT (or success)", tok, ds.ErrorCode(err))
			}
		}
	})

	t.Run("honours context cancellation", func(t *testing.T) {
		prov, kit := h.Start(t, people, Options{})
		kit.SetLatency(5 * time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := prov.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Limit: 5})
		if err == nil {
			t.Fatal("want an error")
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("returned after %v", d)
		}
		if !errors.Is(err, context.DeadlineExceeded) && ds.ErrorCode(err) != ds.CodeProviderUnavailable {
			t.Errorf("error = %v", err)
		}
	})
}

// walk pages through the provider with the federation layer's walker and returns ids.
func walk(t *testing.T, prov ds.CustomerProvider, f ds.Filter, limit int) []string {
	t.Helper()
	var ids []string
	for _, c := range walkCustomers(t, prov, f, limit) {
		ids = append(ids, c.ProviderID)
	}
	return ids
}

func walkCustomers(t *testing.T, prov ds.CustomerProvider, f ds.Filter, limit int) []*ds.Customer {
	t.Helper()
	seg := federate.Segment[*ds.Customer]{
		Provider: prov.ID(),
		Fetch: func(ctx context.Context, token string, n int) (ds.Page[*ds.Customer], error) {
			return prov.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Token: token, Limit: n, Filter: f})
		},
		Match: f.Match,
	}
	var out []*ds.Customer
	var pos *ds.Position
	for i := 0; i < 1000; i++ {
		w, err := federate.WalkForward(context.Background(), []federate.Segment[*ds.Customer]{seg}, pos, limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(w.Errs) > 0 {
			t.Fatal(w.Errs[0])
		}
		for _, e := range w.Edges {
			out = append(out, e.Node)
		}
		if !w.HasNext {
			return out
		}
		r := w.Resume
		pos = &r
	}
	t.Fatal("walk did not end after 1000 pages")
	return nil
}

func assertSameSet(t *testing.T, got, want []string) {
	t.Helper()
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
		if seen[id] == 2 {
			t.Errorf("id %s returned twice", id)
		}
	}
	w := map[string]bool{}
	for _, id := range want {
		w[id] = true
		if seen[id] == 0 {
			t.Errorf("id %s missing", id)
		}
	}
	for id := range seen {
		if !w[id] {
			t.Errorf("id %s not expected", id)
		}
	}
	if t.Failed() {
		t.Logf("got %d ids, want %d", len(got), len(want))
	}
}

func assertCode(t *testing.T, err error, code ds.Code, p ds.ProviderID) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s error, got none", code)
	}
	if got := ds.ErrorCode(err); got != code {
		t.Fatalf("code = %s, want %s (%v)", got, code, err)
	}
	if got, ok := ds.ErrorProvider(err); !ok || got != p {
		t.Fatalf("error does not name provider %s: %v", p, err)
	}
}

// CaptureLog sends slog's default logger to a buffer for the test.
func CaptureLog(t *testing.T) *SyncBuffer {
	t.Helper()
	buf := &SyncBuffer{}
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(old) })
	return buf
}

// SyncBuffer is a bytes.Buffer safe for concurrent writers.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// AssertNoCredential fails when any credential the simulator received
// appears in one of the texts (an error message, the log).
func AssertNoCredential(t *testing.T, kit *simkit.Kit, texts ...string) {
	t.Helper()
	seen := 0
	for _, c := range kit.Calls() {
		for _, cred := range strings.Fields(c.Credential) {
			seen++
			for _, s := range texts {
				if strings.Contains(s, cred) {
					t.Fatalf("the credential %.4s… leaked: %s", cred, s)
				}
			}
		}
	}
	if seen == 0 {
		t.Fatal("the simulator saw no credential: the test proves nothing")
	}
}

func assertReason(t *testing.T, err error, reason string) {
	t.Helper()
	if got := ds.ErrorReason(err); got != reason {
		t.Fatalf("reason = %q, want %q (%v)", got, reason, err)
	}
}

func missingID(p ds.ProviderID) string {
	switch p {
	case ds.DigitalRiver:
		return "5899999999"
	case ds.Kintsugi:
		return "cust_doesnotexist"
	case ds.CommerceLayer:
		return "ZZZZZZZZZZ"
	}
	return "00000000-0000-4000-a000-000000000000"
}

func ptr[T any](v T) *T { return &v }

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
