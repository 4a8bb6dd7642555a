package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/simkit"
)

// providersOf counts a page's edges per provider.
func providersOf(p customersPage) map[string]int {
	out := map[string]int{}
	for _, e := range p.Customers.Edges {
		out[e.Node.Provider]++
	}
	return out
}

// A page that Kintsugi and Digital River fill starts Telness's first page
// ahead when Digital River becomes current with its page still on the way
// (here 300 ms). With Telness hung, that page is answered while Telness's
// call is still held by its simulator (it cannot end before its 2 s attempt
// timeout), without an error for Telness; the next page, which needs
// Telness, reports it.
func TestAPageNeverWaitsForAFetchAheadItDoesNotNeed(t *testing.T) {
	m := startGateway(t, withSimulated(map[string]string{
		"telness": "upstream: {timeout: 2s, budget: 3s, rate: 100000, burst: 10000}",
	}))
	telness := m.kit(t, ds.Telness)
	page := func(after any) (customersPage, gqlResponse, int) {
		t.Helper()
		r := m.query(t, pageQuery, map[string]any{"first": 100, "after": after})
		// read at the answer: Telness calls that had already ended (the
		// count first, so a call arriving between the two reads is not
		// taken for an ended one)
		ended := telness.Count()
		ended -= telness.InFlight()
		var out customersPage
		if err := json.Unmarshal(r.Data, &out); err != nil {
			t.Fatalf("data %s: %v", r.Data, err)
		}
		return out, r, ended
	}
	first, r, _ := page(nil) // Kintsugi's first 100 of 144
	if len(r.Errors) > 0 {
		t.Fatalf("first page: %+v", r.Errors)
	}
	// the first page's fetch ahead of Digital River must have ended before
	// its page is forgotten: landing later, it would cache the page again,
	// the second page would read it at once and never fetch Telness ahead
	m.settle(t)
	telness.Reset()
	telness.SetLatency(time.Minute) // hung: every call is held until the gateway gives up
	// Digital River's page, fetched ahead by the first page, is read again
	// and slowly: it is still on the way when Digital River becomes current
	m.Cache.ForgetPages(context.Background(), []ds.CustomerProvider{m.Service.Customers[ds.DigitalRiver]})
	m.kit(t, ds.DigitalRiver).SetLatency(300 * time.Millisecond)

	second, r, ended := page(*first.Customers.PageInfo.EndCursor)
	got := providersOf(second)
	if len(r.Errors) > 0 || got["KINTSUGI"] == 0 || got["DIGITAL_RIVER"] == 0 || got["TELNESS"] > 0 || !second.Customers.PageInfo.HasNextPage {
		t.Fatalf("second page: providers %v, hasNextPage %v, errors %+v; want Kintsugi and Digital River only, no error",
			got, second.Customers.PageInfo.HasNextPage, r.Errors)
	}
	if ended > 0 {
		t.Fatalf("the second page was answered after %d Telness call(s) ended: it waited for a fetch ahead it did not need", ended)
	}
	// the test's premise: Telness was fetched ahead, and that call is the hung one
	waitFor(t, 5*time.Second, func() bool { return telness.Count() > 0 }, "Telness's page fetched ahead")

	third, r, _ := page(*second.Customers.PageInfo.EndCursor)
	errs := providerErrors(r, ds.Telness)
	if len(errs) != 1 || errs[0].Extensions["code"] != "PROVIDER_UNAVAILABLE" {
		t.Fatalf("third page, which needs Telness: Telness errors %+v, want one PROVIDER_UNAVAILABLE", errs)
	}
	if got := providersOf(third); got["DIGITAL_RIVER"] == 0 || got["COMMERCE_LAYER"] == 0 || got["TELNESS"] > 0 {
		t.Fatalf("third page: providers %v, want the rest of Digital River, then Commerce Layer past Telness", got)
	}
}

