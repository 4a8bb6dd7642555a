package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/demo"
	drsim "github.com/federated-customers/gateway/datasource/digitalriver/sim"
	"github.com/federated-customers/gateway/datasource/federate"
	"github.com/federated-customers/gateway/postgres/pgtest"
)

// fullNode is a customer with every field an order or filter reads.
// (JSON matches the GraphQL names to the fields without tags, ignoring case.)
type fullNode struct {
	Provider, ProviderID              string
	Name, Email, CreatedAt, UpdatedAt *string
	Address                           *struct{ Country *string }
}

func (n fullNode) key() string { return n.Provider + "/" + n.ProviderID }

const orderedQuery = `query($first: Int, $after: String, $last: Int, $before: String, $filter: CustomerFilter, $orderBy: CustomerOrder) {
  customers(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes { provider providerId name email createdAt updatedAt address { country } }
  }
}`

type orderedPage struct {
	Customers struct {
		TotalCount *int `json:"totalCount"`
		PageInfo   struct {
			HasNextPage, HasPreviousPage bool
			StartCursor, EndCursor       *string
		} `json:"pageInfo"`
		Nodes []fullNode `json:"nodes"`
	} `json:"customers"`
}

// orderedWalk walks customers forward (or backward with last/before) and
// returns the records in list order, and the first page's totalCount.
func (m *testGateway) orderedWalk(t *testing.T, size int, backward bool, filter, order map[string]any) ([]fullNode, *int) {
	t.Helper()
	var out []fullNode
	var total *int
	var cursor any
	for i := 0; i < 2000; i++ {
		vars := map[string]any{"filter": filter, "orderBy": order}
		if backward {
			vars["last"], vars["before"] = size, cursor
		} else {
			vars["first"], vars["after"] = size, cursor
		}
		r := m.query(t, orderedQuery, vars)
		page := mustData[orderedPage](t, r)
		for p, f := range freshness(t, r) {
			if f["freshness"] != "SYNCED" || f["calls"].(float64) != 0 {
				t.Fatalf("%s: %v, want SYNCED with no call", p, f)
			}
		}
		c := page.Customers
		if i == 0 {
			total = c.TotalCount
		}
		if len(c.Nodes) > size {
			t.Fatalf("page of %d for size %d", len(c.Nodes), size)
		}
		more := c.PageInfo.HasNextPage
		if backward {
			out = append(slices.Clone(c.Nodes), out...)
			more = c.PageInfo.HasPreviousPage
			cursor = c.PageInfo.StartCursor
		} else {
			out = append(out, c.Nodes...)
			cursor = c.PageInfo.EndCursor
		}
		if !more {
			return out, total
		}
	}
	t.Fatal("walk did not end")
	return nil, nil
}

// truth reads every customer live (a plain walk: each provider in its
// native order) and applies the filter with the test's own reading of it.
func (m *testGateway) truth(t *testing.T) []fullNode {
	t.Helper()
	const q = `query($after: String) { customers(first: 100, after: $after) {
	  pageInfo { hasNextPage endCursor } nodes { provider providerId name email createdAt updatedAt address { country } } } }`
	var out []fullNode
	var after any
	for {
		page := mustData[orderedPage](t, m.query(t, q, map[string]any{"after": after}))
		out = append(out, page.Customers.Nodes...)
		if !page.Customers.PageInfo.HasNextPage {
			return out
		}
		after = *page.Customers.PageInfo.EndCursor
	}
}

// testFilter is the test's own reading of the filters it uses.
type testFilter struct {
	search  string
	country string
}

func (f testFilter) vars() map[string]any {
	v := map[string]any{}
	if f.search != "" {
		v["search"] = f.search
	}
	if f.country != "" {
		v["country"] = []string{f.country}
	}
	return v
}

func (f testFilter) match(n fullNode) bool {
	if f.search != "" {
		q := ds.Fold(f.search)
		if !(n.Name != nil && strings.Contains(ds.Fold(*n.Name), q)) && !(n.Email != nil && strings.Contains(ds.Fold(*n.Email), q)) {
			return false
		}
	}
	if f.country != "" && (n.Address == nil || n.Address.Country == nil || !strings.EqualFold(*n.Address.Country, f.country)) {
		return false
	}
	return true
}

