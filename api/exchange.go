package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
)

// exchange is one GraphQL request as api keeps it, from the observer to the
// written response, under one context key. The observer makes it (with the
// access record); the endpoint fills in the caller's part before the
// GraphQL engine runs; the limits extension reserves quota and holds a
// costly-lane turn; the response middleware settles the response cache's
// part; statusFixer applies the refusal and cache headers it carries.
// (The caller's service travels once, in the request's loaders: request.Of.)
type exchange struct {
	access *access // the log line's, span's and metrics' record (its own lock)

	// set by the endpoint before the engine runs
	apqScope string      // the caller's APQ registrations (persisted.go)
	quota    *quotaState // the key's calls per minute and this request's reservation (nil-safe)
	pending  *pending    // the response cache's part and the answer's cache headers

	mu       sync.Mutex
	logged   map[string]bool // provider failures already logged (logOnce)
	releases []func()        // held until the response is written (hold)
}

type exchangeKey struct{}

// withExchange gives ctx a new exchange.
func withExchange(ctx context.Context) (context.Context, *exchange) {
	x := &exchange{access: &access{}}
	return context.WithValue(ctx, exchangeKey{}, x), x
}

// exchangeOf is the request's exchange, nil outside one.
func exchangeOf(ctx context.Context) *exchange {
	x, _ := ctx.Value(exchangeKey{}).(*exchange)
	return x
}

// begin readies x for the engine: the caller's APQ scope (the SHA-256 of
// its key; zero when the endpoint is open), so each key has its own
// registrations (one caller can neither evict another's nor probe which
// queries it runs), its quota and the response cache's part.
func (x *exchange) begin(who [32]byte, quota *callQuota, pend *pending) {
	sum := sha256.Sum256(append([]byte("apq\x00"), who[:]...))
	x.apqScope = hex.EncodeToString(sum[:16])
	x.quota = &quotaState{quota: quota}
	x.pending = pend
}

// hold keeps f to run when the request ends; outside a request it runs at once.
func hold(ctx context.Context, f func()) {
	x := exchangeOf(ctx)
	if x == nil {
		f()
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.releases = append(x.releases, f)
}

// release runs what the request held.
func (x *exchange) release() {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, f := range x.releases {
		f()
	}
	x.releases = nil
}

// firstLog reports whether a provider failure of kind k is logged for the
// first time in this request (always outside one).
func firstLog(ctx context.Context, k string) bool {
	x := exchangeOf(ctx)
	if x == nil {
		return true
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.logged[k] {
		return false
	}
	if x.logged == nil {
		x.logged = map[string]bool{}
	}
	x.logged[k] = true
	return true
}

// quotaFrom is the request's quota state (nil outside a request; its methods take nil).
func quotaFrom(ctx context.Context) *quotaState {
	if x := exchangeOf(ctx); x != nil {
		return x.quota
	}
	return nil
}

// pendingFrom is the request's response-cache part (nil outside a request).
func pendingFrom(ctx context.Context) *pending {
	if x := exchangeOf(ctx); x != nil {
		return x.pending
	}
	return nil
}

// note changes the request's access record, if it has one.
func note(ctx context.Context, f func(a *access)) {
	if x := exchangeOf(ctx); x != nil {
		a := x.access
		a.mu.Lock()
		f(a)
		a.mu.Unlock()
	}
}