// recordReads counts, per provider and vendor id, how often the gateway
// asked a vendor for that record by id: one GET per id (Kintsugi, Telness,
// a CareCloud customer's source records) or an id in a bulk lookup (Digital
// River ids=, Commerce Layer id_in, CareCloud external_ids[]).
func recordReads(t *testing.T, m *testGateway) map[string]int {
	t.Helper()
	reads := map[string]int{}
	for _, p := range ds.AllProviders {
		for _, c := range m.kit(t, p).Calls() {
			q, _ := url.ParseQuery(c.Query)
			var ids []string
			switch {
			case p == ds.Kintsugi && strings.HasPrefix(c.Path, "/v1/customers/"):
				ids = []string{strings.TrimPrefix(c.Path, "/v1/customers/")}
			case p == ds.Telness && strings.HasPrefix(c.Path, "/customers/"):
				ids = []string{strings.TrimPrefix(c.Path, "/customers/")}
			case p == ds.CareCloud && strings.HasSuffix(c.Path, "/customer-source-records") && strings.Contains(c.Path, "/customers/"):
				parts := strings.Split(c.Path, "/")
				ids = []string{"customer " + parts[len(parts)-2]}
			case p == ds.CareCloud:
				ids = q["external_ids[]"]
			case p == ds.DigitalRiver && q.Get("ids") != "":
				ids = strings.Split(q.Get("ids"), ",")
			case p == ds.CommerceLayer && q.Get("filter[q][id_in]") != "":
				ids = strings.Split(q.Get("filter[q][id_in]"), ",")
			}
			for _, id := range ids {
				reads[p.String()+" "+id]++
			}
		}
	}
	return reads
}

// With ttl 0 (always live) the deep page reads each record at most once
// (the list's own records not at all), and makes no more calls than a fresh
// gateway with the default TTL.
func TestWithTTLZeroARequestReadsEachRecordOnce(t *testing.T) {
	const deep = `query($first: Int) { customers(first: $first) { nodes { id sources { sourceId customer { id } } linkedCustomers { id email } } } }`
	for _, tc := range []struct{ name, cache string }{
		{"default TTL", ""},
		{"ttl 0", "cache: {ttl: 0s}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := startGateway(t, withSimulated(map[string]string{"": tc.cache, // quotas lifted: this test counts calls
				"digitalriver": "upstream: {rate: 100000, burst: 10000}", "commercelayer": "upstream: {rate: 100000, burst: 10000}"}))
			for run := range 2 { // the second request: nothing cached across requests with ttl 0
				m.quiesce(t)
				m.resetKits(t)
				r := m.query(t, deep, map[string]any{"first": 100})
				page := mustData[struct {
					Customers struct{ Nodes []struct{ ID string } }
				}](t, r)
				inPage := map[string]bool{}
				for _, n := range page.Customers.Nodes {
					k, err := ds.DecodeCustomerID(n.ID)
					if err != nil {
						t.Fatal(err)
					}
					inPage[k.Provider.String()+" "+k.ProviderID] = true
				}
				m.quiesce(t) // the page's fetch ahead is this request's
				for id, n := range recordReads(t, m) {
					if n > 1 || inPage[id] {
						t.Errorf("request %d: %s read %d times (in the page: %v), want once at most and never for the page's own records", run, id, n, inPage[id])
					}
				}
				// How many calls the last level's lookups take depends on how
				// the loaders' 2 ms window cuts them, so the totals are
				// reported here and compared in cmd/bench -critical (median
				// of fresh gateways), not asserted.
				t.Logf("request %d: calls %v", run, m.upstreamCalls(t))
			}
		})
	}
}