var providerRank = map[string]int{"CARECLOUD": 0, "KINTSUGI": 1, "DIGITAL_RIVER": 2, "TELNESS": 3, "COMMERCE_LAYER": 4}

// sortedTruth orders records as the README documents it: by the field's
// value (names and emails by their folded key, byte by byte), missing values
// last in both directions, ties by provider then vendor id; descending is
// ascending reversed but for the missing values.
func sortedTruth(t *testing.T, all []fullNode, f testFilter, field string, desc bool) []string {
	t.Helper()
	type row struct {
		n       fullNode
		missing bool
		v       string
	}
	var rows []row
	for _, n := range all {
		if !f.match(n) {
			continue
		}
		var v *string
		switch field {
		case "NAME":
			v = n.Name
		case "EMAIL":
			v = n.Email
		case "CREATED_AT":
			v = n.CreatedAt
		case "UPDATED_AT":
			v = n.UpdatedAt
		}
		r := row{n: n, missing: v == nil}
		if v != nil {
			r.v = ds.Fold(*v)
			if strings.HasSuffix(field, "_AT") {
				tm, err := time.Parse(time.RFC3339Nano, *v)
				if err != nil {
					t.Fatal(err)
				}
				r.v = tm.UTC().Format("2006-01-02T15:04:05.000000000")
			}
		}
		rows = append(rows, r)
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.missing != b.missing {
			return b.missing
		}
		c := strings.Compare(a.v, b.v)
		if c == 0 {
			c = providerRank[a.n.Provider] - providerRank[b.n.Provider]
		}
		if c == 0 {
			c = strings.Compare(a.n.ProviderID, b.n.ProviderID)
		}
		if desc {
			c = -c
		}
		return c < 0
	})
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.n.key()
	}
	return out
}

func nodeKeys(ns []fullNode) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.key()
	}
	return out
}

func TestSyncedOrderByEveryFieldAndDirectionMatchesTheSimulatorsData(t *testing.T) {
	t.Parallel()
	m := startGateway(t, withPostgres(), withSimulated(nil), withSynced())
	all := m.truth(t)
	if len(all) < 300 {
		t.Fatalf("truth has %d records", len(all))
	}
	m.resetKits(t)
	filters := []testFilter{{}, {search: "an"}, {country: "SE"}, {search: "a", country: "US"}}
	t.Run("orders", func(t *testing.T) { // returns once every order's walks are done
		for _, field := range []string{"NAME", "EMAIL", "CREATED_AT", "UPDATED_AT"} {
			for _, dir := range []string{"ASC", "DESC"} {
				t.Run(field+" "+dir, func(t *testing.T) {
					t.Parallel() // read-only walks of the synced store
					for fi, f := range filters {
						want := sortedTruth(t, all, f, field, dir == "DESC")
						sizes := []int{7, 100}
						switch {
						case fi == 0 && field != "NAME":
							sizes = []int{100} // every list at 7 is walked once, by NAME: the shared machine's time
						case fi > 1:
							sizes = append(sizes, 1) // page size 1 on the small filtered lists
						}
						for _, size := range sizes {
							for _, backward := range []bool{false, true} {
								name := fmt.Sprintf("%s %s filter %+v size %d backward %v", field, dir, f, size, backward)
								got, total := m.orderedWalk(t, size, backward, f.vars(), map[string]any{"field": field, "direction": dir})
								if !slices.Equal(nodeKeys(got), want) {
									t.Fatalf("%s: %d records, want %d in the documented order\n got %v\nwant %v", name, len(got), len(want), head(nodeKeys(got)), head(want))
								}
								if total == nil || *total != len(want) {
									t.Fatalf("%s: totalCount %s, want %d", name, deref(total), len(want))
								}
							}
						}
					}
				})
			}
		}
	})
	if calls := m.upstreamCalls(t); calls[ds.DigitalRiver]+calls[ds.Kintsugi]+calls[ds.Telness]+calls[ds.CommerceLayer] != 0 {
		t.Fatalf("synced walks called providers: %v", calls)
	}
}

func head(s []string) []string { return s[:min(len(s), 8)] }

