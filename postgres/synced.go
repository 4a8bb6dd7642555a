package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"

	ds "github.com/federated-customers/gateway/datasource"
)

// The synced store (migration 010): the writes of the sync walk and the
// reads of the synced path (datasource/synced.go).

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

// orderColumns are the synced store's column per order field.
var orderColumns = map[ds.OrderField]string{
	ds.OrderName: "name_key", ds.OrderEmail: "email_key", ds.OrderCreatedAt: "created_at", ds.OrderUpdatedAt: "updated_at",
}

// syncedSQL builds a synced query's WHERE clause and arguments.
type syncedSQL struct {
	where []string
	args  []any
}

func (s *syncedSQL) arg(v any) string {
	s.args = append(s.args, v)
	return "$" + strconv.Itoa(len(s.args))
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// buildSynced reads each scope at its own snapshot instant.
func buildSynced(q ds.SyncedQuery) *syncedSQL { return buildSyncedAfter(q, nil) }

// buildSyncedAfter numbers its placeholders after args (one statement of
// several parts).
func buildSyncedAfter(q ds.SyncedQuery, args []any) *syncedSQL {
	s := &syncedSQL{args: args}
	// One disjunct per scope, spelled out, so the planner sees plain
	// column comparisons (a join with unnest of the scopes cost 3x on counts).
	var scopes []string
	for _, sc := range q.Scopes {
		t := s.arg(q.AsOf[sc.Provider])
		scopes = append(scopes, fmt.Sprintf("(provider = %s AND credential = %s AND valid_from <= %s AND valid_to > %s)",
			s.arg(sc.Provider.Key()), s.arg(sc.Credential), t, t))
	}
	s.where = append(s.where, "("+strings.Join(scopes, " OR ")+")")
	f := q.Filter
	if f.Email != nil {
		s.where = append(s.where, "email = "+s.arg(strings.ToLower(*f.Email)))
	}
	if f.Search != nil {
		pat := "%" + likeEscape(f.SearchKey()) + "%"
		s.where = append(s.where, fmt.Sprintf("(name_key LIKE %[1]s OR email_key LIKE %[1]s)", s.arg(pat)))
	}
	if len(f.Country) > 0 {
		s.where = append(s.where, "country = ANY("+s.arg(pq.Array(f.Country))+")")
	}
	return s
}

// pageSQL is one page of q in q's walking order. With an order field the
// page is two index-ordered parts, records with a value and records
// without one (which come last in the order, so first walking it
// backward), each a keyset range the planner reads straight off an index
// (a row comparison on (value, rank, vendor_id); a partial index for the
// missing ones), merged and cut to the limit.
func pageSQL(q ds.SyncedQuery) (string, []any) {
	s := buildSynced(q)
	base := strings.Join(s.where, " AND ")
	desc := (q.Order != nil && q.Order.Descending) != q.Backward
	dir, cmp := "", ">"
	if desc {
		dir, cmp = " DESC", "<"
	}
	limit := s.arg(q.Limit)
	k := q.After
	tie := func() string {
		return fmt.Sprintf("(rank, vendor_id) %s (%s::smallint, %s::text)", cmp, s.arg(int(k.Provider)), s.arg(k.VendorID))
	}
	part := func(key, cond, order string, g int) string {
		where := base
		if cond != "" {
			where += " AND " + cond
		}
		return fmt.Sprintf(`(SELECT provider, vendor_id, rank, %s AS k, body, %d AS g FROM synced_customers WHERE %s ORDER BY %s LIMIT %s)`,
			key, g, where, order, limit)
	}
	ties := fmt.Sprintf("rank%[1]s, vendor_id%[1]s", dir)
	if q.Order == nil {
		cond := ""
		if k != nil {
			cond = tie()
		}
		return fmt.Sprintf("SELECT provider, vendor_id, k, body FROM %s AS u", part("NULL::text", cond, ties, 0)), s.args
	}
	col, cast, key := orderColumns[q.Order.Field], "::text", orderColumns[q.Order.Field]+"::text"
	if q.Order.Field == ds.OrderCreatedAt || q.Order.Field == ds.OrderUpdatedAt {
		cast = "::timestamptz"
		key = "to_char(" + col + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
	}
	var valued, missing string
	if k == nil || !k.Missing || q.Backward {
		cond := col + " IS NOT NULL"
		if k != nil && !k.Missing {
			cond = fmt.Sprintf("(%s, rank, vendor_id) %s (%s%s, %s::smallint, %s::text)", col, cmp, s.arg(k.Value), cast, s.arg(int(k.Provider)), s.arg(k.VendorID))
		}
		valued = fmt.Sprintf("%s%s, %s", col, dir, ties)
		valued = part(key, cond, valued, 0)
	}
	if k == nil || k.Missing || !q.Backward {
		cond := col + " IS NULL"
		if k != nil && k.Missing {
			cond += " AND " + tie()
		}
		missing = part(key, cond, ties, 1)
	}
	parts, first := []string{}, 0
	if q.Backward {
		first = 1 // walking backward, the records without a value come first
	}
	if q.Backward {
		parts = append(parts, missing, valued)
	} else {
		parts = append(parts, valued, missing)
	}
	var present []string
	for _, p := range parts {
		if p != "" {
			present = append(present, p)
		}
	}
	group := "g"
	if first == 1 {
		group = "g DESC"
	}
	return fmt.Sprintf(`SELECT provider, vendor_id, k, body FROM (%s) AS u ORDER BY %s, k COLLATE "C"%s, %s LIMIT %s`,
		strings.Join(present, " UNION ALL "), group, dir, ties, limit), s.args
}

// checkSnapshot refuses a read without a snapshot for each scope, or with
// one older than the versions kept.
func checkSnapshot(q ds.SyncedQuery) error {
	for _, sc := range q.Scopes {
		t, ok := q.AsOf[sc.Provider]
		if !ok {
			return fmt.Errorf("postgres: synced read without a snapshot of %s", sc.Provider)
		}
		if time.Since(t) > SyncedRetention {
			return ds.Errorf(ds.CodeBadUserInput, "this cursor's snapshot is older than %s; start again without after/before", SyncedRetention)
		}
	}
	return nil
}

// SyncedPage reads one page of the synced store in one query.
func (d *DB) SyncedPage(ctx context.Context, q ds.SyncedQuery) ([]ds.SyncedRow, ds.Snapshot, error) {
	asOf := q.AsOf
	if err := checkSnapshot(q); err != nil {
		return nil, asOf, err
	}
	query, args := pageSQL(q)
	rows, err := d.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, asOf, fmt.Errorf("postgres: synced page: %w", err)
	}
	defer rows.Close()
	var out []ds.SyncedRow
	for rows.Next() {
		var prov, vid string
		var k *string
		var body []byte
		if err := rows.Scan(&prov, &vid, &k, &body); err != nil {
			return nil, asOf, fmt.Errorf("postgres: synced page: %w", err)
		}
		p, ok := ds.ParseProvider(prov)
		if !ok {
			continue
		}
		var c ds.Customer
		if err := json.Unmarshal(body, &c); err != nil {
			return nil, asOf, fmt.Errorf("postgres: synced record %s/%s: %w", prov, vid, err)
		}
		key := ds.SyncedKey{Provider: p, VendorID: vid, Missing: k == nil && q.Order != nil}
		if k != nil {
			key.Value = *k
		}
		out = append(out, ds.SyncedRow{Customer: &c, Key: key})
	}
	if err := rows.Err(); err != nil {
		return nil, asOf, fmt.Errorf("postgres: synced page: %w", err)
	}
	return out, asOf, nil
}

// SyncedCount counts the records matching q at its snapshot: one count per
// scope, each a range of the (provider, credential, valid_to, valid_from)
// index, which an unfiltered count reads alone (an index-only scan).
func (d *DB) SyncedCount(ctx context.Context, q ds.SyncedQuery) (int, error) {
	if err := checkSnapshot(q); err != nil {
		return 0, err
	}
	var parts []string
	var args []any
	for _, sc := range q.Scopes {
		one := q
		one.Scopes = []ds.Scope{sc}
		s := buildSyncedAfter(one, args)
		parts = append(parts, "(SELECT count(*) AS n FROM synced_customers WHERE "+strings.Join(s.where, " AND ")+")")
		args = s.args
	}
	if len(parts) == 0 {
		return 0, nil
	}
	var n int
	if err := d.db.GetContext(ctx, &n, `SELECT coalesce(sum(n), 0)::bigint FROM (`+strings.Join(parts, " UNION ALL ")+`) AS c`, args...); err != nil {
		return 0, fmt.Errorf("postgres: synced count: %w", err)
	}
	return n, nil
}
