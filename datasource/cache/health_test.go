package cache_test

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/cache"
	"github.com/federated-customers/gateway/postgres/pgtest"
)

// stalling is a second level whose next writes stall past their bound and
// whose probe can be made to fail.
type stalling struct {
	cache.Shared
	stallPuts atomic.Int32
	pingFails atomic.Bool
}

func (s *stalling) Put(ctx context.Context, entries []cache.Entry) error {
	if s.stallPuts.Add(-1) >= 0 {
		<-ctx.Done()
		return ctx.Err()
	}
	return s.Shared.Put(ctx, entries)
}

func (s *stalling) Ping(ctx context.Context) error {
	if s.pingFails.Load() {
		return errors.New("no answer")
	}
	return s.Shared.Ping(ctx)
}

func TestTheSecondLevelLeavesServiceOnEvidenceNotOneSlowStatement(t *testing.T) {
	s := &stalling{Shared: pg(t, pgtest.Schema(t))}
	l := newLayer(t, s, newClock())
	p := l.Wrap(newFake(ds.Telness, "te", "iv", 300))
	list(t, reqCtx(), p, "", 10)
	if h := l.Health(); !h.Up || !h.Configured {
		t.Fatalf("before: %+v", h)
	}

	// one write slower than its bound: the level stays in service
	s.stallPuts.Store(1)
	list(t, reqCtx(), p, "10", 10)
	if h := l.Health(); !h.Up || h.LastError == "" {
		t.Fatalf("one slow statement: %+v, want in service, the failure seen", h)
	}
	list(t, reqCtx(), p, "20", 10) // a write that succeeds clears the count
	if h := l.Health(); !h.Up || h.ConsecutiveFailures != 0 {
		t.Fatalf("after a good write: %+v", h)
	}

	// writes failing in a row, and a probe that fails: out, with a reason
	s.pingFails.Store(true)
	s.stallPuts.Store(3)
	for i := range 3 {
		list(t, reqCtx(), p, strconv.Itoa(100+10*i), 10)
	}
	h := l.Health()
	if h.Up || h.Reason == "" || h.LastError == "" {
		t.Fatalf("after three failed writes and a failed probe: %+v, want out of service with a reason", h)
	}
	if err := l.Ready(context.Background()); err != nil {
		t.Fatalf("out of service makes the gateway unready: %v", err)
	}
	s.pingFails.Store(false)
	deadline := time.Now().Add(10 * time.Second)
	for !l.Health().Up {
		if time.Now().After(deadline) {
			t.Fatal("not back in service after the probe answers")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