// The frontend's graph page is estimated at hundreds of calls at most but
// makes a few dozen: it is classed by what it likely makes, so with the
// default limits it never waits in the costly lane, even while a costly
// query holds the lane's one slot.
func TestTheFrontendPageNeverWaitsInTheCostlyLane(t *testing.T) {
	lifted := "upstream: {rate: 100000, burst: 10000}"
	m := startGateway(t, withSimulated(map[string]string{
		"kintsugi":     "upstream: {rate: 100000, burst: 10000, timeout: 25s, budget: 25s}",
		"digitalriver": lifted, "commercelayer": lifted,
	}))
	// the costly query: 300 Kintsugi ids no record has, whose lookups hang
	ki := m.kit(t, ds.Kintsugi)
	ki.SetDown(&simkit.Fault{Delay: time.Minute, Path: "/v1/customers/nobody"})
	ctx, cancel := context.WithCancel(context.Background())
	costlyDone := make(chan struct{})
	go func() {
		defer close(costlyDone)
		body, _ := json.Marshal(map[string]any{"query": `query($a: [ID!]!, $b: [ID!]!, $c: [ID!]!) { a: nodes(ids: $a) { id } b: nodes(ids: $b) { id } c: nodes(ids: $c) { id } }`,
			"variables": map[string]any{"a": inventedKintsugiIDs(100), "b": inventedKintsugiIDs(100), "c": inventedKintsugiIDs(100)}})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+m.Addr+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	t.Cleanup(func() { cancel(); <-costlyDone })
	waitFor(t, 10*time.Second, func() bool { return ki.InFlight() > 0 }, "the costly query's hung lookups")

	for _, first := range []int{20, 100} {
		r := m.queryExt(t, graphQuery, map[string]any{"first": first}, map[string]any{"cost": true})
		if len(r.Errors) > 0 {
			t.Fatalf("first %d: %+v", first, r.Errors)
		}
		select {
		case <-costlyDone:
			t.Fatalf("first %d: answered only once the costly query had ended", first)
		default:
		}
		cost, _ := r.Extensions["cost"].(map[string]any)
		t.Logf("first %d: estimate %v, likely %v, made %v", first, cost["upstreamCalls"], cost["likelyUpstreamCalls"], r.Extensions["providers"])
	}
}

// waves groups call arrival times (sorted) into rounds: a call more than
// gap after the previous one starts a new round.
func waves(ats []time.Duration, gap time.Duration) [][]time.Duration {
	slices.Sort(ats)
	var out [][]time.Duration
	for i, at := range ats {
		if i == 0 || at-ats[i-1] > gap {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], at)
	}
	return out
}

// Each level of the deep page issues its calls together, across providers
// and kinds of lookup: from a fresh gateway (no index, nothing cached),
// with every call taking 250 ms, the calls arrive in four rounds: the list;
// the CareCloud records naming the page's customers (with its catalogue),
// the references and emails; each CareCloud customer's records; the linked
// records. (The Telness page fetched ahead joins the second.)
func TestTheDeepPageTakesOneRoundPerLevel(t *testing.T) {
	const latency = 250 * time.Millisecond
	lifted := "upstream: {rate: 100000, burst: 10000}"
	m := startGateway(t, withSimulated(map[string]string{"kintsugi": lifted, "digitalriver": lifted, "commercelayer": lifted}))
	first := mustData[customersPage](t, m.query(t, pageQuery, map[string]any{"first": 100}))
	fresh := startGateway(t, withSimulated(map[string]string{"kintsugi": lifted, "digitalriver": lifted, "commercelayer": lifted}))
	for p := range fresh.Sims {
		fresh.kit(t, p).SetLatency(latency)
	}
	start := time.Now()
	r := fresh.query(t, `query($after: String) { customers(first: 100, after: $after) { nodes { id sources { sourceId customer { id } } linkedCustomers { id email } } } }`,
		map[string]any{"after": *first.Customers.PageInfo.EndCursor})
	if len(r.Errors) > 0 {
		t.Fatalf("errors: %+v", r.Errors)
	}
	var ats []time.Duration
	for p := range fresh.Sims {
		for _, c := range fresh.kit(t, p).Calls() {
			ats = append(ats, c.At.Sub(start))
		}
	}
	rounds := waves(ats, latency/2)
	if len(rounds) > 4 {
		t.Errorf("%d calls in %d rounds, want at most 4: %v", len(ats), len(rounds), rounds)
	}
	t.Logf("%d calls in %d rounds: %v", len(ats), len(rounds), rounds)
}
