package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/lib/pq"

	ds "github.com/federated-customers/gateway/datasource"
)

// People (migration 011): the person of every synced record, regrouped
// after each complete walk, and the people connection's reads.

// AllIdentities returns every indexed record of scopes: what people are
// grouped from.
func (d *DB) AllIdentities(ctx context.Context, scopes []ds.Scope) ([]ds.Identity, error) {
	provs, creds := scopeArrays(scopes)
	return d.identities(ctx, `WHERE (provider, credential) IN (SELECT * FROM unnest($1::text[], $2::text[]))`, pq.Array(provs), pq.Array(creds))
}

// ReplacePeople stores the grouping of scope set set: each record's person.
func (d *DB) ReplacePeople(ctx context.Context, set string, creds map[ds.ProviderID]string, people map[ds.CustomerKey]string) error {
	n := len(people)
	provs, cs, vids, persons := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	for k, p := range people {
		provs, cs, vids, persons = append(provs, k.Provider.Key()), append(cs, creds[k.Provider]), append(vids, k.ProviderID), append(persons, p)
	}
	tx, err := d.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("postgres: replace people: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	// Walks of several providers finish together: their groupings replace
	// one another in turn, never interleaved.
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':people:' || $1))`, set); err != nil {
		return fmt.Errorf("postgres: replace people: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM synced_people WHERE scope_set = $1`, set); err != nil {
		return fmt.Errorf("postgres: replace people: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO synced_people (scope_set, provider, credential, vendor_id, person)
		SELECT $1::text, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[])`,
		set, pq.Array(provs), pq.Array(cs), pq.Array(vids), pq.Array(persons)); err != nil {
		return fmt.Errorf("postgres: replace people: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("postgres: replace people: %w", err)
	}
	return nil
}

// peopleMatching is the people with a current record in q's scopes that
// matches q's filter.
func peopleMatching(q ds.PeopleQuery) (string, *syncedSQL) {
	s := buildSynced(q.SyncedQuery)
	where := strings.Join(s.where, " AND ")
	return fmt.Sprintf(`SELECT DISTINCT p.person FROM synced_people p WHERE p.scope_set = %s
		AND (p.provider, p.credential, p.vendor_id) IN (SELECT provider, credential, vendor_id FROM synced_customers WHERE %s)`,
		s.arg(q.ScopeSet), where), s
}

// People reads one page of people in person order, each with its records
// within q's scopes.
func (d *DB) People(ctx context.Context, q ds.PeopleQuery) ([]ds.Person, error) {
	if err := checkSnapshot(q.SyncedQuery); err != nil {
		return nil, err
	}
	matching, s := peopleMatching(q)
	after := ""
	if q.After != "" {
		after = " WHERE m.person > " + s.arg(q.After)
	}
	provs, creds := scopeArrays(q.RecordScopes)
	query := fmt.Sprintf(`SELECT m.person, array_agg(p.provider || '/' || p.vendor_id ORDER BY p.provider, p.vendor_id) AS recs
		FROM (SELECT person FROM (%s) AS x ORDER BY person) AS m
		JOIN synced_people p ON p.scope_set = %s AND p.person = m.person
			AND (p.provider, p.credential) IN (SELECT * FROM unnest(%s::text[], %s::text[]))
		%s GROUP BY m.person ORDER BY m.person LIMIT %s`,
		matching, s.arg(q.ScopeSet), s.arg(pq.Array(provs)), s.arg(pq.Array(creds)), after, s.arg(q.Limit))
	rows, err := d.db.QueryContext(ctx, query, s.args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: people: %w", err)
	}
	defer rows.Close()
	var out []ds.Person
	for rows.Next() {
		var person string
		var recs []string
		if err := rows.Scan(&person, pq.Array(&recs)); err != nil {
			return nil, fmt.Errorf("postgres: people: %w", err)
		}
		out = append(out, ds.NewPerson(person, recs))
	}
	return out, rows.Err()
}

// CountPeople counts the people with a record matching q.
func (d *DB) CountPeople(ctx context.Context, q ds.PeopleQuery) (int, error) {
	if err := checkSnapshot(q.SyncedQuery); err != nil {
		return 0, err
	}
	matching, s := peopleMatching(q)
	var n int
	if err := d.db.GetContext(ctx, &n, `SELECT count(*) FROM (`+matching+`) AS m`, s.args...); err != nil {
		return 0, fmt.Errorf("postgres: count people: %w", err)
	}
	return n, nil
}

// PeopleOf returns the person of each of keys, with its records in scopes.
func (d *DB) PeopleOf(ctx context.Context, set string, scopes []ds.Scope, keys []ds.CustomerKey) (map[ds.CustomerKey]ds.Person, error) {
	var kp, kv []string
	for _, k := range keys {
		kp, kv = append(kp, k.Provider.Key()), append(kv, k.ProviderID)
	}
	provs, creds := scopeArrays(scopes)
	rows, err := d.db.QueryContext(ctx, `
		SELECT k.provider || '/' || k.vendor_id, p.person,
			array_agg(m.provider || '/' || m.vendor_id ORDER BY m.provider, m.vendor_id)
		FROM unnest($2::text[], $3::text[]) AS k(provider, vendor_id)
		JOIN synced_people p ON p.scope_set = $1 AND p.provider = k.provider AND p.vendor_id = k.vendor_id
		JOIN synced_people m ON m.scope_set = $1 AND m.person = p.person
			AND (m.provider, m.credential) IN (SELECT * FROM unnest($4::text[], $5::text[]))
		GROUP BY 1, 2`, set, pq.Array(kp), pq.Array(kv), pq.Array(provs), pq.Array(creds))
	if err != nil {
		return nil, fmt.Errorf("postgres: people of: %w", err)
	}
	defer rows.Close()
	out := map[ds.CustomerKey]ds.Person{}
	for rows.Next() {
		var key, person string
		var recs []string
		if err := rows.Scan(&key, &person, pq.Array(&recs)); err != nil {
			return nil, fmt.Errorf("postgres: people of: %w", err)
		}
		if k, ok := ds.ParseRecordKey(key); ok {
			out[k] = ds.NewPerson(person, recs)
		}
	}
	return out, rows.Err()
}