func TestTheSyncedOrderEqualsTheLiveMergeWhereLiveCanServeIt(t *testing.T) {
	t.Parallel()
	synced := startGateway(t, withPostgres(), withSimulated(nil), withSynced())
	f := map[string]any{"providers": []string{"COMMERCE_LAYER"}}
	for _, field := range []string{"CREATED_AT", "UPDATED_AT"} { // its EMAIL sort keeps case: not the federated order
		for _, dir := range []string{"ASC", "DESC"} {
			t.Run(field+" "+dir, func(t *testing.T) {
				// four long walks of pages of 7, each live one under a vendor quota of its own
				t.Parallel()
				live := startGateway(t)
				o := map[string]any{"field": field, "direction": dir}
				got, _ := synced.orderedWalk(t, 7, false, f, o)
				var want []fullNode
				var after any
				for {
					page := mustData[orderedPage](t, live.query(t, orderedQuery, map[string]any{"first": 7, "after": after, "filter": f, "orderBy": o}))
					want = append(want, page.Customers.Nodes...)
					if !page.Customers.PageInfo.HasNextPage {
						break
					}
					after = *page.Customers.PageInfo.EndCursor
				}
				if len(want) == 0 || !slices.Equal(nodeKeys(got), nodeKeys(want)) {
					t.Fatalf("%s %s: synced %v, live %v", field, dir, head(nodeKeys(got)), head(nodeKeys(want)))
				}
			})
		}
	}
}

func TestAnOrderLiveCannotServeNamesTheProviderAndTheSync(t *testing.T) {
	t.Parallel()
	m := startGateway(t) // no database: nothing synced
	r := m.query(t, orderedQuery, map[string]any{"first": 5, "orderBy": map[string]any{"field": "NAME", "direction": "ASC"}})
	if len(r.Errors) != 1 || r.codes()[0] != "UNSUPPORTED_BY_PROVIDER" || r.Errors[0].Extensions["provider"] == nil ||
		!strings.Contains(r.Errors[0].Message, "sync") {
		t.Fatalf("errors %+v", r.Errors)
	}
}

func TestSearchFoldsAccentsAndCaseTheSameLiveAndSynced(t *testing.T) {
	t.Parallel()
	synced, live := startGateway(t, withPostgres(), withSimulated(nil), withSynced()), startGateway(t)
	all := synced.truth(t)
	// A demo person whose name carries diacritics, asked for in plain ASCII.
	var accented string
	for _, n := range all {
		if n.Name != nil && ds.Fold(*n.Name) != strings.ToLower(*n.Name) && n.Provider == "DIGITAL_RIVER" {
			accented = *n.Name
			break
		}
	}
	if accented == "" {
		t.Fatal("the demo world has no name with diacritics at Digital River")
	}
	ascii := strings.ToUpper(ds.Fold(accented))
	for _, tc := range []struct {
		name   string
		filter map[string]any
	}{
		{"every provider", map[string]any{"search": ascii}},
		{"digital river (no native search: live post-filters it all)", map[string]any{"search": ascii, "providers": []string{"DIGITAL_RIVER"}}},
	} {
		want := []string{}
		tf := testFilter{search: ascii}
		for _, n := range all {
			if tf.match(n) && (tc.filter["providers"] == nil || n.Provider == "DIGITAL_RIVER") {
				want = append(want, n.key())
			}
		}
		sort.Strings(want)
		got, _ := synced.orderedWalk(t, 100, false, tc.filter, nil)
		gk := nodeKeys(got)
		sort.Strings(gk)
		if len(want) == 0 || !slices.Equal(gk, want) {
			t.Fatalf("%s: synced search %q found %v, want %v (%q)", tc.name, ascii, gk, want, accented)
		}
		if tc.filter["providers"] != nil {
			lk := keys(live.walk(t, 100, tc.filter))
			sort.Strings(lk)
			if !slices.Equal(lk, want) {
				t.Fatalf("%s: live search %q found %v, synced %v", tc.name, ascii, lk, want)
			}
		}
	}
}

