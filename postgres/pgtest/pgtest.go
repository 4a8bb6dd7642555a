// Package pgtest gives tests a Postgres schema of their own on the machine's
// server (TEST_DATABASE_URL, default the local trust-auth database "test").
// Unreachable, the test is skipped with a clear message, except under
// CI=true, where it fails: CI must not pass by skipping the database.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/federated-customers/gateway/internal/testnote"
)

// DefaultURL is used when TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// BaseURL is the server the tests use.
func BaseURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// Open opens url with open (postgres.Open) and closes what it opened when the
// test ends.
func Open[T io.Closer](t testing.TB, url string, open func(string) (T, error)) T {
	t.Helper()
	db, err := open(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// Schema creates a fresh schema, dropped when the test ends, and returns a
// URL whose connections use it (search_path), so tests never share tables.
func Schema(t testing.TB) string {
	t.Helper()
	base := BaseURL()
	db, err := connect(base)
	if isMissingDatabase(err) && createDatabase(base) == nil {
		db, err = connect(base) // a fresh machine: the tests make their database
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Postgres at TEST_DATABASE_URL is unreachable under CI=true: %v", err)
		}
		testnote.Skipped("Postgres tests", "start a Postgres server on 127.0.0.1:5432 with trust auth, or set TEST_DATABASE_URL")
		t.Skipf("Postgres unreachable (set TEST_DATABASE_URL; default %s): %v", DefaultURL, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	if _, err := db.Exec(`CREATE SCHEMA ` + name); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		_, _ = db.Exec(`DROP SCHEMA ` + name + ` CASCADE`)
		_ = db.Close()
	})
	return WithSearchPath(t, base, name)
}

// WithSearchPath returns base with its connections' search_path set.
func WithSearchPath(t testing.TB, base, schema string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func connect(url string) (*sqlx.DB, error) {
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

func isMissingDatabase(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "3D000" // invalid_catalog_name
}

// createDatabase creates base's database through the server's "postgres"
// database (what createdb does), idempotently across test binaries.
func createDatabase(base string) error {
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	db, err := connect(u.String())
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec(`CREATE DATABASE ` + pq.QuoteIdentifier(name))
	if isDuplicateDatabase(err) {
		return nil
	}
	return err
}

func isDuplicateDatabase(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "42P04" // duplicate_database
}
