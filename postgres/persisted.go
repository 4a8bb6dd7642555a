package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// PersistedQuery returns the query text registered under hash in scope.
func (d *DB) PersistedQuery(ctx context.Context, scope, hash string) (string, bool, error) {
	var q string
	err := d.db.GetContext(ctx, &q, `SELECT query FROM persisted_queries WHERE scope = $1 AND hash = $2`, scope, hash)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("postgres: persisted query: %w", err)
	}
	return q, true, nil
}

// PersistQuery registers query under hash in scope (the caller checked
// that hash is the query's SHA-256, so a second registration is the same text).
func (d *DB) PersistQuery(ctx context.Context, scope, hash, query string) error {
	if _, err := d.db.ExecContext(ctx, `INSERT INTO persisted_queries (scope, hash, query) VALUES ($1, $2, $3)
		ON CONFLICT (scope, hash) DO NOTHING`, scope, hash, query); err != nil {
		return fmt.Errorf("postgres: persist query: %w", err)
	}
	return nil
}
