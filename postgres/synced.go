package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/lib/pq"
)

// The synced store (migration 010): the writes of the sync walk and the
// reads of the synced path (datasource/federate/synced.go); the reads are in synced_read.go.

// SyncedRetention is how long a replaced version of a record is kept, so a
// walk begun on an older snapshot still reads it; a cursor older than this
// is refused.
const SyncedRetention = 24 * time.Hour

type syncedRow struct {
	vid, digest, body string
	nameKey, emailKey *string
	email, country    *string
	created, updated  *time.Time
}

func syncedRowOf(c *ds.Customer) (syncedRow, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return syncedRow{}, err
	}
	sum := sha256.Sum256(b)
	r := syncedRow{vid: c.ProviderID, digest: hex.EncodeToString(sum[:16]), body: string(b), created: c.CreatedAt, updated: c.UpdatedAt}
	if c.Name != nil {
		k := cleanText(ds.Fold(*c.Name))
		r.nameKey = &k
	}
	if c.Email != nil {
		k, e := cleanText(ds.Fold(*c.Email)), cleanText(strings.ToLower(*c.Email))
		r.emailKey, r.email = &k, &e
	}
	if c.Address != nil && c.Address.Country != nil {
		u := cleanText(strings.ToUpper(*c.Address.Country))
		r.country = &u
	}
	return r, nil
}

// cleanText is s as Postgres text can hold it (valid UTF-8, no NUL byte):
// a vendor's bad bytes cost that record's exact sort or search key, never
// the page's write (the body, bytea, keeps the record as it came).
func cleanText(s string) string {
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
}

