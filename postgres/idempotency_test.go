package postgres_test

import (
	"context"
	"testing"

	"github.com/federated-customers/gateway/postgres"
	"github.com/federated-customers/gateway/postgres/pgtest"
)

// Two replicas on one database see one key: the second finds the first's
// claim running, then its outcome; another fingerprint is seen as such; a
// released claim can be taken again; with the database cut, keys go on in
// process.
func TestIdempotencyKeysAreSharedByReplicas(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Schema(t)
	a := &postgres.Idempotency{DB: open(t, url)}
	b := &postgres.Idempotency{DB: open(t, url)}
	if err := a.DB.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if _, claimed, err := a.Claim(ctx, "k1", "f1"); err != nil || !claimed {
		t.Fatalf("first claim: claimed %v, err %v", claimed, err)
	}
	rec, claimed, err := b.Claim(ctx, "k1", "f1")
	if err != nil || claimed || rec.Done || rec.Fingerprint != "f1" {
		t.Fatalf("second replica while running: %+v claimed %v err %v, want the running claim", rec, claimed, err)
	}
	if err := a.Complete(ctx, "k1", []byte(`{"value":1}`)); err != nil {
		t.Fatal(err)
	}
	rec, claimed, err = b.Claim(ctx, "k1", "f2")
	if err != nil || claimed || !rec.Done || string(rec.Outcome) != `{"value":1}` || rec.Fingerprint != "f1" {
		t.Fatalf("after completion: %+v claimed %v err %v, want the stored outcome under f1", rec, claimed, err)
	}
	if _, claimed, _ := a.Claim(ctx, "k2", "f"); !claimed {
		t.Fatal("k2 not claimed")
	}
	if err := a.Release(ctx, "k2"); err != nil {
		t.Fatal(err)
	}
	if _, claimed, err := b.Claim(ctx, "k2", "f"); err != nil || !claimed {
		t.Errorf("a released key: claimed %v err %v, want claimed again", claimed, err)
	}

	proxy, proxied := pgtest.NewProxy(t, url)
	c := &postgres.Idempotency{DB: open(t, proxied)}
	proxy.Cut()
	if _, claimed, err := c.Claim(ctx, "k3", "f"); err != nil || !claimed {
		t.Errorf("database cut: claimed %v err %v, want an in-process claim", claimed, err)
	}
	if rec, claimed, _ := c.Claim(ctx, "k3", "f"); claimed || rec == nil {
		t.Errorf("database cut: a repeat claimed again, want the in-process claim seen")
	}
}
