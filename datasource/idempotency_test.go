package datasource

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for the in-process store.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestIdempotentKeepsFinalOutcomesAndRetriesTheRest(t *testing.T) {
	key := "k"
	for _, tc := range []struct {
		name  string
		err   error
		wait  time.Duration // clock moved between the two requests
		runs  int           // how often the write runs for two requests
		code  Code          // the second request's error code ("" = none)
		again bool          // the second answer is the first's value
	}{
		{"a success is replayed", nil, 0, 1, "", true},
		{"a caller's error is replayed", Errorf(CodeBadUserInput, "bad"), 0, 1, CodeBadUserInput, false},
		{"a provider failure is tried again", ProviderErrorf(DigitalRiver, CodeProviderUnavailable, "down"), 0, 2, CodeProviderUnavailable, false},
		{"a success past the 24 h runs again", nil, IdempotencyTTL, 2, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{now: time.Unix(1e9, 0)}
			store := &MemoryIdempotency{Now: clock.Now}
			runs := 0
			run := func(context.Context) (string, error) {
				runs++
				if tc.err != nil {
					return "", tc.err
				}
				return "value", nil
			}
			ctx := WithIdempotency(context.Background(), "scope", "")
			_, _ = Idempotent(ctx, store, "op", "f", &key, "input", run)
			clock.Add(tc.wait)
			v, err := Idempotent(ctx, store, "op", "f", &key, "input", run)
			if runs != tc.runs {
				t.Errorf("the write ran %d times, want %d", runs, tc.runs)
			}
			if tc.code != "" && ErrorCode(err) != tc.code || tc.code == "" && err != nil {
				t.Errorf("second answer err %v, want code %q", err, tc.code)
			}
			if tc.again && v != "value" {
				t.Errorf("second answer %q, want the value", v)
			}
		})
	}
}

func TestIdempotentWaitsForTheFirstAndGivesUpWithItsContext(t *testing.T) {
	store := &MemoryIdempotency{}
	key := "k"
	ctx := WithIdempotency(context.Background(), "", "")
	release := make(chan struct{})
	started := make(chan struct{})
	go func() {
		_, _ = Idempotent(ctx, store, "op", "f", &key, "in", func(context.Context) (int, error) {
			close(started)
			<-release
			return 1, nil
		})
	}()
	<-started
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err := Idempotent(short, store, "op", "f", &key, "in", func(context.Context) (int, error) {
		t.Error("the repeat ran while the first was running")
		return 2, nil
	})
	if ErrorCode(err) != CodeProviderUnavailable || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a repeat whose context ends while waiting: %v, want PROVIDER_UNAVAILABLE", err)
	}
	close(release)
	v, err := Idempotent(ctx, store, "op", "f", &key, "in", func(context.Context) (int, error) { return 3, nil })
	if err != nil || v != 1 {
		t.Errorf("after the first finished: %d %v, want its outcome 1", v, err)
	}
}

func TestAnAbandonedClaimIsTakenOverAfterItsLease(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	store := &MemoryIdempotency{Now: clock.Now}
	if _, claimed, _ := store.Claim(context.Background(), "k", "f"); !claimed {
		t.Fatal("not claimed")
	}
	if _, claimed, _ := store.Claim(context.Background(), "k", "f"); claimed {
		t.Fatal("claimed twice within the lease")
	}
	clock.Add(IdempotencyLease)
	if _, claimed, _ := store.Claim(context.Background(), "k", "f"); !claimed {
		t.Error("a claim past its lease was not taken over")
	}
}
