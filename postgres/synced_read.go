// The synced store's reads: one keyset page over a snapshot (SyncedPage) and its exact count.

package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"

	ds "github.com/federated-customers/gateway/datasource"
)

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