// PutSynced stores records a walk (or a write) read at at: an unchanged
// record keeps its version (seen again), a changed one closes its version
// and opens a new one, a new one opens its first.
func (d *DB) PutSynced(ctx context.Context, p ds.ProviderID, cred string, cs []*ds.Customer, at time.Time) error {
	byID := map[string]syncedRow{}
	var order []string
	for _, c := range cs {
		r, err := syncedRowOf(c)
		if err != nil {
			continue
		}
		if _, ok := byID[r.vid]; !ok {
			order = append(order, r.vid)
		}
		byID[r.vid] = r
	}
	if len(order) == 0 {
		return nil
	}
	n := len(order)
	vids, digests, bodies := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	names, ekeys, emails, countries := make([]*string, 0, n), make([]*string, 0, n), make([]*string, 0, n), make([]*string, 0, n)
	created, updated := make([]*time.Time, 0, n), make([]*time.Time, 0, n)
	for _, id := range order {
		r := byID[id]
		vids, digests, bodies = append(vids, r.vid), append(digests, r.digest), append(bodies, r.body)
		names, ekeys, emails, countries = append(names, r.nameKey), append(ekeys, r.emailKey), append(emails, r.email), append(countries, r.country)
		created, updated = append(created, r.created), append(updated, r.updated)
	}
	tx, err := d.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("postgres: put synced: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	pk, rank := p.Key(), int(p)
	// Seen again unchanged; a version opened at this very instant is
	// replaced in place; older changed versions are closed.
	stmts := []struct {
		sql  string
		args []any
	}{
		{`UPDATE synced_customers s SET seen_at = $3 FROM unnest($4::text[], $5::text[]) AS t(v, d)
			WHERE s.provider = $1 AND s.credential = $2 AND s.valid_to = 'infinity' AND s.vendor_id = t.v AND s.digest = t.d`,
			[]any{pk, cred, at, pq.Array(vids), pq.Array(digests)}},
		{`UPDATE synced_customers s SET valid_to = $3 FROM unnest($4::text[], $5::text[]) AS t(v, d)
			WHERE s.provider = $1 AND s.credential = $2 AND s.valid_to = 'infinity' AND s.vendor_id = t.v AND s.digest <> t.d`,
			[]any{pk, cred, at, pq.Array(vids), pq.Array(digests)}},
		{`DELETE FROM synced_customers WHERE provider = $1 AND credential = $2 AND vendor_id = ANY($4) AND valid_from = $3 AND valid_to = $3`,
			[]any{pk, cred, at, pq.Array(vids)}},
		{`INSERT INTO synced_customers (provider, credential, vendor_id, rank, valid_from, seen_at, digest,
				name_key, email_key, email, country, created_at, updated_at, body)
			SELECT $1, $2, t.v, $3, $4, $4, t.d, t.n, t.k, t.e, t.c, t.ca, t.ua, convert_to(t.b, 'UTF8')
			FROM unnest($5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::timestamptz[], $12::timestamptz[], $13::text[])
				AS t(v, d, n, k, e, c, ca, ua, b)
			WHERE NOT EXISTS (SELECT 1 FROM synced_customers s WHERE s.provider = $1 AND s.credential = $2
				AND s.vendor_id = t.v AND s.valid_to = 'infinity')`,
			[]any{pk, cred, rank, at, pq.Array(vids), pq.Array(digests), pq.Array(names), pq.Array(ekeys), pq.Array(emails),
				pq.Array(countries), pq.Array(created), pq.Array(updated), pq.Array(bodies)}},
	}
	for _, st := range stmts {
		if _, err := tx.ExecContext(ctx, st.sql, st.args...); err != nil {
			return fmt.Errorf("postgres: put synced: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("postgres: put synced: %w", err)
	}
	return nil
}

// DropSynced closes the current versions of records the vendor no longer has.
func (d *DB) DropSynced(ctx context.Context, p ds.ProviderID, cred string, vendorIDs []string, at time.Time) error {
	if _, err := d.db.ExecContext(ctx, `UPDATE synced_customers SET valid_to = $4
		WHERE provider = $1 AND credential = $2 AND vendor_id = ANY($3) AND valid_to = 'infinity'`,
		p.Key(), cred, pq.Array(vendorIDs), at); err != nil {
		return fmt.Errorf("postgres: drop synced: %w", err)
	}
	return nil
}

// FinishWalk records a complete walk that started at started: records it
// did not see are closed (the vendor no longer has them), the walk becomes
// the one the synced path measures its age by, and versions closed longer
// than SyncedRetention ago are deleted.
func (d *DB) FinishWalk(ctx context.Context, p ds.ProviderID, cred string, started, finished time.Time) error {
	tx, err := d.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("postgres: finish walk: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	for _, st := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE synced_customers SET valid_to = $4 WHERE provider = $1 AND credential = $2 AND valid_to = 'infinity' AND seen_at < $3`,
			[]any{p.Key(), cred, started, finished}},
		{`INSERT INTO synced_walks (provider, credential, started_at, finished_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (provider, credential) DO UPDATE SET started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at
			WHERE synced_walks.started_at <= EXCLUDED.started_at`,
			[]any{p.Key(), cred, started, finished}},
		{`DELETE FROM synced_customers WHERE provider = $1 AND credential = $2 AND valid_to < $3`,
			[]any{p.Key(), cred, finished.Add(-SyncedRetention)}},
	} {
		if _, err := tx.ExecContext(ctx, st.sql, st.args...); err != nil {
			return fmt.Errorf("postgres: finish walk: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("postgres: finish walk: %w", err)
	}
	return nil
}

// SyncedWalks says when each scope's last complete walk started.
func (d *DB) SyncedWalks(ctx context.Context, scopes []ds.Scope) (map[ds.ProviderID]ds.SyncedWalk, error) {
	provs, creds := scopeArrays(scopes)
	var rows []struct {
		Provider   string    `db:"provider"`
		StartedAt  time.Time `db:"started_at"`
		FinishedAt time.Time `db:"finished_at"`
	}
	if err := d.db.SelectContext(ctx, &rows, `SELECT provider, started_at, finished_at FROM synced_walks
		WHERE (provider, credential) IN (SELECT * FROM unnest($1::text[], $2::text[]))`, pq.Array(provs), pq.Array(creds)); err != nil {
		return nil, fmt.Errorf("postgres: synced walks: %w", err)
	}
	out := map[ds.ProviderID]ds.SyncedWalk{}
	for _, r := range rows {
		if p, ok := ds.ParseProvider(r.Provider); ok {
			out[p] = ds.SyncedWalk{Started: r.StartedAt, Finished: r.FinishedAt}
		}
	}
	return out, nil
}
