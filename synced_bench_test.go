package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/postgres/pgtest"
)

// syncedRows is the size of the synthetic synced store the benchmarks read.
const syncedRows = 100_000

// BenchmarkSynced measures the synced read path over a store of 100,000
// records (the demo world synced, plus synthetic Telness rows seeded in
// one statement), through the real endpoint:
//
//	go test -run '^$' -bench BenchmarkSynced -benchtime 200x .
//
// Each sub-benchmark reports its median as ms-p50; upstream-calls is what
// the last run cost at the simulators.
func BenchmarkSynced(b *testing.B) {
	m := benchGateway(b, fmt.Sprintf("database_url: %q\nsync: {interval: 1h, gap: 1ms}", pgtest.Schema(b)))
	for _, p := range ds.AllProviders {
		if err := m.Syncer.SyncNow(b.Context(), p); err != nil {
			b.Fatalf("sync %s: %v", p, err)
		}
	}
	var cred string
	for _, sc := range m.Service.Scopes() {
		if sc.Provider == ds.Telness {
			cred = sc.Credential
		}
	}
	// Names with and without diacritics; name_key is their fold, as the sync writes it.
	_, err := m.db.SQL().Exec(`
		INSERT INTO synced_customers (provider, credential, vendor_id, rank, valid_from, seen_at, digest,
			name_key, email_key, email, country, created_at, updated_at, body)
		SELECT 'telness', $1, 'synthetic-' || i, $2::smallint, now() - interval '1 hour', now() - interval '1 hour', md5(i::text),
			lower(gk[1 + i % 8] || ' ' || fk[1 + (i / 8) % 10]), e, e, c[1 + i % 4],
			now() - (i || ' minutes')::interval, now() - (i || ' seconds')::interval,
			convert_to(json_build_object('Provider', $2::int, 'ProviderID', 'synthetic-' || i,
				'Name', g[1 + i % 8] || ' ' || f[1 + (i / 8) % 10], 'Email', e,
				'Address', json_build_object('Country', c[1 + i % 4]))::text, 'UTF8')
		FROM (SELECT ARRAY['Václav','Jiří','Anna','Søren','Émile','Zoë','Łukasz','Maria'] AS g,
			        ARRAY['Vaclav','Jiri','Anna','Soren','Emile','Zoe','Lukasz','Maria'] AS gk,
			        ARRAY['Kučera','Novák','Dvořák','Svensson','Müller','Öberg','Nilsson','Smith','Jones','García'] AS f,
			        ARRAY['Kucera','Novak','Dvorak','Svensson','Muller','Oberg','Nilsson','Smith','Jones','Garcia'] AS fk,
			        ARRAY['SE','CZ','DE','US'] AS c) AS names,
			generate_series(1, $3) AS i,
			LATERAL (SELECT lower(gk[1 + i % 8] || '.' || fk[1 + (i / 8) % 10]) || '.' || i || '@example.com' AS e) AS em`, cred, int(ds.Telness), syncedRows)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.db.SQL().Exec(`VACUUM ANALYZE synced_customers`); err != nil {
		b.Fatal(err)
	}
	run := func(name, q string, check func(gqlResponse)) {
		b.Run(name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				before := upstream(m)
				start := time.Now()
				r := benchQuery(b, m, q, nil)
				took = append(took, time.Since(start))
				check(r)
				b.ReportMetric(float64(upstream(m)-before), "upstream-calls")
			}
			sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "ms-p50")
		})
	}
	nodes := func(want int) func(gqlResponse) {
		return func(r gqlResponse) {
			var d struct {
				Customers struct{ Nodes []struct{ ID string } }
			}
			if err := json.Unmarshal(r.Data, &d); err != nil || len(d.Customers.Nodes) != want {
				b.Fatalf("%d nodes, want %d: %v", len(d.Customers.Nodes), want, err)
			}
		}
	}
	run("search_orderBy_NAME_first100", `{ customers(first: 100, orderBy: {field: NAME, direction: ASC}, filter: {search: "kucera"}) { nodes { id name } pageInfo { endCursor } } }`, nodes(100))
	run("totalCount_100k", `{ customers(first: 1, orderBy: {field: NAME, direction: ASC}) { totalCount } }`, func(r gqlResponse) {
		var d struct{ Customers struct{ TotalCount int } }
		if err := json.Unmarshal(r.Data, &d); err != nil || d.Customers.TotalCount < syncedRows {
			b.Fatalf("totalCount %d: %v", d.Customers.TotalCount, err)
		}
	})
	run("typeahead_nomatch", `{ customers(first: 2, filter: {search: "nomatch"}) { totalCount nodes { id } } }`, nodes(0))
}