func TestTheTypeAheadMakesNoUpstreamCallWhenSynced(t *testing.T) {
	t.Parallel()
	m := startGateway(t, withPostgres(), withSimulated(nil), withSynced())
	r := m.query(t, `{ customers(first: 2, filter: {search: "nomatch"}) { totalCount nodes { id } } }`, nil)
	page := mustData[struct {
		Customers struct {
			TotalCount *int
			Nodes      []struct{ ID string }
		}
	}](t, r)
	if page.Customers.TotalCount == nil || *page.Customers.TotalCount != 0 || len(page.Customers.Nodes) != 0 {
		t.Fatalf("type-ahead: %+v", page)
	}
	if !m.noUpstreamCall(t, "") {
		t.FailNow()
	}
	f := freshness(t, r)
	if len(f) != 4 {
		t.Fatalf("extensions.providers: %v, want the four customer providers", f)
	}
	for p, fr := range f {
		if fr["freshness"] != "SYNCED" || fr["ageSeconds"] == nil || fr["calls"].(float64) != 0 {
			t.Fatalf("%s: %v, want SYNCED with its age and no call", p, fr)
		}
	}
}

// A page up to ds.MaxSyncedFirst (past the live federate.MaxFirst) is answered whole
// from the synced store; the default query's count is
// TestTheDefaultQuerysTotalCountIsExactOnceSynced.
func TestAnOrderedPageOfAThousandIsWholeWithAnExactTotalCountWhenSynced(t *testing.T) {
	t.Parallel()
	m := startGateway(t, withPostgres(), withSimulated(nil), withSynced())
	all := m.truth(t)
	page := mustData[orderedPage](t, m.query(t, orderedQuery, map[string]any{"first": 1000, "orderBy": map[string]any{"field": "NAME", "direction": "ASC"}}))
	if page.Customers.TotalCount == nil || *page.Customers.TotalCount != len(all) || len(page.Customers.Nodes) != len(all) {
		t.Fatalf("first 1000: %d nodes, totalCount %s; want %d", len(page.Customers.Nodes), deref(page.Customers.TotalCount), len(all))
	}
}

// drUpdate changes a record at the Digital River simulator directly, as
// someone outside the gateway would.
func drUpdate(t *testing.T, m *testGateway, id, email string) {
	t.Helper()
	body := fmt.Sprintf(`{"email": %q}`, email)
	req := httptest.NewRequest(http.MethodPost, "/customers/"+id, bytes.NewReader([]byte(body)))
	req.Header.Set("Authorization", "Bearer "+drsim.APIKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	rec := httptest.NewRecorder()
	m.Sims[ds.DigitalRiver].ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("update at the simulator: %d %s", rec.Code, rec.Body)
	}
}

func TestAChangeShowsAfterTheNextSyncAndNeverTwiceInAWalkSpanningIt(t *testing.T) {
	t.Parallel()
	m := startGateway(t, withPostgres(), withSimulated(nil), withSynced())
	f := map[string]any{"providers": []string{"DIGITAL_RIVER"}}
	o := map[string]any{"field": "UPDATED_AT", "direction": "ASC"}
	first := mustData[orderedPage](t, m.query(t, orderedQuery, map[string]any{"first": 7, "filter": f, "orderBy": o}))
	changed := first.Customers.Nodes[0]
	email := "changed." + changed.ProviderID + "@example.com"
	drUpdate(t, m, changed.ProviderID, email)
	if err := m.Syncer.SyncNow(t.Context(), ds.DigitalRiver); err != nil {
		t.Fatal(err)
	}
	// The walk begun before the sync goes on over its snapshot: the changed
	// record (now the most recently updated) does not come again.
	seen := map[string]int{}
	for _, n := range first.Customers.Nodes {
		seen[n.key()]++
	}
	after := first.Customers.PageInfo.EndCursor
	for after != nil {
		page := mustData[orderedPage](t, m.query(t, orderedQuery, map[string]any{"first": 7, "after": *after, "filter": f, "orderBy": o}))
		for _, n := range page.Customers.Nodes {
			seen[n.key()]++
			if seen[n.key()] > 1 {
				t.Fatalf("%s came twice in one walk", n.key())
			}
		}
		after = nil
		if page.Customers.PageInfo.HasNextPage {
			after = page.Customers.PageInfo.EndCursor
		}
	}
	// A new walk shows the change.
	all, _ := m.orderedWalk(t, 100, false, f, o)
	last := all[len(all)-1]
	if last.key() != changed.key() || last.Email == nil || *last.Email != email || len(all) != len(seen) {
		t.Fatalf("after the sync the last updated is %s %v (of %d, walk had %d), want %s with %s", last.key(), last.Email, len(all), len(seen), changed.key(), email)
	}
}

