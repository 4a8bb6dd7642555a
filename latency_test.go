package main

import (
	"encoding/json"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
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
// ahead when Digital River becomes current. With Telness hung, that page is
// answered while Telness's call is still held by its simulator (it cannot
// end before its 2 s attempt timeout), without an error for Telness; the
// next page, which needs Telness, reports it.
func TestAPageNeverWaitsForAFetchAheadItDoesNotNeed(t *testing.T) {
	m := gatewayWith(t, map[string]string{
		"telness": "upstream: {timeout: 2s, budget: 3s, rate: 100000, burst: 10000}",
	}, nil)
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
	telness.Reset()
	telness.SetLatency(time.Minute) // hung: every call is held until the gateway gives up

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
