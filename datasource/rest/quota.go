package rest

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/time/rate"

	ds "github.com/federated-customers/gateway/datasource"
)

// waitQuota takes a token from the provider's outbound bucket, waiting while
// ctx (the request's deadline within the provider's budget) allows; when the
// wait cannot fit, it fails at once with PROVIDER_RATE_LIMITED rather than
// send a call the vendor would reject.
func (g *Guard) waitQuota(ctx context.Context) error {
	if g.limiter == nil {
		return nil
	}
	start := time.Now()
	r := g.limiter.Reserve()
	if !r.OK() {
		return g.quotaError(0)
	}
	delay := r.Delay()
	// No wait is no quota shortage, even when the deadline has passed (the
	// caller says so as its own error, not as PROVIDER_RATE_LIMITED).
	if deadline, ok := ctx.Deadline(); ok && delay > 0 && start.Add(delay).After(deadline) {
		r.Cancel()
		return g.quotaError(delay)
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-ctx.Done():
			r.Cancel()
			return g.quotaError(delay)
		case <-t.C:
		}
	}
	g.metrics.quotaWait.Observe(time.Since(start).Seconds())
	return nil
}

func (g *Guard) quotaError(wait time.Duration) error {
	g.metrics.quotaRejected.Inc()
	e := g.fail(ds.CodeProviderRateLimited, "the gateway's outbound quota for the provider is used up for the time this request has left", nil)
	e.RetryAfter = wait
	e.Err = fmt.Errorf("quota %.3g/s burst %d", float64(g.limiter.Limit()), g.limiter.Burst())
	return e
}

// hint adjusts the bucket from a vendor's live rate headers (Commerce
// Layer's X-Ratelimit-Limit / -Interval / -Remaining): a documented rate
// lower than the configured one wins, and Remaining 0 empties the bucket
// so the next calls wait instead of drawing 429s.
func (g *Guard) hint(h http.Header) {
	if g.limiter == nil {
		return
	}
	limit, interval, remaining, ok := rateHeaders(h)
	if !ok {
		return
	}
	now := time.Now()
	if r := rate.Limit(limit / interval.Seconds()); r < g.limiter.Limit() {
		g.limiter.SetLimitAt(now, r)
	}
	if remaining == 0 {
		g.limiter.ReserveN(now, int(math.Max(1, g.limiter.Tokens())))
	}
}

// rateHeaders reads X-Ratelimit-Limit, X-Ratelimit-Interval (seconds) and
// X-Ratelimit-Remaining (-1 when absent).
func rateHeaders(h http.Header) (limit float64, interval time.Duration, remaining int, ok bool) {
	l, err1 := strconv.ParseFloat(h.Get("X-Ratelimit-Limit"), 64)
	i, err2 := strconv.ParseFloat(h.Get("X-Ratelimit-Interval"), 64)
	if err1 != nil || err2 != nil || l <= 0 || i <= 0 || math.IsInf(l, 0) || math.IsInf(i, 0) || i > 86400 {
		return 0, 0, 0, false
	}
	remaining = -1
	if r, err := strconv.Atoi(h.Get("X-Ratelimit-Remaining")); err == nil && r >= 0 {
		remaining = r
	}
	return l, time.Duration(i * float64(time.Second)), remaining, true
}

// rateHintWait is how long to wait before retrying a 429 that carries
// X-Ratelimit-* but no Retry-After: one request's share of the window.
func rateHintWait(h http.Header) time.Duration {
	limit, interval, _, ok := rateHeaders(h)
	if !ok {
		return 0
	}
	return time.Duration(float64(interval) / limit)
}

// shareOf is one of n replicas' part of a quota of rate/s with bursts of
// burst: rate/n with bursts of burst/n. A bucket holds at least one token,
// so when burst/n rounds below 1 the n buckets together would burst to n,
// more than burst, and overdraw the vendor's window (Digital River's test
// key: two replicas at 9/s with a token each send 20 in a second, not the
// 19 the quota allows); their rate then gives up the extra burst, down to
// half of rate/n when there are more replicas than the window can hold.
func shareOf(rate float64, burst, n int) (float64, int) {
	b := max(1, burst/n)
	r := rate / float64(n)
	if over := float64(n*b - burst); over > 0 {
		r = max(r/2, r-over/float64(n))
	}
	return r, b
}

// SetShare divides the quota among n replicas calling with the same
// credential (n < 1 counts as 1), as shareOf says.
func (g *Guard) SetShare(n int) {
	if g.limiter == nil {
		return
	}
	n = max(1, n)
	g.mu.Lock()
	changed := g.share != n
	g.share = n
	g.mu.Unlock()
	if !changed {
		return
	}
	now := time.Now()
	r, b := shareOf(g.policy.Rate, g.policy.Burst, n)
	g.limiter.SetLimitAt(now, rate.Limit(r))
	g.limiter.SetBurstAt(now, b)
	quotaShare.WithLabelValues(g.provider.String()).Set(float64(n))
}

// Share is how many replicas the quota is divided among.
func (g *Guard) Share() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return max(1, g.share)
}