func TestWithPostgresGoneTheSyncedQueriesAreServedLive(t *testing.T) {
	t.Parallel()
	proxy, url := pgtest.NewProxy(t, pgtest.Schema(t))
	m := startGateway(t, withPostgres(url), withSimulated(nil), withSynced())
	f := map[string]any{"search": "an", "providers": []string{"DIGITAL_RIVER", "TELNESS"}}
	var page orderedPage
	// Under load the shared level may blink out for a moment (an operation
	// past its bound); wait for the synced path to answer before the cut.
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := m.query(t, orderedQuery, map[string]any{"first": 5, "filter": f})
		page = mustData[orderedPage](t, r)
		if fr := freshness(t, r)["TELNESS"]; fr["freshness"] == "SYNCED" && page.Customers.PageInfo.EndCursor != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("with Postgres up, never served from the synced store: %v", r.Extensions)
		}
		time.Sleep(100 * time.Millisecond)
	}
	proxy.Cut()
	t.Cleanup(proxy.Restore)
	live := m.query(t, orderedQuery, map[string]any{"first": 5, "filter": f})
	lp := mustData[orderedPage](t, live)
	if fr := freshness(t, live)["TELNESS"]; fr["freshness"] == "SYNCED" || len(lp.Customers.Nodes) != 5 {
		t.Fatalf("with Postgres gone: %v, %d nodes", fr, len(lp.Customers.Nodes))
	}
	if m.kit(t, ds.Telness).Count() == 0 {
		t.Fatal("served live without a call")
	}
	// A synced cursor cannot go on live (another order, another snapshot).
	next := m.query(t, orderedQuery, map[string]any{"first": 5, "after": *page.Customers.PageInfo.EndCursor, "filter": f})
	if len(next.Errors) != 1 || next.codes()[0] != "BAD_USER_INPUT" || !strings.Contains(next.Errors[0].Message, "start again") {
		t.Fatalf("synced cursor with Postgres gone: %+v", next.Errors)
	}
}

func TestASyncOlderThanServeMaxAgeIsNotServedAndTheErrorSaysSo(t *testing.T) {
	t.Parallel()
	m := startGateway(t, withPostgres(), withSimulated(nil), withSynced(", serve_max_age: 1ms"))
	time.Sleep(5 * time.Millisecond)
	r := m.query(t, orderedQuery, map[string]any{"first": 5, "orderBy": map[string]any{"field": "NAME", "direction": "ASC"}})
	if len(r.Errors) != 1 || r.codes()[0] != "UNSUPPORTED_BY_PROVIDER" || !strings.Contains(r.Errors[0].Message, "serve_max_age") {
		t.Fatalf("errors %+v", r.Errors)
	}
}

func TestTheDefaultQuerysTotalCountIsExactOnceSynced(t *testing.T) {
	t.Parallel()
	m := startGateway(t, withPostgres(), withSimulated(nil), withSynced())
	all := m.truth(t)
	r := m.query(t, customersQuery, map[string]any{"first": 20})
	page := mustData[customersPage](t, r)
	if page.Customers.TotalCount == nil || *page.Customers.TotalCount != len(all) {
		t.Fatalf("default query totalCount %s, want %d", deref(page.Customers.TotalCount), len(all))
	}
	if fr := freshness(t, r)["DIGITAL_RIVER"]; fr["freshness"] != "SYNCED" {
		t.Fatalf("Digital River's count: %v", fr)
	}
	// Without a database it stays null: Digital River's list has no total.
	if p := mustData[customersPage](t, startGateway(t).query(t, customersQuery, map[string]any{"first": 20})); p.Customers.TotalCount != nil {
		t.Fatalf("without a sync: totalCount %d", *p.Customers.TotalCount)
	}
}

