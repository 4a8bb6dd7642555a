package postgres

import (
	"context"
	"fmt"
	"time"
)

// QuotaScope is one provider credential whose quota replicas share.
type QuotaScope struct {
	Provider   string
	Credential string // a hash, never the secret
}

// Heartbeat records replica as alive for each scope, forgets replicas not
// seen within ttl, and returns how many live replicas share each scope
// (at least 1 for the scopes given).
func (d *DB) Heartbeat(ctx context.Context, replica string, scopes []QuotaScope, ttl time.Duration) (map[QuotaScope]int, error) {
	tx, err := d.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("postgres: heartbeat: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	for _, s := range scopes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO upstream_replicas (replica_id, provider, credential, seen_at)
			VALUES ($1, $2, $3, now()) ON CONFLICT (replica_id, provider, credential) DO UPDATE SET seen_at = now()`,
			replica, s.Provider, s.Credential); err != nil {
			return nil, fmt.Errorf("postgres: heartbeat: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM upstream_replicas WHERE seen_at < now() - make_interval(secs => $1)`, ttl.Seconds()); err != nil {
		return nil, fmt.Errorf("postgres: heartbeat: %w", err)
	}
	var rows []struct {
		Provider   string `db:"provider"`
		Credential string `db:"credential"`
		N          int    `db:"n"`
	}
	if err := tx.SelectContext(ctx, &rows, `SELECT provider, credential, count(*) AS n FROM upstream_replicas GROUP BY provider, credential`); err != nil {
		return nil, fmt.Errorf("postgres: heartbeat: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("postgres: heartbeat: %w", err)
	}
	out := make(map[QuotaScope]int, len(scopes))
	for _, s := range scopes {
		out[s] = 1
	}
	for _, r := range rows {
		s := QuotaScope{r.Provider, r.Credential}
		if _, mine := out[s]; mine {
			out[s] = max(1, r.N)
		}
	}
	return out, nil
}

// Leave forgets replica at once (a clean shutdown), so the others take its share back.
func (d *DB) Leave(ctx context.Context, replica string) error {
	if _, err := d.db.ExecContext(ctx, `DELETE FROM upstream_replicas WHERE replica_id = $1`, replica); err != nil {
		return fmt.Errorf("postgres: leave: %w", err)
	}
	return nil
}
