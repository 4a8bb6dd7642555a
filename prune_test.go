package main

import (
	"context"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	ds "github.com/federated-customers/gateway/datasource"
	drsim "github.com/federated-customers/gateway/datasource/digitalriver/sim"
	"github.com/federated-customers/gateway/postgres/pgtest"
)

// indexRows is how many identities rows the schema at url holds for a
// Digital River vendor id ("" = all of them).
func indexRows(t *testing.T, url, vendorID string) int {
	t.Helper()
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM identities WHERE provider = 'digitalriver' AND ($1 = '' OR vendor_id = $1)`, vendorID); err != nil {
		t.Fatal(err)
	}
	return n
}

// syncRecords is what { providers { sync { records } } } says for Digital River.
func syncRecords(t *testing.T, m *testGateway) int {
	t.Helper()
	d := mustData[struct {
		Providers []struct {
			Provider string
			Sync     *struct{ Records int }
		}
	}](t, m.query(t, `{ providers { provider sync { records } } }`, nil))
	for _, p := range d.Providers {
		if p.Provider == ds.DigitalRiver.String() && p.Sync != nil {
			return p.Sync.Records
		}
	}
	t.Fatal("no Digital River sync status")
	return 0
}

// deleteAtVendor deletes a Digital River customer behind the gateway's back.
func deleteAtVendor(t *testing.T, base, id string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, base+"/customers/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+drsim.APIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE at the simulator: %d", resp.StatusCode)
	}
}

func drGateway(t *testing.T, dbURL string) (*testGateway, string) {
	t.Helper()
	providers, sims := vendors(t, nil, nil, ds.DigitalRiver)
	return startGateway(t, withPostgres(dbURL), withConfig("sync: {interval: 1h, gap: 1ms}\n"+providers)), sims[ds.DigitalRiver].URL
}

// TestACompleteWalkForgetsRecordsDeletedAtTheVendor: the index, the
// record store and sync.records lose a record deleted behind the
// gateway's back at the next complete walk.
func TestACompleteWalkForgetsRecordsDeletedAtTheVendor(t *testing.T) {
	url := pgtest.Schema(t)
	m, base := drGateway(t, url)
	ctx := context.Background()
	if err := m.Syncer.SyncNow(ctx, ds.DigitalRiver); err != nil {
		t.Fatal(err)
	}
	before := syncRecords(t, m)
	page := mustData[customersPage](t, m.query(t, pageQuery, map[string]any{"first": 2}))
	victim := page.Customers.Edges[1].Node
	if emailAt(t, m, victim.ID) == "" || indexRows(t, url, victim.ProviderID) != 1 {
		t.Fatal("setup: the record is not cached and indexed")
	}
	deleteAtVendor(t, base, victim.ProviderID)
	if err := m.Syncer.SyncNow(ctx, ds.DigitalRiver); err != nil {
		t.Fatal(err)
	}
	if got := syncRecords(t, m); got != before-1 {
		t.Fatalf("sync.records = %d after the walk, want %d", got, before-1)
	}
	if n := indexRows(t, url, ""); n != before-1 {
		t.Fatalf("the Postgres index holds %d rows, want %d", n, before-1)
	}
	if indexRows(t, url, victim.ProviderID) != 0 {
		t.Fatal("the deleted record is still in the Postgres index")
	}
	if got := emailAt(t, m, victim.ID); got != "" {
		t.Fatalf("the deleted record is still answered (%q)", got)
	}
	if met := m.scrapeMetrics(t); !regexp.MustCompile(`gateway_sync_records_removed_total\{provider="DIGITAL_RIVER"\} [1-9]`).MatchString(met) {
		t.Fatal("/metrics does not count the removed record")
	}
}

// TestADropPostgresMissedIsAppliedWhenItReturns: a delete through the
// gateway while Postgres is down drops the index row in process at once
// and in Postgres once it answers again.
func TestADropPostgresMissedIsAppliedWhenItReturns(t *testing.T) {
	t.Parallel()
	url := pgtest.Schema(t)
	proxy, via := pgtest.NewProxy(t, url)
	m, _ := drGateway(t, via)
	if err := m.Syncer.SyncNow(context.Background(), ds.DigitalRiver); err != nil {
		t.Fatal(err)
	}
	page := mustData[customersPage](t, m.query(t, pageQuery, map[string]any{"first": 3}))
	victim := page.Customers.Edges[2].Node
	proxy.Cut()
	if r := m.query(t, `mutation($id: ID!) { deleteCustomer(id: $id) }`, map[string]any{"id": victim.ID}); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	if indexRows(t, url, victim.ProviderID) != 1 {
		t.Fatal("setup: Postgres saw the drop though it was cut off")
	}
	proxy.Restore()
	waitFor(t, 15*time.Second, func() bool { return indexRows(t, url, victim.ProviderID) == 0 }, "the missed drop to reach Postgres")
}
