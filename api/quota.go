package api

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/vektah/gqlparser/v2/gqlerror"

	ds "github.com/federated-customers/gateway/datasource"
)

// callQuota is one API key's upstream calls per minute, a token bucket of
// perMinute tokens refilled at perMinute a minute. A query's estimate is
// taken from it before the query runs (so requests arriving together cannot
// all be admitted against the same tokens); when it ends, the estimate is
// given back and what it really called, retries included, is taken instead.
// A request that made more than its estimate leaves the key in debt, and the
// key's next query waits the debt off: one caller never takes more than its
// share of the vendors' quotas, whatever the estimate's margin.
type callQuota struct {
	perMinute int
	mu        sync.Mutex
	tokens    float64 // may be negative: calls made past the estimates
	last      time.Time
}

func newCallQuota(perMinute int) *callQuota {
	return &callQuota{perMinute: perMinute, tokens: float64(perMinute), last: time.Now()}
}

// perSecond is the bucket's refill rate.
func (q *callQuota) perSecond() float64 { return float64(q.perMinute) / 60 }

// refill adds the tokens earned since the last look; q.mu is held.
func (q *callQuota) refill(now time.Time) {
	if d := now.Sub(q.last); d > 0 {
		q.tokens = min(float64(q.perMinute), q.tokens+d.Seconds()*q.perSecond())
		q.last = now
	}
}

// reserve takes n tokens, or says how many are left and how long until n are.
func (q *callQuota) reserve(n int) (ok bool, left float64, wait time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.refill(time.Now())
	if q.tokens >= float64(n) {
		q.tokens -= float64(n)
		return true, q.tokens, 0
	}
	return false, q.tokens, time.Duration((float64(n) - q.tokens) / q.perSecond() * float64(time.Second))
}

// settle gives back a request's reservation and takes what it made.
func (q *callQuota) settle(reserved, made int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.refill(time.Now())
	q.tokens = min(float64(q.perMinute), q.tokens+float64(reserved-made))
}

// quotaState is one request's view of its key's quota. A request refused
// for it is answered 429 with Retry-After: the refusal is noted during the
// operation and applied when the status is written.
type quotaState struct {
	quota      *callQuota
	mu         sync.Mutex
	retryAfter int // seconds; 0: not refused
	status     int // the HTTP status of the refusal
	reserved   int // the estimate taken from the quota at admission
}

// refuse notes that the request is answered with status and Retry-After.
func (st *quotaState) refuse(status, retryAfter int) {
	if st == nil {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.status, st.retryAfter = status, max(1, retryAfter)
}

// admit takes the estimate from the key's quota, or refuses a query the
// quota cannot cover now.
func (st *quotaState) admit(est int) *gqlerror.Error {
	if st == nil || st.quota == nil || est == 0 {
		return nil
	}
	q := st.quota
	if est > q.perMinute {
		return tooComplex("the query would make up to %d upstream calls, more than this API key's %d per minute", est, q.perMinute)
	}
	ok, left, wait := q.reserve(est)
	if ok {
		st.mu.Lock()
		st.reserved += est
		st.mu.Unlock()
		return nil
	}
	st.refuse(http.StatusTooManyRequests, int(math.Ceil(wait.Seconds())))
	return &gqlerror.Error{
		Message: fmt.Sprintf("this API key may make %d upstream calls per minute; the query needs up to %d and %d are left: retry after the time in Retry-After",
			q.perMinute, est, int(max(0, left))),
		Extensions: map[string]any{"code": string(ds.CodeProviderRateLimited)},
	}
}

// charge settles the request with its key's quota: its reservation back,
// the calls it made taken.
func (st *quotaState) charge(ctx context.Context) {
	if st == nil || st.quota == nil {
		return
	}
	n := 0
	if rep := ds.ReportFrom(ctx); rep != nil {
		stats, _ := rep.Snapshot()
		for _, s := range stats {
			n += s.Calls
		}
	}
	st.mu.Lock()
	reserved := st.reserved
	st.reserved = 0
	st.mu.Unlock()
	if n > 0 || reserved > 0 {
		st.quota.settle(reserved, n)
	}
}

// apply gives a refused request its status (429, 503) and Retry-After.
func (st *quotaState) apply(h http.Header, code int) int {
	if st == nil {
		return code
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.retryAfter == 0 {
		return code
	}
	h.Set("Retry-After", strconv.Itoa(st.retryAfter))
	return st.status
}
