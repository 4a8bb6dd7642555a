package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/cache"
)

var _ cache.Shared = (*DB)(nil)

type entryRow struct {
	Key        string    `db:"key"`
	Provider   string    `db:"provider"`
	Credential string    `db:"credential"`
	Kind       string    `db:"kind"`
	RecordID   string    `db:"record_id"`
	Body       []byte    `db:"body"`
	StoredAt   time.Time `db:"stored_at"`
}

// Get returns the entries stored under keys.
func (d *DB) Get(ctx context.Context, keys []string) (map[string]cache.Entry, error) {
	var rows []entryRow
	if err := d.db.SelectContext(ctx, &rows,
		`SELECT key, provider, credential, kind, record_id, body, stored_at FROM cache_entries WHERE key = ANY($1)`,
		pq.Array(keys)); err != nil {
		return nil, fmt.Errorf("postgres: get: %w", err)
	}
	out := make(map[string]cache.Entry, len(rows))
	for _, r := range rows {
		p, ok := ds.ParseProvider(r.Provider)
		if !ok {
			continue
		}
		out[r.Key] = cache.Entry{Key: r.Key, Provider: p, Credential: r.Credential, Kind: cache.Kind(r.Kind),
			RecordID: r.RecordID, Body: r.Body, StoredAt: r.StoredAt}
	}
	return out, nil
}

// Put upserts entries in one statement; an older copy never replaces a newer one.
func (d *DB) Put(ctx context.Context, entries []cache.Entry) error {
	newest := make(map[string]cache.Entry, len(entries))
	for _, e := range entries {
		if have, ok := newest[e.Key]; !ok || e.StoredAt.After(have.StoredAt) {
			newest[e.Key] = e
		}
	}
	n := len(newest)
	keys, provs, creds, kinds, recs := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	bodies, at := make([][]byte, 0, n), make([]time.Time, 0, n)
	for _, e := range newest {
		keys, provs, creds, kinds, recs = append(keys, e.Key), append(provs, e.Provider.Key()), append(creds, e.Credential), append(kinds, string(e.Kind)), append(recs, e.RecordID)
		bodies, at = append(bodies, e.Body), append(at, e.StoredAt)
	}
	_, err := d.db.ExecContext(ctx, `
		INSERT INTO cache_entries (key, provider, credential, kind, record_id, body, stored_at)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[], $7::timestamptz[])
		ON CONFLICT (key) DO UPDATE SET body = EXCLUDED.body, stored_at = EXCLUDED.stored_at,
			record_id = EXCLUDED.record_id
		WHERE cache_entries.stored_at <= EXCLUDED.stored_at`,
		pq.Array(keys), pq.Array(provs), pq.Array(creds), pq.Array(kinds), pq.Array(recs), pq.Array(bodies), pq.Array(at))
	if err != nil {
		return fmt.Errorf("postgres: put: %w", err)
	}
	return nil
}

// Drop removes a provider credential's entries of kind (records: of ids).
func (d *DB) Drop(ctx context.Context, p ds.ProviderID, cred string, kind cache.Kind, ids []string) error {
	var err error
	if kind == cache.KindRecord && ids != nil {
		_, err = d.db.ExecContext(ctx, `DELETE FROM cache_entries WHERE provider = $1 AND credential = $2 AND kind = $3 AND record_id = ANY($4)`,
			p.Key(), cred, string(kind), pq.Array(ids))
	} else {
		_, err = d.db.ExecContext(ctx, `DELETE FROM cache_entries WHERE provider = $1 AND credential = $2 AND kind = $3`,
			p.Key(), cred, string(kind))
	}
	if err != nil {
		return fmt.Errorf("postgres: drop: %w", err)
	}
	return nil
}