// TestTheReadmeExportScriptWritesEveryCustomerOnce runs the README's CSV
// export against a synced gateway.
func TestTheReadmeExportScriptWritesEveryCustomerOnce(t *testing.T) {
	for _, tool := range []string{"sh", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the README's export script needs %s, which this machine lacks", tool)
		}
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "Export every customer to CSV")
	_, rest, ok2 := strings.Cut(rest, "```sh\n")
	script, _, ok3 := strings.Cut(rest, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README has no export script")
	}
	if n := strings.Count(strings.TrimSpace(script), "\n") + 1; n > 10 {
		t.Fatalf("the export script has %d lines, the README promises ten", n)
	}
	m := startGateway(t, withPostgres(), withSimulated(nil), withSynced())
	all := m.truth(t)
	cmd := exec.Command("sh", "-c", script)
	cmd.Env = append(os.Environ(), "GATEWAY=http://"+m.Addr)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("script: %v", err)
	}
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range rows[1:] {
		if seen[r[0]] {
			t.Fatalf("%s exported twice", r[0])
		}
		seen[r[0]] = true
	}
	if len(seen) != len(all) || rows[0][0] != "id" {
		t.Fatalf("exported %d customers, want %d", len(seen), len(all))
	}
}

func TestAWalkWhoseWritesDidNotLandIsNotServedFromTheStore(t *testing.T) {
	t.Parallel()
	proxy, url := pgtest.NewProxy(t, pgtest.Schema(t))
	m := startGateway(t, withPostgres(url), withConfig("sync: {interval: 1h, gap: 1ms}\nproviders:\n  telness: {simulate: true}\n"))
	ordered := map[string]any{"first": 5, "orderBy": map[string]any{"field": "NAME", "direction": "ASC"}}
	proxy.Cut()
	if err := m.Syncer.SyncNow(t.Context(), ds.Telness); err != nil {
		t.Fatalf("the walk itself reads Telness: %v", err)
	}
	m.restorePostgres(t, proxy)
	r := m.query(t, orderedQuery, ordered)
	if len(r.Errors) != 1 || r.codes()[0] != "UNSUPPORTED_BY_PROVIDER" || !strings.Contains(r.Errors[0].Message, "no complete walk") {
		t.Fatalf("after a walk whose writes were lost: %+v", r.Errors)
	}
	if err := m.Syncer.SyncNow(t.Context(), ds.Telness); err != nil {
		t.Fatal(err)
	}
	page := mustData[orderedPage](t, m.query(t, orderedQuery, ordered))
	if len(page.Customers.Nodes) != 5 {
		t.Fatalf("after a walk that landed: %d nodes", len(page.Customers.Nodes))
	}
}

func TestASyncedCursorOlderThanTheKeptVersionsIsRefused(t *testing.T) {
	t.Parallel()
	m := startGateway(t, withPostgres(), withSimulated(nil), withSynced())
	f, err := federate.NormalizeFilter(ds.Filter{Providers: []ds.ProviderID{ds.Telness}})
	if err != nil {
		t.Fatal(err)
	}
	o := &ds.Order{Field: ds.OrderName}
	fp := ds.Fingerprint(struct {
		F ds.Filter
		O *ds.Order
	}{f, o})
	old := time.Now().Add(-25 * time.Hour).UnixMicro()
	token := fmt.Sprintf(`{"k":{"p":%d,"i":"x","v":"a"},"t":{"telness":%d}}`, int(ds.Telness), old)
	cursor := m.Service.Cursors.Encode("y", fp, ds.Position{Provider: ds.Telness, Token: token})
	r := m.query(t, orderedQuery, map[string]any{"first": 5, "after": cursor, "filter": map[string]any{"providers": []string{"TELNESS"}},
		"orderBy": map[string]any{"field": "NAME", "direction": "ASC"}})
	if len(r.Errors) != 1 || r.codes()[0] != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "older than") {
		t.Fatalf("a 25 h old cursor: %+v", r.Errors)
	}
}

