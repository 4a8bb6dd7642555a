package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
)

// shedder bounds the GraphQL requests in flight. Past the limit a request
// waits in a short queue; when the queue is full too, or its wait is over,
// it is answered 503 with Retry-After at once, so an overloaded gateway
// keeps its memory and its deadlines instead of piling up work.
type shedder struct {
	slots chan struct{}
	queue chan struct{}
	wait  time.Duration
}

// newShedder lets inFlight requests run and queue more wait up to wait;
// the metrics count the 503s by status.
func newShedder(inFlight, queue int, wait time.Duration) *shedder {
	return &shedder{slots: make(chan struct{}, inFlight), queue: make(chan struct{}, queue), wait: wait}
}

// admit takes a slot for r, or answers 503 and returns false.
func (s *shedder) admit(w http.ResponseWriter, r *http.Request) (release func(), ok bool) {
	if !s.acquire(r) {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(s.wait/time.Second))))
		writeError(w, r, http.StatusServiceUnavailable, ds.CodeProviderUnavailable,
			"the gateway is at capacity: retry after the time in Retry-After")
		return nil, false
	}
	return func() { <-s.slots }, true
}

func (s *shedder) acquire(r *http.Request) bool {
	select {
	case s.slots <- struct{}{}:
		return true
	default:
	}
	select {
	case s.queue <- struct{}{}:
	default:
		return false // the queue is full: no wait at all
	}
	defer func() { <-s.queue }()
	t := time.NewTimer(s.wait)
	defer t.Stop()
	select {
	case s.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-r.Context().Done():
		return false
	}
}

// lane lets at most n costly queries (estimate over Limits.HeavyCalls) run
// at once; the others wait for their turn up to wait. Costly queries spend
// the gateway's CPU and the vendors' quotas, so they must not crowd out
// ordinary traffic however many arrive together.
type lane struct {
	slots chan struct{}
	wait  time.Duration
}

// enter waits for a slot; the returned func gives it back.
func (l *lane) enter(ctx context.Context) (func(), bool) {
	t := time.NewTimer(l.wait)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return func() { <-l.slots }, true
	case <-t.C:
		return nil, false
	case <-ctx.Done():
		return nil, false
	}
}