// Purge deletes at most batch entries stored before t.
func (d *DB) Purge(ctx context.Context, before time.Time, batch int) (int, error) {
	res, err := d.db.ExecContext(ctx, `DELETE FROM cache_entries WHERE key IN (
		SELECT key FROM cache_entries WHERE stored_at < $1 LIMIT $2)`, before, batch)
	if err != nil {
		return 0, fmt.Errorf("postgres: purge: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// PutIdentities upserts index entries and replaces their references, in
// one transaction of three statements whatever the number of entries.
func (d *DB) PutIdentities(ctx context.Context, ids []ds.Identity) error {
	type k struct{ p, c, v string }
	newest := make(map[k]ds.Identity, len(ids))
	for _, id := range ids {
		newest[k{id.Provider.Key(), id.Credential, id.VendorID}] = id
	}
	n := len(newest)
	provs, creds, vids, emails, refs, upd := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	seen := make([]time.Time, 0, n)
	var rp, rc, rv, rs, rx []string
	for _, id := range newest {
		r, err := json.Marshal(id.Refs)
		if err != nil || id.Refs == nil {
			r = []byte("[]")
		}
		u := ""
		if id.UpdatedAt != nil {
			u = id.UpdatedAt.UTC().Format(time.RFC3339Nano)
		}
		pk := id.Provider.Key()
		provs, creds, vids, emails, refs, upd = append(provs, pk), append(creds, id.Credential), append(vids, id.VendorID), append(emails, id.Email), append(refs, string(r)), append(upd, u)
		seen = append(seen, id.SeenAt)
		for _, ref := range id.Refs {
			for _, x := range ref.ExternalIDs {
				rp, rc, rv, rs, rx = append(rp, pk), append(rc, id.Credential), append(rv, id.VendorID), append(rs, ref.SourceID), append(rx, x)
			}
		}
	}
	tx, err := d.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("postgres: put identities: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO identities (provider, credential, vendor_id, email, refs, updated_at, seen_at)
		SELECT p, c, v, e, r::jsonb, NULLIF(u, '')::timestamptz, s
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[]) AS t(p, c, v, e, r, u, s)
		ON CONFLICT (provider, credential, vendor_id) DO UPDATE SET email = EXCLUDED.email, refs = EXCLUDED.refs,
			updated_at = EXCLUDED.updated_at, seen_at = EXCLUDED.seen_at`,
		pq.Array(provs), pq.Array(creds), pq.Array(vids), pq.Array(emails), pq.Array(refs), pq.Array(upd), pq.Array(seen)); err != nil {
		return fmt.Errorf("postgres: put identities: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM identity_refs WHERE (provider, credential, vendor_id) IN
		(SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))`, pq.Array(provs), pq.Array(creds), pq.Array(vids)); err != nil {
		return fmt.Errorf("postgres: put identity refs: %w", err)
	}
	if len(rp) > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO identity_refs (provider, credential, vendor_id, source_id, external_id)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])`,
			pq.Array(rp), pq.Array(rc), pq.Array(rv), pq.Array(rs), pq.Array(rx)); err != nil {
			return fmt.Errorf("postgres: put identity refs: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("postgres: put identities: %w", err)
	}
	return nil
}

// DropIdentities removes records the vendor no longer has.
func (d *DB) DropIdentities(ctx context.Context, p ds.ProviderID, cred string, vendorIDs []string) error {
	if _, err := d.db.ExecContext(ctx, `DELETE FROM identities WHERE provider = $1 AND credential = $2 AND vendor_id = ANY($3)`,
		p.Key(), cred, pq.Array(vendorIDs)); err != nil {
		return fmt.Errorf("postgres: drop identities: %w", err)
	}
	return nil
}

// PruneIdentities removes one provider credential's rows last seen before
// seenBefore (a complete sync walk did not see them) and returns their ids.
func (d *DB) PruneIdentities(ctx context.Context, p ds.ProviderID, cred string, seenBefore time.Time) ([]string, error) {
	var ids []string
	if err := d.db.SelectContext(ctx, &ids, `DELETE FROM identities WHERE provider = $1 AND credential = $2 AND seen_at < $3 RETURNING vendor_id`,
		p.Key(), cred, seenBefore); err != nil {
		return nil, fmt.Errorf("postgres: prune identities: %w", err)
	}
	return ids, nil
}

type identityRow struct {
	Provider   string     `db:"provider"`
	Credential string     `db:"credential"`
	VendorID   string     `db:"vendor_id"`
	Email      string     `db:"email"`
	Refs       []byte     `db:"refs"`
	UpdatedAt  *time.Time `db:"updated_at"`
	SeenAt     time.Time  `db:"seen_at"`
}

// ByEmail returns the records with one of emails, within scopes only.
func (d *DB) ByEmail(ctx context.Context, scopes []ds.Scope, emails []string) ([]ds.Identity, error) {
	if len(scopes) == 0 || len(emails) == 0 {
		return nil, nil
	}
	norm := make([]string, len(emails))
	for i, e := range emails {
		norm[i] = ds.NormalizeEmail(e)
	}
	provs, creds := scopeArrays(scopes)
	return d.identities(ctx, `WHERE email = ANY($1) AND (provider, credential) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
		pq.Array(norm), pq.Array(provs), pq.Array(creds))
}