func TestALiveSearchSaysWhereAccentsMayBeMissed(t *testing.T) {
	t.Parallel()
	live, synced := startGateway(t), startGateway(t, withPostgres(), withSimulated(nil), withSynced())
	f := map[string]any{"search": "kucera", "providers": []string{"KINTSUGI", "DIGITAL_RIVER"}}
	warned := func(r gqlResponse) []string {
		var out []string
		ws, _ := r.Extensions["warnings"].([]any)
		for _, w := range ws {
			if m := w.(map[string]any); strings.Contains(fmt.Sprint(m["message"]), "accents") {
				out = append(out, fmt.Sprint(m["provider"]))
			}
		}
		return out
	}
	if got := warned(live.query(t, pageQuery, map[string]any{"first": 5, "filter": f})); !slices.Equal(got, []string{"KINTSUGI"}) {
		t.Fatalf("live: accent warnings for %v, want KINTSUGI only (Digital River is post-filtered whole)", got)
	}
	if got := warned(synced.query(t, pageQuery, map[string]any{"first": 5, "filter": f})); len(got) != 0 {
		t.Fatalf("synced: accent warnings for %v", got)
	}
}

// A vendor record with bytes Postgres text cannot hold (a NUL in its name
// and email) costs its own keys' exactness, never its page's write or the
// walk: the provider is still served from the synced store, that record too.
func TestANulInVendorDataStillSyncsEveryRecord(t *testing.T) {
	t.Parallel()
	people := demo.People(testPeople)
	bad, want := -1, 0
	for i, p := range people {
		if _, ok := p.IDs[ds.Kintsugi]; ok {
			want++
			if bad < 0 {
				people[i].GivenName, people[i].Email, bad = "Nul\x00", "nul\x00byte@example.com", i
			}
		}
	}
	providers, _ := vendors(t, people, nil, ds.Kintsugi)
	m := startGateway(t, withPostgres(), withConfig("sync: {interval: 1h, gap: 1ms}\n"+providers))
	if err := m.Syncer.SyncNow(t.Context(), ds.Kintsugi); err != nil {
		t.Fatal(err)
	}
	got, total := m.orderedWalk(t, 100, false, nil, map[string]any{"field": "NAME", "direction": "ASC"})
	if total == nil || *total != want || len(got) != want || !slices.ContainsFunc(got, func(n fullNode) bool { return n.ProviderID == people[bad].IDs[ds.Kintsugi] }) {
		t.Fatalf("%d records (totalCount %s), want all %d with the one holding a NUL", len(got), deref(total), want)
	}
}

// restorePostgres lets the database answer again and waits until the
// gateway uses it.
func (m *testGateway) restorePostgres(t *testing.T, proxy *pgtest.Proxy) {
	t.Helper()
	proxy.Restore()
	deadline := time.Now().Add(10 * time.Second)
	for !m.Cache.Health().Up {
		if time.Now().After(deadline) {
			t.Fatal("Postgres did not come back")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestASyncedWalkGoesOnThroughABlinkOfPostgres(t *testing.T) {
	proxy, url := pgtest.NewProxy(t, pgtest.Schema(t))
	m := startGateway(t, withPostgres(url), withSimulated(nil), withSynced())
	o := map[string]any{"field": "NAME", "direction": "ASC"}
	first := mustData[orderedPage](t, m.query(t, orderedQuery, map[string]any{"first": 50, "orderBy": o}))
	// Postgres blinks: requests find it gone and the gateway takes the level
	// out; it answers again before the next probe brings the level back.
	proxy.Cut()
	deadline := time.Now().Add(10 * time.Second)
	for attempt := 3; m.Cache.Health().Up; attempt++ {
		m.query(t, cachedPageQuery, map[string]any{"first": attempt % 90})
		if time.Now().After(deadline) {
			t.Fatal("the gateway never took Postgres out")
		}
		time.Sleep(20 * time.Millisecond)
	}
	proxy.Restore()
	r := m.query(t, orderedQuery, map[string]any{"first": 50, "after": *first.Customers.PageInfo.EndCursor, "orderBy": o})
	next := mustData[orderedPage](t, r)
	if len(next.Customers.Nodes) != 50 || freshness(t, r)["TELNESS"]["freshness"] != "SYNCED" {
		t.Fatalf("the walk after a blink: %d nodes, %v", len(next.Customers.Nodes), r.Extensions)
	}
}
