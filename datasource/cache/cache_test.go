package cache_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/cache"
	"github.com/federated-customers/gateway/postgres"
	"github.com/federated-customers/gateway/postgres/pgtest"
)

// fake is a customer provider with offset paging that counts its calls.
type fake struct {
	id    ds.ProviderID
	cred  string
	calls atomic.Int32
	delay time.Duration

	mu    sync.Mutex
	items []*ds.Customer
	fail  error
}

func newFake(p ds.ProviderID, cred, prefix string, n int) *fake {
	f := &fake{id: p, cred: cred}
	for i := range n {
		name := prefix + " " + strconv.Itoa(i)
		email := fmt.Sprintf("%s%d@example.com", prefix, i)
		f.items = append(f.items, &ds.Customer{Provider: p, ProviderID: prefix + strconv.Itoa(i), Name: &name, Email: &email, Raw: []byte(`{}`)})
	}
	return f
}

func (f *fake) setFail(err error) { f.mu.Lock(); f.fail = err; f.mu.Unlock() }

func (f *fake) begin(ctx context.Context) error {
	f.calls.Add(1)
	if f.delay > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(f.delay):
		}
	}
	if err := ds.SpendCall(ctx, f.id); err != nil {
		return err // as rest.Client does
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fail
}

func (f *fake) ID() ds.ProviderID    { return f.id }
func (f *fake) CredentialID() string { return f.cred }
func (f *fake) Capabilities() ds.Capabilities {
	all := map[ds.OrderField]string{ds.OrderCreatedAt: "", ds.OrderUpdatedAt: "", ds.OrderEmail: "", ds.OrderName: ""}
	return ds.Capabilities{Provider: f.id, PageLimit: 100, LookupBatch: 50, LoaderCap: 50, Sort: all, Writes: true}
}
func (f *fake) ListCustomers(ctx context.Context, req ds.ListRequest[ds.Filter]) (ds.Page[*ds.Customer], error) {
	if err := f.begin(ctx); err != nil {
		return ds.Page[*ds.Customer]{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	off, _ := strconv.Atoi(req.Token)
	end := min(off+min(req.Limit, 100), len(f.items))
	page := ds.Page[*ds.Customer]{Items: append([]*ds.Customer(nil), f.items[off:end]...)}
	if end < len(f.items) {
		page.Next = strconv.Itoa(end)
	}
	return page, nil
}

func (f *fake) GetCustomers(ctx context.Context, ids []string) ([]*ds.Customer, error) {
	if err := f.begin(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*ds.Customer
	for _, id := range ids {
		for _, c := range f.items {
			if c.ProviderID == id {
				out = append(out, c)
			}
		}
	}
	return out, nil
}

func (f *fake) CreateCustomer(ctx context.Context, in ds.CustomerInput) (*ds.Customer, error) {
	return nil, ds.Errorf(ds.CodeUnsupportedByProvider, "no")
}

func (f *fake) UpdateCustomer(ctx context.Context, id string, in ds.CustomerInput) (*ds.Customer, error) {
	if err := f.begin(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, c := range f.items {
		if c.ProviderID == id {
			cp := *c
			cp.Name = in.Name
			f.items[i] = &cp
			return &cp, nil
		}
	}
	return nil, ds.ProviderErrorf(f.id, ds.CodeNotFound, "no such customer")
}

func (f *fake) DeleteCustomer(ctx context.Context, id string) error {
	if err := f.begin(ctx); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, c := range f.items {
		if c.ProviderID == id {
			f.items = append(f.items[:i], f.items[i+1:]...)
			return nil
		}
	}
	return nil
}

// clock is a clock the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)} }
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newLayer(t *testing.T, shared cache.Shared, c *clock) *cache.Layer {
	t.Helper()
	l := cache.New(cache.Options{TTL: time.Minute, StaleIfError: 24 * time.Hour, Shared: shared, Log: quiet(), Now: c.Now})
	l.Start()
	t.Cleanup(l.Close)
	return l
}

func pg(t *testing.T, url string) *postgres.DB { return pgtest.Open(t, url, postgres.Open) }

// levels runs a test with the in-process cache alone and with Postgres behind it.
func levels(t *testing.T, test func(t *testing.T, shared func() cache.Shared)) {
	t.Run("in process", func(t *testing.T) { test(t, func() cache.Shared { return nil }) })
	t.Run("with postgres", func(t *testing.T) {
		url := pgtest.Schema(t)
		test(t, func() cache.Shared { return pg(t, url) })
	})
}

func list(t *testing.T, ctx context.Context, p ds.CustomerProvider, token string, limit int) ds.Page[*ds.Customer] {
	t.Helper()
	page, err := p.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Token: token, Limit: limit})
	if err != nil {
		t.Fatal(err)
	}
	return page
}

func stats(ctx context.Context, p ds.ProviderID) ds.ProviderStats {
	s, _ := ds.ReportFrom(ctx).Snapshot()
	return s[p]
}

func reqCtx() context.Context {
	ctx, _ := ds.WithReport(context.Background())
	return ctx
}

func TestARepeatedReadMakesNoUpstreamCall(t *testing.T) {
	levels(t, func(t *testing.T, shared func() cache.Shared) {
		f := newFake(ds.Kintsugi, "k1", "ada", 30)
		p := newLayer(t, shared(), newClock()).Wrap(f)
		list(t, reqCtx(), p, "", 10)
		ctx := reqCtx()
		page := list(t, ctx, p, "", 10)
		if n := f.calls.Load(); n != 1 {
			t.Fatalf("upstream calls = %d, want 1", n)
		}
		if len(page.Items) != 10 || page.Next != "10" || *page.Items[3].Name != "ada 3" {
			t.Fatalf("cached page differs: %d items, next %q", len(page.Items), page.Next)
		}
		if s := stats(ctx, ds.Kintsugi); s.Freshness != ds.Cache || s.Calls != 0 {
			t.Fatalf("stats = %+v, want CACHE with no calls", s)
		}
		// Every record of the page is a record too: looking them up is free.
		got, err := p.GetCustomers(reqCtx(), []string{"ada2", "ada7"})
		if err != nil || len(got) != 2 || f.calls.Load() != 1 {
			t.Fatalf("lookup after list: %d records, %d calls, %v", len(got), f.calls.Load(), err)
		}
	})
}

func TestARestartedGatewayOnTheSameDatabaseMakesNoCall(t *testing.T) {
	url := pgtest.Schema(t)
	c := newClock()
	f := newFake(ds.DigitalRiver, "dr", "bo", 30)
	list(t, reqCtx(), newLayer(t, pg(t, url), c).Wrap(f), "", 20)
	c.Advance(30 * time.Second)
	fresh := newLayer(t, pg(t, url), c).Wrap(f) // a new process: empty first level
	ctx := reqCtx()
	page := list(t, ctx, fresh, "", 20)
	if f.calls.Load() != 1 || len(page.Items) != 20 {
		t.Fatalf("calls = %d, items = %d; want the page from Postgres with no call", f.calls.Load(), len(page.Items))
	}
	if s := stats(ctx, ds.DigitalRiver); s.Freshness != ds.Cache || s.Age != 30*time.Second {
		t.Fatalf("stats = %+v, want CACHE aged 30s", s)
	}
}

func TestPastTheTTLAFailingProviderIsServedStaleWithItsAge(t *testing.T) {
	levels(t, func(t *testing.T, shared func() cache.Shared) {
		c := newClock()
		f := newFake(ds.Telness, "te", "cy", 30)
		p := newLayer(t, shared(), c).Wrap(f)
		want := list(t, reqCtx(), p, "", 10)
		c.Advance(90 * time.Second)
		f.setFail(ds.ProviderErrorf(ds.Telness, ds.CodeProviderUnavailable, "the provider failed"))
		ctx := reqCtx()
		got := list(t, ctx, p, "", 10)
		if len(got.Items) != len(want.Items) || got.Items[0].ProviderID != want.Items[0].ProviderID {
			t.Fatalf("stale page differs")
		}
		s := stats(ctx, ds.Telness)
		if s.Freshness != ds.Stale || s.Age != 90*time.Second {
			t.Fatalf("stats = %+v, want STALE aged 90s", s)
		}
		if _, warnings := ds.ReportFrom(ctx).Snapshot(); len(warnings) != 1 || warnings[0].Provider == nil || *warnings[0].Provider != ds.Telness {
			t.Fatalf("warnings = %+v, want one naming TELNESS", warnings)
		}
		// Past the stale window the failure is the answer.
		c.Advance(25 * time.Hour)
		if _, err := p.ListCustomers(reqCtx(), ds.ListRequest[ds.Filter]{Limit: 10}); ds.ErrorCode(err) != ds.CodeProviderUnavailable {
			t.Fatalf("past stale_if_error: err = %v, want PROVIDER_UNAVAILABLE", err)
		}
	})
}

func TestOnlyProviderFailuresAreServedStale(t *testing.T) {
	c := newClock()
	f := newFake(ds.Kintsugi, "k", "di", 5)
	p := newLayer(t, nil, c).Wrap(f)
	list(t, reqCtx(), p, "", 5)
	c.Advance(2 * time.Minute)
	for _, code := range []ds.Code{ds.CodeBadUserInput, ds.CodeUnauthenticated, ds.CodeNotFound} {
		f.setFail(ds.ProviderErrorf(ds.Kintsugi, code, "no"))
		if _, err := p.ListCustomers(reqCtx(), ds.ListRequest[ds.Filter]{Limit: 5}); ds.ErrorCode(err) != code {
			t.Errorf("%s: err = %v, want it passed on, not a stale copy", code, err)
		}
	}
	f.setFail(ds.ProviderErrorf(ds.Kintsugi, ds.CodeProviderRateLimited, "slow down"))
	if _, err := p.ListCustomers(reqCtx(), ds.ListRequest[ds.Filter]{Limit: 5}); err != nil {
		t.Errorf("rate limited: %v, want the stale copy", err)
	}
}

func TestErrorsAreNeverCached(t *testing.T) {
	f := newFake(ds.Kintsugi, "k", "ed", 5)
	p := newLayer(t, nil, newClock()).Wrap(f)
	f.setFail(ds.ProviderErrorf(ds.Kintsugi, ds.CodeProviderUnavailable, "down"))
	if _, err := p.ListCustomers(reqCtx(), ds.ListRequest[ds.Filter]{Limit: 5}); err == nil {
		t.Fatal("want the failure")
	}
	f.setFail(nil)
	if page := list(t, reqCtx(), p, "", 5); len(page.Items) != 5 || f.calls.Load() != 2 {
		t.Fatalf("after recovery: %d items, %d calls; want a live answer", len(page.Items), f.calls.Load())
	}
}

func TestIdenticalCallsInFlightBecomeOne(t *testing.T) {
	f := newFake(ds.CommerceLayer, "cl", "fe", 30)
	f.delay = 100 * time.Millisecond
	p := newLayer(t, nil, newClock()).Wrap(f)
	var g errgroup.Group
	for range 20 {
		g.Go(func() error {
			page, err := p.ListCustomers(reqCtx(), ds.ListRequest[ds.Filter]{Limit: 25})
			if err == nil && len(page.Items) != 25 {
				err = fmt.Errorf("%d items", len(page.Items))
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if n := f.calls.Load(); n != 1 {
		t.Fatalf("20 identical requests in flight made %d upstream calls, want 1", n)
	}
}

func TestTwoCredentialsOnOneDatabaseNeverSeeEachOthersRecords(t *testing.T) {
	url := pgtest.Schema(t)
	c := newClock()
	a := newFake(ds.Kintsugi, "account-a", "alice", 10)
	b := newFake(ds.Kintsugi, "account-b", "bruno", 10)
	pa := newLayer(t, pg(t, url), c).Wrap(a)
	pb := newLayer(t, pg(t, url), c).Wrap(b) // another configuration, same database
	list(t, reqCtx(), pa, "", 10)
	page := list(t, reqCtx(), pb, "", 10)
	if b.calls.Load() != 1 || *page.Items[0].Name != "bruno 0" {
		t.Fatalf("account b got %q with %d calls: it must not be served account a's page", *page.Items[0].Name, b.calls.Load())
	}
	got, err := pb.GetCustomers(reqCtx(), []string{"alice1"})
	if err != nil || len(got) != 0 {
		t.Fatalf("account b looked up account a's record: %v %v", got, err)
	}
}

func TestWritesInvalidateWhatTheyChange(t *testing.T) {
	levels(t, func(t *testing.T, shared func() cache.Shared) {
		f := newFake(ds.DigitalRiver, "dr", "gu", 10)
		p := newLayer(t, shared(), newClock()).Wrap(f)
		list(t, reqCtx(), p, "", 10)
		name := "Guinevere"
		w, ok := p.(ds.CustomerWriter)
		if !ok {
			t.Fatal("a writing provider behind the cache must still write")
		}
		if _, err := w.UpdateCustomer(reqCtx(), "gu3", ds.CustomerInput{Name: &name}); err != nil {
			t.Fatal(err)
		}
		before := f.calls.Load()
		page := list(t, reqCtx(), p, "", 10)
		if f.calls.Load() != before+1 || *page.Items[3].Name != name {
			t.Fatalf("list after update: name %q, calls %d→%d; want a live page with the change", *page.Items[3].Name, before, f.calls.Load())
		}
		got, _ := p.GetCustomers(reqCtx(), []string{"gu3"})
		if len(got) != 1 || *got[0].Name != name {
			t.Fatalf("record after update: %+v", got)
		}
		if err := w.DeleteCustomer(reqCtx(), "gu5"); err != nil {
			t.Fatal(err)
		}
		if got, _ := p.GetCustomers(reqCtx(), []string{"gu5"}); len(got) != 0 {
			t.Fatalf("deleted record still served: %+v", got)
		}
	})
}

func TestARecordTheVendorNoLongerHasIsNotServedStale(t *testing.T) {
	c := newClock()
	f := newFake(ds.Kintsugi, "k", "ha", 5)
	p := newLayer(t, nil, c).Wrap(f)
	if got, _ := p.GetCustomers(reqCtx(), []string{"ha1", "ha2"}); len(got) != 2 {
		t.Fatal("setup")
	}
	c.Advance(2 * time.Minute)
	f.mu.Lock()
	f.items = f.items[2:] // ha0 and ha1 deleted at the vendor
	f.mu.Unlock()
	if got, _ := p.GetCustomers(reqCtx(), []string{"ha1", "ha2"}); len(got) != 1 {
		t.Fatalf("got %d records, want ha2 only", len(got))
	}
	c.Advance(2 * time.Minute)
	f.setFail(ds.ProviderErrorf(ds.Kintsugi, ds.CodeProviderUnavailable, "down"))
	got, err := p.GetCustomers(reqCtx(), []string{"ha1"})
	if len(got) != 0 || ds.ErrorCode(err) != ds.CodeProviderUnavailable {
		t.Fatalf("a deleted record came back stale: %v %v", got, err)
	}
	got, err = p.GetCustomers(reqCtx(), []string{"ha2"})
	if len(got) != 1 || err != nil {
		t.Fatalf("ha2 should be served stale: %v %v", got, err)
	}
}

func TestPostgresStoppedMidwayFailsNoRequest(t *testing.T) {
	proxy, url := pgtest.NewProxy(t, pgtest.Schema(t))
	f := newFake(ds.Telness, "te", "iv", 300)
	l := newLayer(t, pg(t, url), newClock())
	p := l.Wrap(f)
	list(t, reqCtx(), p, "", 50)
	if h := l.Health(); !h.Up {
		t.Fatalf("out of service before the cut: %+v", h)
	}
	proxy.Cut()
	for i := 1; i < 6; i++ { // pages not yet cached: live calls, no failure
		page := list(t, reqCtx(), p, strconv.Itoa(i*50), 50)
		if len(page.Items) != 50 {
			t.Fatalf("page %d: %d items", i, len(page.Items))
		}
	}
	if page := list(t, reqCtx(), p, "", 50); len(page.Items) != 50 {
		t.Fatal("the first level still serves what it has")
	}
	if h := l.Health(); h.Up || h.Reason == "" {
		t.Fatalf("Health says nothing while Postgres is unreachable: %+v", h)
	}
	if err := l.Ready(context.Background()); err != nil {
		t.Fatalf("Postgres down makes the gateway unready: %v", err)
	}
	proxy.Restore()
	deadline := time.Now().Add(10 * time.Second)
	for !l.Health().Up {
		if time.Now().After(deadline) {
			t.Fatal("the layer did not take Postgres back after it returned")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestTheFirstLevelIsBounded(t *testing.T) {
	m := cache.NewMemory(3, 1<<20, time.Hour, nil)
	ctx := context.Background()
	for i := range 10 {
		_ = m.Put(ctx, []cache.Entry{{Key: strconv.Itoa(i), Body: []byte("{}"), StoredAt: time.Now()}})
	}
	if m.Len() != 3 {
		t.Fatalf("entries = %d, want 3", m.Len())
	}
	small := cache.NewMemory(1000, 1000, time.Hour, nil)
	for i := range 10 {
		_ = small.Put(ctx, []cache.Entry{{Key: strconv.Itoa(i), Body: make([]byte, 300), StoredAt: time.Now()}})
	}
	if small.Len() > 2 {
		t.Fatalf("entries = %d of 364 bytes each in a 1000-byte level", small.Len())
	}
	got, _ := small.Get(ctx, []string{"9"})
	if len(got) != 1 {
		t.Fatal("the newest entry was evicted")
	}
}

func TestSyncWalksTheWholeListIntoTheIndex(t *testing.T) {
	levels(t, func(t *testing.T, shared func() cache.Shared) {
		f := newFake(ds.Kintsugi, "k", "sy", 250)
		l := newLayer(t, shared(), newClock())
		p := l.Wrap(f)
		s := l.NewSyncer(cache.SyncOptions{Interval: map[ds.ProviderID]time.Duration{ds.Kintsugi: time.Hour}, Gap: -1}, []ds.CustomerProvider{p}, nil)
		if st, _ := s.Status(context.Background(), ds.Kintsugi); st.Complete || st.Records != 0 || !st.Enabled {
			t.Fatalf("before: %+v", st)
		}
		if err := s.SyncNow(context.Background(), ds.Kintsugi); err != nil {
			t.Fatal(err)
		}
		st, _ := s.Status(context.Background(), ds.Kintsugi)
		if !st.Complete || st.Records != 250 || st.LastRunAt == nil || st.LastError != nil {
			t.Fatalf("after: %+v", st)
		}
		if n := f.calls.Load(); n != 3 {
			t.Fatalf("sync took %d calls, want 3 pages of 100", n)
		}
		ids, err := l.Index().ByEmail(context.Background(), []ds.Scope{{Provider: ds.Kintsugi, Credential: "k"}}, []string{"SY249@example.com"})
		if err != nil || len(ids) != 1 || ids[0].VendorID != "sy249" {
			t.Fatalf("index by email: %+v %v", ids, err)
		}
		// Records the sync read are in the store: a lookup costs nothing.
		if got, _ := p.GetCustomers(reqCtx(), []string{"sy0", "sy249"}); len(got) != 2 || f.calls.Load() != 3 {
			t.Fatalf("lookup after sync: %d records, %d calls", len(got), f.calls.Load())
		}
		f.setFail(ds.ProviderErrorf(ds.Kintsugi, ds.CodeProviderUnavailable, "down"))
		if err := s.SyncNow(context.Background(), ds.Kintsugi); err == nil {
			t.Fatal("a failing walk must say so")
		}
		st, _ = s.Status(context.Background(), ds.Kintsugi)
		if !st.Complete || st.LastError == nil {
			t.Fatalf("after a failed walk: %+v, want still complete with the error", st)
		}
	})
}

func TestAFollowerIsNotFailedByTheLeadersSpentBudget(t *testing.T) {
	f := newFake(ds.Kintsugi, "c", "k", 5)
	f.delay = 100 * time.Millisecond
	p := newLayer(t, nil, newClock()).Wrap(f)
	leaderCtx := ds.WithCallBudget(reqCtx(), 1)
	if err := ds.SpendCall(leaderCtx, ds.Kintsugi); err != nil {
		t.Fatal(err)
	}
	leader := make(chan error, 1)
	go func() {
		_, err := p.ListCustomers(leaderCtx, ds.ListRequest[ds.Filter]{Limit: 5})
		leader <- err
	}()
	time.Sleep(30 * time.Millisecond) // the follower joins the leader's call in flight
	page, err := p.ListCustomers(reqCtx(), ds.ListRequest[ds.Filter]{Limit: 5})
	if err != nil || len(page.Items) != 5 {
		t.Fatalf("the follower got %d customers, %v", len(page.Items), err)
	}
	if err := <-leader; !errors.Is(err, ds.ErrCallBudget) {
		t.Fatalf("the leader: %v, want its spent budget", err)
	}
}

func TestInventedIDsCostOneCallPerNegativeTTL(t *testing.T) {
	f := newFake(ds.Kintsugi, "c", "k", 3)
	c := newClock()
	p := newLayer(t, nil, c).Wrap(f)
	invented := []string{"nope-1", "nope-2", "nope-3"}
	for _, tc := range []struct {
		name      string
		advance   time.Duration
		ids       []string
		wantCalls int32
		wantFound int
	}{
		{"first ask", 0, invented, 1, 0},
		{"asked again at once: no call", 0, invented, 1, 0},
		{"with a real id: only it is asked", 0, append([]string{"k0"}, invented...), 2, 1},
		{"20s later: still no call", 20 * time.Second, invented, 2, 0},
		{"past the negative TTL: asked again", 11 * time.Second, invented, 3, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.Advance(tc.advance)
			got, err := p.GetCustomers(reqCtx(), tc.ids)
			if err != nil || len(got) != tc.wantFound {
				t.Fatalf("%d found, %v", len(got), err)
			}
			if n := f.calls.Load(); n != tc.wantCalls {
				t.Errorf("%d upstream calls in all, want %d", n, tc.wantCalls)
			}
		})
	}
}
