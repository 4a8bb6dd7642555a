package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/cache"
	"github.com/federated-customers/gateway/postgres"
	"github.com/federated-customers/gateway/postgres/pgtest"
)

func open(t *testing.T, url string) *postgres.DB { return pgtest.Open(t, url, postgres.Open) }

func migrated(t *testing.T) *postgres.DB {
	t.Helper()
	db := open(t, pgtest.Schema(t))
	if err := db.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestMigrationsApplyOnceAndASecondStartAppliesNothing(t *testing.T) {
	db := open(t, pgtest.Schema(t))
	ctx := context.Background()
	n, err := db.Migrate(ctx)
	if err != nil || n == 0 {
		t.Fatalf("first start applied %d migrations, err %v", n, err)
	}
	again, err := db.Migrate(ctx)
	if err != nil || again != 0 {
		t.Fatalf("second start applied %d migrations, err %v; want 0", again, err)
	}
	var versions int
	if err := db.SQL().Get(&versions, `SELECT count(*) FROM schema_migrations`); err != nil || versions != n {
		t.Fatalf("schema_migrations has %d rows (%v), want %d", versions, err, n)
	}
}

func TestReplicasStartingTogetherApplyEachMigrationOnce(t *testing.T) {
	url := pgtest.Schema(t)
	const replicas = 6
	var wg sync.WaitGroup
	applied := make([]int, replicas)
	errs := make([]error, replicas)
	for i := range replicas {
		db := open(t, url)
		wg.Add(1)
		go func() {
			defer wg.Done()
			applied[i], errs[i] = db.Migrate(context.Background())
		}()
	}
	wg.Wait()
	total := 0
	for i := range replicas {
		if errs[i] != nil {
			t.Fatalf("replica %d: %v", i, errs[i])
		}
		total += applied[i]
	}
	var versions int
	if err := open(t, url).SQL().Get(&versions, `SELECT count(*) FROM schema_migrations`); err != nil {
		t.Fatal(err)
	}
	if total != versions || versions == 0 {
		t.Fatalf("replicas applied %d migrations in all, schema has %d", total, versions)
	}
}

func TestEntriesRoundTripAndANewerCopyWins(t *testing.T) {
	db := migrated(t)
	ctx := context.Background()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e := cache.Entry{Key: "k1", Provider: ds.Kintsugi, Credential: "c1", Kind: cache.KindRecord, RecordID: "cust_1", Body: []byte(`{"a":1}`), StoredAt: t0}
	if err := db.Put(ctx, []cache.Entry{e}); err != nil {
		t.Fatal(err)
	}
	older := e
	older.Body, older.StoredAt = []byte(`{"a":0}`), t0.Add(-time.Minute)
	if err := db.Put(ctx, []cache.Entry{older}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Get(ctx, []string{"k1", "absent"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || string(got["k1"].Body) != `{"a":1}` || !got["k1"].StoredAt.Equal(t0) || got["k1"].Provider != ds.Kintsugi {
		t.Fatalf("got %+v, want the newer copy only", got)
	}
	if err := db.Drop(ctx, ds.Kintsugi, "c1", cache.KindRecord, []string{"cust_1"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Get(ctx, []string{"k1"}); len(got) != 0 {
		t.Fatalf("dropped record still there: %+v", got)
	}
}

func TestPurgeDeletesInBoundedBatches(t *testing.T) {
	db := migrated(t)
	ctx := context.Background()
	old := time.Now().Add(-48 * time.Hour)
	var es []cache.Entry
	for i := range 25 {
		es = append(es, cache.Entry{Key: "old" + string(rune('a'+i)), Provider: ds.Telness, Credential: "c", Kind: cache.KindPage, Body: []byte("{}"), StoredAt: old})
	}
	es = append(es, cache.Entry{Key: "new", Provider: ds.Telness, Credential: "c", Kind: cache.KindPage, Body: []byte("{}"), StoredAt: time.Now()})
	if err := db.Put(ctx, es); err != nil {
		t.Fatal(err)
	}
	n, err := db.Purge(ctx, time.Now().Add(-time.Hour), 10)
	if err != nil || n != 10 {
		t.Fatalf("purge deleted %d (%v), want a batch of 10", n, err)
	}
	for {
		n, err := db.Purge(ctx, time.Now().Add(-time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		if n < 10 {
			break
		}
	}
	got, _ := db.Get(ctx, []string{"new", "olda"})
	if len(got) != 1 || got["new"].Key != "new" {
		t.Fatalf("after purge: %v, want only the fresh entry", got)
	}
}

func TestIdentityIndexIsScopedByCredential(t *testing.T) {
	db := migrated(t)
	ctx := context.Background()
	now := time.Now().UTC()
	ids := []ds.Identity{
		{Provider: ds.Kintsugi, Credential: "acct-a", VendorID: "cust_1", Email: "ada@example.com", SeenAt: now,
			Refs: []ds.Ref{{Kind: ds.SourceSystem, SourceID: "SHOPIFY", ExternalIDs: []string{"s-1"}}}},
		{Provider: ds.Kintsugi, Credential: "acct-b", VendorID: "cust_9", Email: "ada@example.com", SeenAt: now},
		{Provider: ds.DigitalRiver, Credential: "dr-a", VendorID: "58001", Email: "ada@example.com", SeenAt: now},
		{Provider: ds.DigitalRiver, Credential: "dr-a", VendorID: "58002", Email: "bob@example.com", SeenAt: now},
	}
	if err := db.PutIdentities(ctx, ids); err != nil {
		t.Fatal(err)
	}
	got, err := db.ByEmail(ctx, []ds.Scope{{Provider: ds.Kintsugi, Credential: "acct-a"}, {Provider: ds.DigitalRiver, Credential: "dr-a"}}, []string{" ADA@example.com "})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %+v, want cust_1 and 58001 only (acct-b belongs to another configuration)", got)
	}
	for _, id := range got {
		if id.Credential == "acct-b" {
			t.Fatalf("another credential's record leaked: %+v", id)
		}
		if id.VendorID == "cust_1" && (len(id.Refs) != 1 || id.Refs[0].ExternalIDs[0] != "s-1") {
			t.Fatalf("refs did not round-trip: %+v", id.Refs)
		}
	}
	if n, err := db.CountIdentities(ctx, ds.DigitalRiver, "dr-a"); err != nil || n != 2 {
		t.Fatalf("count = %d (%v), want 2", n, err)
	}
	if err := db.DropIdentities(ctx, ds.DigitalRiver, "dr-a", []string{"58002"}); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.CountIdentities(ctx, ds.DigitalRiver, "dr-a"); n != 1 {
		t.Fatalf("count after drop = %d, want 1", n)
	}
}

func TestSyncLockIsHeldAcrossReplicas(t *testing.T) {
	url := pgtest.Schema(t)
	a, b := open(t, url), open(t, url)
	for _, db := range []*postgres.DB{a, b} {
		if err := db.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	release, ok, err := a.TryLock(ctx, "sync:kintsugi:x")
	if err != nil || !ok {
		t.Fatalf("first lock: ok=%v err=%v", ok, err)
	}
	if _, ok, err := b.TryLock(ctx, "sync:kintsugi:x"); err != nil || ok {
		t.Fatalf("second replica took a held lock: ok=%v err=%v", ok, err)
	}
	if _, ok, _ := b.TryLock(ctx, "sync:telness:x"); !ok {
		t.Fatal("another provider's lock should be free")
	}
	release()
	if rel, ok, err := b.TryLock(ctx, "sync:kintsugi:x"); err != nil || !ok {
		t.Fatalf("lock not free after release: ok=%v err=%v", ok, err)
	} else {
		rel()
	}
	st := ds.SyncStatus{Complete: true}
	now := time.Now().UTC().Truncate(time.Microsecond)
	st.LastRunAt = &now
	if err := a.PutSyncState(ctx, ds.Kintsugi, "x", st); err != nil {
		t.Fatal(err)
	}
	got, err := b.SyncState(ctx, ds.Kintsugi, "x")
	if err != nil || !got.Complete || got.LastRunAt == nil || !got.LastRunAt.Equal(now) {
		t.Fatalf("sync state = %+v (%v)", got, err)
	}
}
