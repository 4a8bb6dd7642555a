package datasource

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Freshness says where an answer came from.
type Freshness string

const (
	Live  Freshness = "LIVE"
	Cache Freshness = "CACHE"
	Stale Freshness = "STALE"
	// Synced is an answer from the complete synced store (synced.go); its
	// age is that of the provider's last complete sync walk.
	Synced Freshness = "SYNCED"
)

// Report collects, for one GraphQL request, what each provider cost and how
// fresh its data was, plus warnings about providers left out. It is put in
// the request context and read into the response's extensions.
type Report struct {
	mu        sync.Mutex
	providers map[ProviderID]*ProviderStats
	warnings  []Warning
	// until is when the first cached copy served in this request expires
	// (zero before any); uncacheable marks an answer that is not a function
	// of the cache's contents (breaker health, sync progress). Together they
	// say whether, and how long, the whole response may be answered again.
	until       time.Time
	uncacheable bool
	readsIndex  bool
	// spent is each provider's budget use in this request: the time during
	// which at least one call to it (or a wait on another request's
	// coalesced call to it) was in flight. A provider's per-request budget
	// is spent only while the request waits on it, so a provider reached
	// late in the request (after a hung one) still has its whole budget,
	// and a request that waited on another's call does not get a fresh
	// budget when it calls itself.
	spent map[ProviderID]*budgetUse
	// memo is what the request read, reused within it (memo.go).
	memo requestMemo
}

// ProviderStats is one provider's line in extensions.providers.
type ProviderStats struct {
	Calls    int
	Duration time.Duration
	// Freshness is the least fresh answer the provider gave in this request.
	Freshness Freshness
	// Age is the age of the oldest cached or stale copy served (0 when all live).
	Age time.Duration
	// Cached is how many records were served without an upstream call.
	Cached int
}

// Warning tells the client something was left out or approximated.
type Warning struct {
	Code     Code
	Provider *ProviderID
	Message  string
}

type reportKey struct{}

// WithReport returns a context that collects a Report.
func WithReport(ctx context.Context) (context.Context, *Report) {
	r := &Report{providers: map[ProviderID]*ProviderStats{}, spent: map[ProviderID]*budgetUse{}}
	return context.WithValue(ctx, reportKey{}, r), r
}

// ReportFrom returns the request's Report, or nil.
func ReportFrom(ctx context.Context) *Report {
	r, _ := ctx.Value(reportKey{}).(*Report)
	return r
}

// RecordCall notes one upstream call (or cache answer) for provider p.
func RecordCall(ctx context.Context, p ProviderID, d time.Duration, f Freshness) {
	r := ReportFrom(ctx)
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.providers[p]
	if s == nil {
		s = &ProviderStats{Freshness: f}
		r.providers[p] = s
	}
	if f == Live {
		s.Calls++
	}
	s.Duration += d
	if rank(f) > rank(s.Freshness) {
		s.Freshness = f
	}
}

// RecordCached notes an answer for provider p that was served from the cache
// (CACHE within the TTL, STALE past it because the provider failed), with the
// age of the copy, how many records it held and, for a CACHE answer, when
// the copy stops being fresh. It counts no upstream call.
func RecordCached(ctx context.Context, p ProviderID, f Freshness, age time.Duration, records int, freshUntil time.Time) {
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.AddEvent("cached answer", trace.WithAttributes(attribute.String("gateway.provider", p.String()),
			attribute.String("gateway.freshness", string(f)), attribute.Int("gateway.age_seconds", int(age/time.Second)), attribute.Int("gateway.records", records)))
	}
	r := ReportFrom(ctx)
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if f == Cache && !freshUntil.IsZero() && (r.until.IsZero() || freshUntil.Before(r.until)) {
		r.until = freshUntil
	}
	s := r.providers[p]
	if s == nil {
		s = &ProviderStats{Freshness: f}
		r.providers[p] = s
	}
	if rank(f) > rank(s.Freshness) {
		s.Freshness = f
	}
	if age > s.Age {
		s.Age = age
	}
	if f != Live {
		s.Cached += records
	}
}

