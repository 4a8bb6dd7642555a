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
	"golang.org/x/time/rate"

	ds "github.com/federated-customers/gateway/datasource"
)

// callQuota is one API key's upstream calls per minute. A query is admitted
// when what is left covers its estimate; what it really called is charged
// when it ends, so one caller never takes more than its share of the
// vendors' quotas, whatever the estimate's margin.
type callQuota struct {
	perMinute int
	lim       *rate.Limiter
}

func newCallQuota(perMinute int) *callQuota {
	return &callQuota{perMinute: perMinute, lim: rate.NewLimiter(rate.Limit(float64(perMinute)/60), perMinute)}
}

type quotaKey struct{}

// quotaState is one request's view of its key's quota. A request refused
// for it is answered 429 with Retry-After: the refusal is noted during the
// operation and applied when the status is written.
type quotaState struct {
	quota      *callQuota
	mu         sync.Mutex
	retryAfter int // seconds; 0: not refused
	status     int // the HTTP status of the refusal
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

func withQuota(ctx context.Context, q *callQuota) (context.Context, *quotaState) {
	st := &quotaState{quota: q}
	return context.WithValue(ctx, quotaKey{}, st), st
}

func quotaFrom(ctx context.Context) *quotaState {
	st, _ := ctx.Value(quotaKey{}).(*quotaState)
	return st
}

// admit refuses an estimate the key's quota cannot cover now.
func (st *quotaState) admit(est int) *gqlerror.Error {
	if st == nil || st.quota == nil || est == 0 {
		return nil
	}
	q := st.quota
	if est > q.perMinute {
		return tooComplex("the query would make up to %d upstream calls, more than this API key's %d per minute", est, q.perMinute)
	}
	left := q.lim.Tokens()
	if left >= float64(est) {
		return nil
	}
	wait := (float64(est) - left) / float64(q.lim.Limit())
	st.refuse(http.StatusTooManyRequests, int(math.Ceil(wait)))
	return &gqlerror.Error{
		Message: fmt.Sprintf("this API key may make %d upstream calls per minute; the query needs up to %d and %d are left: retry after the time in Retry-After",
			q.perMinute, est, int(max(0, left))),
		Extensions: map[string]any{"code": string(ds.CodeProviderRateLimited)},
	}
}

// charge takes the calls a request made from its key's quota.
func (st *quotaState) charge(ctx context.Context) {
	if st == nil || st.quota == nil {
		return
	}
	rep := ds.ReportFrom(ctx)
	if rep == nil {
		return
	}
	stats, _ := rep.Snapshot()
	n := 0
	for _, s := range stats {
		n += s.Calls
	}
	if n > 0 {
		st.quota.lim.ReserveN(time.Now(), min(n, st.quota.perMinute))
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
