// Package postgres is the gateway's second cache level, shared by replicas:
// the record store, the identity index, sync state and cross-replica locks,
// on sqlx and lib/pq. Migrations are embedded, versioned and applied under an
// advisory lock, so replicas starting together apply each one once.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the shared level. It connects lazily: Open never fails on an
// unreachable server, and Ping applies the migrations once it is reachable.
type DB struct {
	db      *sqlx.DB
	dsn     string
	channel string // the invalidation channel (notify.go)

	mu       sync.Mutex
	migrated bool
}

// Open prepares a pool for url (postgres://…); it does not connect yet.
// Every operation on its connections ends with its context (bounded.go).
func Open(url string) (*DB, error) {
	c, err := newConnector(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db := sqlx.NewDb(sql.OpenDB(c), "postgres")
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return &DB{db: db, dsn: url, channel: channelFor(url)}, nil
}

// Close closes the pool.
func (d *DB) Close() error { return d.db.Close() }

// SQL is the pool, for tests.
func (d *DB) SQL() *sqlx.DB { return d.db }

// Ping checks the server and applies pending migrations the first time it
// answers.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.db.PingContext(ctx); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.migrated {
		return nil
	}
	if _, err := d.Migrate(ctx); err != nil {
		return err
	}
	d.migrated = true
	return nil
}

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, f := range files {
		base := strings.TrimPrefix(f, "migrations/")
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("postgres: migration %s has no version prefix", base)
		}
		b, err := migrations.ReadFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// Migrate applies the migrations not yet applied, in one transaction under an
// advisory lock scoped to the current schema, and returns how many it applied.
func (d *DB) Migrate(ctx context.Context) (int, error) {
	ms, err := loadMigrations()
	if err != nil {
		return 0, err
	}
	tx, err := d.db.BeginTxx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("postgres: migrate: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':gateway-migrations'))`); err != nil {
		return 0, fmt.Errorf("postgres: migrate lock: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return 0, fmt.Errorf("postgres: migrate: %w", err)
	}
	var have []int
	if err := tx.SelectContext(ctx, &have, `SELECT version FROM schema_migrations`); err != nil {
		return 0, fmt.Errorf("postgres: migrate: %w", err)
	}
	done := map[int]bool{}
	for _, v := range have {
		done[v] = true
	}
	n := 0
	for _, m := range ms {
		if done[m.version] {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return 0, fmt.Errorf("postgres: migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
			return 0, fmt.Errorf("postgres: migration %s: %w", m.name, err)
		}
		n++
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("postgres: migrate: %w", err)
	}
	return n, nil
}