func rank(f Freshness) int {
	switch f {
	case Cache:
		return 1
	case Synced:
		return 2
	case Stale:
		return 3
	}
	return 0
}

// Warn adds a warning to the request's report, once per distinct message.
func Warn(ctx context.Context, w Warning) {
	r := ReportFrom(ctx)
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, have := range r.warnings {
		if have.Message == w.Message {
			return
		}
	}
	r.warnings = append(r.warnings, w)
}

// budgetUse is one provider's budget use in one request.
type budgetUse struct {
	inFlight int
	since    time.Time     // when inFlight last went from 0 to 1
	spent    time.Duration // closed spans
}

func (u *budgetUse) at(now time.Time) time.Duration {
	if u.inFlight > 0 {
		return u.spent + now.Sub(u.since)
	}
	return u.spent
}

// BudgetDeadline is when provider p's per-request budget of the request in
// ctx runs out if the request keeps waiting on p from now on: budget minus
// what the request has spent waiting on p so far (see Spend). ok is false
// when ctx carries no request (a background sync), which has no such budget.
func BudgetDeadline(ctx context.Context, p ProviderID, budget time.Duration) (deadline time.Time, ok bool) {
	r := ReportFrom(ctx)
	if r == nil || budget <= 0 {
		return time.Time{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	spent := time.Duration(0)
	if u := r.spent[p]; u != nil {
		spent = u.at(now)
	}
	return now.Add(budget - spent), true
}

// Spend notes that the request in ctx waits on provider p (a call, its
// quota wait, or another request's coalesced call) until the returned
// func is called (more than once is harmless): that time is spent from p's
// per-request budget.
func Spend(ctx context.Context, p ProviderID) (done func()) {
	r := ReportFrom(ctx)
	if r == nil {
		return func() {}
	}
	r.mu.Lock()
	u := r.spent[p]
	if u == nil {
		u = &budgetUse{}
		r.spent[p] = u
	}
	if u.inFlight == 0 {
		u.since = time.Now()
	}
	u.inFlight++
	r.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			if u.inFlight--; u.inFlight == 0 {
				u.spent += time.Since(u.since)
			}
		})
	}
}

// Uncacheable marks the request's answer as not a function of the cache's
// contents alone, so it is never answered again from a stored response.
func Uncacheable(ctx context.Context) { mark(ctx, func(r *Report) { r.uncacheable = true }) }

// ReadIndex notes that the request read the identity index or sync state
// (links, sources): its stored response then also depends on the index.
func ReadIndex(ctx context.Context) { mark(ctx, func(r *Report) { r.readsIndex = true }) }

// mark sets a flag on the request's report, if it has one.
func mark(ctx context.Context, set func(*Report)) {
	if r := ReportFrom(ctx); r != nil {
		r.mu.Lock()
		set(r)
		r.mu.Unlock()
	}
}

// ReadsIndex reports whether the request read the identity index.
func (r *Report) ReadsIndex() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.readsIndex
}

// CachedUntil says whether every provider answer in the request came from
// fresh cached copies (no upstream call, nothing stale, nothing live), and
// until when all of them stay fresh. ok is false when any answer was live or
// stale, the request touched no provider, or it was marked Uncacheable.
func (r *Report) CachedUntil() (until time.Time, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.uncacheable || r.until.IsZero() || len(r.providers) == 0 {
		return time.Time{}, false
	}
	for _, s := range r.providers {
		if s.Freshness != Cache || s.Calls > 0 {
			return time.Time{}, false
		}
	}
	return r.until, true
}

// Snapshot returns copies of the per-provider stats and the warnings.
func (r *Report) Snapshot() (map[ProviderID]ProviderStats, []Warning) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[ProviderID]ProviderStats, len(r.providers))
	for p, s := range r.providers {
		out[p] = *s
	}
	return out, append([]Warning(nil), r.warnings...)
}

// Lener is an answer that knows how many records it holds (a Page).
type Lener interface{ Len() int }
