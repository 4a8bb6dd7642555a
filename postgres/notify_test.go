package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/federated-customers/gateway/postgres/pgtest"
)

// TestASilentListenerReconnectsAndSaysSo: notifications published by one
// replica reach another's listener; when Postgres goes silent under the
// listener, it is cut and reconnects once Postgres answers, and says so
// (the cache then drops what it cannot vouch for), and delivery goes on.
func TestASilentListenerReconnectsAndSaysSo(t *testing.T) {
	url := pgtest.Schema(t)
	proxy, via := pgtest.NewProxy(t, url)
	pub := migratedAt(t, url)
	sub := open(t, via)
	got := make(chan string, 16)
	reconnected := make(chan struct{}, 1)
	stop := sub.Subscribe(func(p string) { got <- p }, func() {
		select {
		case reconnected <- struct{}{}:
		default:
		}
	})
	t.Cleanup(stop)
	deliver := func(payload string) {
		t.Helper()
		deadline := time.After(15 * time.Second)
		for {
			if err := pub.Publish(context.Background(), payload); err != nil {
				t.Fatal(err)
			}
			select {
			case p := <-got:
				if p == payload {
					return
				}
			case <-time.After(200 * time.Millisecond): // the listener may not be listening yet
			case <-deadline:
				t.Fatalf("%q not delivered", payload)
			}
		}
	}
	deliver("first")
	proxy.Blackhole()
	time.Sleep(5 * time.Second) // longer than the listener's 3 s of silence
	proxy.Restore()
	select {
	case <-reconnected:
	case <-time.After(15 * time.Second):
		t.Fatal("the listener did not reconnect after Postgres went silent under it")
	}
	deliver("after")
}

func migratedAt(t *testing.T, url string) interface {
	Publish(context.Context, string) error
} {
	t.Helper()
	db := open(t, url)
	if err := db.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}
