package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
)

// Idempotency keeps mutations' idempotency keys in Postgres, shared by every
// replica. While Postgres cannot be reached it goes on with keys in process
// (Fallback), as the cache does: a write is never refused for it.
type Idempotency struct {
	DB       *DB
	Fallback ds.MemoryIdempotency
}

var _ ds.IdempotencyStore = (*Idempotency)(nil)

// opTimeout bounds one store operation, so a database that stops answering
// costs a write a short wait, not its whole deadline.
const opTimeout = 2 * time.Second

// Claim implements ds.IdempotencyStore.
func (s *Idempotency) Claim(ctx context.Context, key, fingerprint string) (*ds.IdempotencyRecord, bool, error) {
	rec, claimed, err := s.claim(ctx, key, fingerprint)
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		return s.Fallback.Claim(ctx, key, fingerprint)
	}
	return rec, claimed, nil
}

func (s *Idempotency) claim(ctx context.Context, key, fingerprint string) (*ds.IdempotencyRecord, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	var won bool
	err := s.DB.db.GetContext(ctx, &won, `
		INSERT INTO idempotency_keys (key, fingerprint, claimed_at) VALUES ($1, $2, now())
		ON CONFLICT (key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, done = false, outcome = NULL, claimed_at = now()
		WHERE idempotency_keys.claimed_at < now() - make_interval(secs => $3)
		   OR (NOT idempotency_keys.done AND idempotency_keys.claimed_at < now() - make_interval(secs => $4))
		RETURNING true`, key, fingerprint, ds.IdempotencyTTL.Seconds(), ds.IdempotencyLease.Seconds())
	switch {
	case err == nil:
		return nil, true, nil
	case !errors.Is(err, sql.ErrNoRows):
		return nil, false, fmt.Errorf("postgres: idempotency claim: %w", err)
	}
	var row struct {
		Fingerprint string `db:"fingerprint"`
		Done        bool   `db:"done"`
		Outcome     []byte `db:"outcome"`
	}
	err = s.DB.db.GetContext(ctx, &row, `SELECT fingerprint, done, outcome FROM idempotency_keys WHERE key = $1`, key)
	switch {
	case errors.Is(err, sql.ErrNoRows): // released meanwhile: the caller looks again
		return &ds.IdempotencyRecord{Fingerprint: fingerprint}, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("postgres: idempotency read: %w", err)
	}
	return &ds.IdempotencyRecord{Fingerprint: row.Fingerprint, Done: row.Done, Outcome: row.Outcome}, false, nil
}

// Complete implements ds.IdempotencyStore; it also drops a few expired keys.
func (s *Idempotency) Complete(ctx context.Context, key string, outcome []byte) error {
	_ = s.Fallback.Complete(ctx, key, outcome)
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if _, err := s.DB.db.ExecContext(ctx, `UPDATE idempotency_keys SET done = true, outcome = $2 WHERE key = $1`, key, outcome); err != nil {
		return fmt.Errorf("postgres: idempotency complete: %w", err)
	}
	_, _ = s.DB.db.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE key IN (
		SELECT key FROM idempotency_keys WHERE claimed_at < now() - make_interval(secs => $1) LIMIT 100)`, ds.IdempotencyTTL.Seconds())
	return nil
}

// Release implements ds.IdempotencyStore.
func (s *Idempotency) Release(ctx context.Context, key string) error {
	_ = s.Fallback.Release(ctx, key)
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if _, err := s.DB.db.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE key = $1 AND NOT done`, key); err != nil {
		return fmt.Errorf("postgres: idempotency release: %w", err)
	}
	return nil
}