// ByKeys returns the indexed records among keys, each read with its
// provider's credential in scopes.
func (d *DB) ByKeys(ctx context.Context, scopes []ds.Scope, keys []ds.CustomerKey) ([]ds.Identity, error) {
	cred := map[ds.ProviderID]string{}
	for _, s := range scopes {
		cred[s.Provider] = s.Credential
	}
	var provs, creds, vids []string
	for _, k := range keys {
		if c, ok := cred[k.Provider]; ok {
			provs, creds, vids = append(provs, k.Provider.Key()), append(creds, c), append(vids, k.ProviderID)
		}
	}
	if len(provs) == 0 {
		return nil, nil
	}
	return d.identities(ctx, `WHERE (provider, credential, vendor_id) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))`,
		pq.Array(provs), pq.Array(creds), pq.Array(vids))
}

// ByExternalID returns the records whose references carry one of ids.
func (d *DB) ByExternalID(ctx context.Context, scopes []ds.Scope, ids []string) ([]ds.Identity, error) {
	if len(scopes) == 0 || len(ids) == 0 {
		return nil, nil
	}
	provs, creds := scopeArrays(scopes)
	return d.identities(ctx, `WHERE (provider, credential, vendor_id) IN (
		SELECT provider, credential, vendor_id FROM identity_refs WHERE external_id = ANY($1)
		AND (provider, credential) IN (SELECT * FROM unnest($2::text[], $3::text[])))`,
		pq.Array(ids), pq.Array(provs), pq.Array(creds))
}

func scopeArrays(scopes []ds.Scope) (provs, creds []string) {
	for _, s := range scopes {
		provs, creds = append(provs, s.Provider.Key()), append(creds, s.Credential)
	}
	return provs, creds
}

func (d *DB) identities(ctx context.Context, where string, args ...any) ([]ds.Identity, error) {
	var rows []identityRow
	if err := d.db.SelectContext(ctx, &rows, `SELECT provider, credential, vendor_id, email, refs, updated_at, seen_at FROM identities `+where, args...); err != nil {
		return nil, fmt.Errorf("postgres: identities: %w", err)
	}
	out := make([]ds.Identity, 0, len(rows))
	for _, r := range rows {
		p, ok := ds.ParseProvider(r.Provider)
		if !ok {
			continue
		}
		id := ds.Identity{Provider: p, Credential: r.Credential, VendorID: r.VendorID, Email: r.Email, UpdatedAt: r.UpdatedAt, SeenAt: r.SeenAt}
		_ = json.Unmarshal(r.Refs, &id.Refs)
		out = append(out, id)
	}
	return out, nil
}

// CountIdentities is how many records of one provider credential the index holds.
func (d *DB) CountIdentities(ctx context.Context, p ds.ProviderID, cred string) (int, error) {
	var n int
	if err := d.db.GetContext(ctx, &n, `SELECT count(*) FROM identities WHERE provider = $1 AND credential = $2`, p.Key(), cred); err != nil {
		return 0, fmt.Errorf("postgres: count identities: %w", err)
	}
	return n, nil
}

