package postgres_test

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/federated-customers/gateway/postgres/pgtest"
)

// TestTheTestDatabaseIsCreatedWhenItDoesNotExist: on a fresh machine the
// server is up but has no "test" database; the tests make it themselves.
func TestTheTestDatabaseIsCreatedWhenItDoesNotExist(t *testing.T) {
	pgtest.Schema(t) // skips (or fails under CI) without a server
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "gateway_fresh_" + hex.EncodeToString(b)
	u, _ := url.Parse(pgtest.BaseURL())
	u.Path = "/" + name
	admin := *u
	admin.Path = "/postgres"
	t.Cleanup(func() {
		if db, err := sqlx.Open("postgres", admin.String()); err == nil {
			_, _ = db.Exec(`DROP DATABASE IF EXISTS ` + name)
			_ = db.Close()
		}
	})
	t.Setenv("TEST_DATABASE_URL", u.String())
	db, err := sqlx.Open("postgres", pgtest.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var current string
	if err := db.Get(&current, `SELECT current_database()`); err != nil || current != name {
		t.Fatalf("connected to %q (%v), want the new database %q", current, err, name)
	}
}
