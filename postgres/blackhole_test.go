package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/federated-customers/gateway/postgres"
	"github.com/federated-customers/gateway/postgres/pgtest"
)

// within runs op and fails the test when it has not returned while the
// database is still silent (the blackhole lasts until the test ends).
func within(t *testing.T, what string, limit time.Duration, op func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- op() }()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		t.Fatalf("%s still waits %v into a blackhole", what, limit)
		return nil
	}
}

// TestEveryOperationEndsWithItsContextWhenPostgresGoesSilent: a server
// that is reachable but answers nothing (a partition) holds no operation
// past its context, on an established connection or a new one; once it
// answers again, the pool works with fresh connections.
func TestEveryOperationEndsWithItsContextWhenPostgresGoesSilent(t *testing.T) {
	proxy, url := pgtest.NewProxy(t, pgtest.Schema(t))
	db := open(t, url)
	ctx := context.Background()
	if err := db.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	// several established connections in the pool
	for range 4 {
		if _, err := db.CountIdentities(ctx, 0, "c"); err != nil {
			t.Fatal(err)
		}
	}
	proxy.Blackhole()
	t.Cleanup(proxy.Restore)
	ops := map[string]func(context.Context) error{
		"select": func(ctx context.Context) error { _, err := db.Get(ctx, []string{"k"}); return err },
		"exec":   func(ctx context.Context) error { return db.Drop(ctx, 0, "c", "page", nil) },
		"transaction": func(ctx context.Context) error {
			_, err := db.Heartbeat(ctx, "r", []postgres.QuotaScope{{Provider: "kintsugi", Credential: "c"}}, time.Minute)
			return err
		},
		"ping": db.Ping,
		"lock": func(ctx context.Context) error { _, _, err := db.TryLock(ctx, "x"); return err },
	}
	for name, op := range ops {
		for range 3 { // more than once: pooled and new connections alike
			err := within(t, name, 5*time.Second, func() error {
				ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
				defer cancel()
				return op(ctx)
			})
			if err == nil {
				t.Fatalf("%s succeeded in a blackhole", name)
			}
		}
	}
	proxy.Restore()
	if err := within(t, "ping after the blackhole", 10*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return db.Ping(ctx)
	}); err != nil {
		t.Fatalf("after the blackhole: %v", err)
	}
}