// SyncState reads one provider credential's sync state (zero when none).
func (d *DB) SyncState(ctx context.Context, p ds.ProviderID, cred string) (ds.SyncStatus, error) {
	var row struct {
		Complete  bool       `db:"complete"`
		LastRunAt *time.Time `db:"last_run_at"`
		LastError *string    `db:"last_error"`
	}
	err := d.db.GetContext(ctx, &row, `SELECT complete, last_run_at, last_error FROM sync_state WHERE provider = $1 AND credential = $2`, p.Key(), cred)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return ds.SyncStatus{}, nil
		}
		return ds.SyncStatus{}, fmt.Errorf("postgres: sync state: %w", err)
	}
	return ds.SyncStatus{Complete: row.Complete, LastRunAt: row.LastRunAt, LastError: row.LastError}, nil
}

// PutSyncState writes one provider credential's sync state.
func (d *DB) PutSyncState(ctx context.Context, p ds.ProviderID, cred string, s ds.SyncStatus) error {
	_, err := d.db.ExecContext(ctx, `
		INSERT INTO sync_state (provider, credential, complete, last_run_at, last_error) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (provider, credential) DO UPDATE SET complete = EXCLUDED.complete,
			last_run_at = EXCLUDED.last_run_at, last_error = EXCLUDED.last_error`,
		p.Key(), cred, s.Complete, s.LastRunAt, s.LastError)
	if err != nil {
		return fmt.Errorf("postgres: put sync state: %w", err)
	}
	return nil
}

// TryLock takes a session advisory lock on a connection of its own, so it is
// held across replicas until release (or until that connection dies).
func (d *DB) TryLock(ctx context.Context, name string) (func(), bool, error) {
	conn, err := d.db.Connx(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("postgres: lock: %w", err)
	}
	var ok bool
	if err := conn.GetContext(ctx, &ok, `SELECT pg_try_advisory_lock(hashtext(current_schema() || ':' || $1))`, name); err != nil {
		_ = conn.Close()
		return nil, false, fmt.Errorf("postgres: lock: %w", err)
	}
	if !ok {
		_ = conn.Close()
		return nil, false, nil
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, _ = conn.ExecContext(ctx, `SELECT pg_advisory_unlock(hashtext(current_schema() || ':' || $1))`, name)
		_ = conn.Close()
	}, true, nil
}

// ClaimSync claims one provider credential's walk when it is due (no due
// time yet, or the due time passed), moving the due time every on, in one
// statement; replicas race for it and one wins. wait is how long until the
// walk is due (every when claimed), by the database's clock.
func (d *DB) ClaimSync(ctx context.Context, p ds.ProviderID, cred string, every time.Duration) (claimed bool, wait time.Duration, err error) {
	var row struct {
		Claimed bool    `db:"claimed"`
		Wait    float64 `db:"wait"`
	}
	err = d.db.GetContext(ctx, &row, `
		WITH claim AS (
			INSERT INTO sync_state (provider, credential, next_run_at) VALUES ($1, $2, now() + make_interval(secs => $3))
			ON CONFLICT (provider, credential) DO UPDATE SET next_run_at = EXCLUDED.next_run_at
			WHERE sync_state.next_run_at IS NULL OR sync_state.next_run_at <= now()
			RETURNING next_run_at)
		SELECT EXISTS (SELECT 1 FROM claim) AS claimed,
			GREATEST(0, EXTRACT(EPOCH FROM (COALESCE((SELECT next_run_at FROM claim),
				(SELECT next_run_at FROM sync_state WHERE provider = $1 AND credential = $2)) - now())))::float8 AS wait`,
		p.Key(), cred, every.Seconds())
	if err != nil {
		return false, 0, fmt.Errorf("postgres: claim sync: %w", err)
	}
	return row.Claimed, time.Duration(row.Wait * float64(time.Second)), nil
}
