package main

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
)

// responseHits is the gateway's count of requests answered from a stored response.
func responseHits(t *testing.T, m *testGateway) int {
	t.Helper()
	re := regexp.MustCompile(`(?m)^gateway_response_cache_total\{result="hit"\} (\d+)`)
	got := re.FindStringSubmatch(m.scrapeMetrics(t))
	if got == nil {
		return 0
	}
	n, _ := strconv.Atoi(got[1])
	return n
}

const drPageQuery = `{ customers(first: 5, filter: {providers: [DIGITAL_RIVER]}) { nodes { id email } } }`

func TestARepeatedWarmQueryIsAnsweredFromTheStoredResponseUntilSomethingChanges(t *testing.T) {
	t.Parallel()
	clock := &testClock{}
	m := startGateway(t, withConfig("providers:\n  digitalriver: {simulate: true, upstream: {rate: 1000, burst: 100}}\n"), withClock(clock.Now))
	m.query(t, drPageQuery, nil)          // live: the page is stored in the record cache
	warm := m.query(t, drPageQuery, nil)  // built from the record cache: stored as a response
	again := m.query(t, drPageQuery, nil) // replayed
	if responseHits(t, m) != 1 {
		t.Fatalf("%d requests answered from a stored response, want 1", responseHits(t, m))
	}
	if string(again.Data) != string(warm.Data) {
		t.Fatalf("the replayed data differs:\n%s\n%s", again.Data, warm.Data)
	}
	if s := freshness(t, again)["DIGITAL_RIVER"]; s["freshness"] != "CACHE" || s["calls"].(float64) != 0 || s["cached"].(float64) < 5 {
		t.Fatalf("replayed extensions.providers: %v, want CACHE, 0 calls, the page's records cached", s)
	}

	// Its age is the copies' age now, not when it was stored.
	clock.Advance(20 * time.Second)
	aged := m.query(t, drPageQuery, nil)
	if age := freshness(t, aged)["DIGITAL_RIVER"]["ageSeconds"].(float64); age < 20 || age > 21 {
		t.Errorf("ageSeconds %v after 20 s, want 20", age)
	}
	if responseHits(t, m) != 2 {
		t.Fatalf("%d hits, want 2", responseHits(t, m))
	}

	// A write through the gateway voids it: the next answer has the new email.
	page := mustData[struct {
		Customers struct{ Nodes []customerNode } `json:"customers"`
	}](t, aged)
	id := page.Customers.Nodes[0].ID
	if r := m.query(t, `mutation($id: ID!) { updateCustomer(id: $id, input: {email: "changed@example.com"}) { id email } }`, map[string]any{"id": id}); len(r.Errors) > 0 {
		t.Fatalf("update: %+v", r.Errors)
	}
	after := m.query(t, drPageQuery, nil)
	if !strings.Contains(string(after.Data), "changed@example.com") {
		t.Fatalf("after the update the page still says %s", after.Data)
	}
	if responseHits(t, m) != 2 {
		t.Fatalf("the answer after a write was a stored response")
	}

	// Past the TTL the copies are no longer fresh: the page is read upstream.
	m.query(t, drPageQuery, nil)
	m.query(t, drPageQuery, nil)
	hits := responseHits(t, m)
	m.resetKits(t)
	clock.Advance(61 * time.Second)
	live := m.query(t, drPageQuery, nil)
	if n := m.upstreamCalls(t)[ds.DigitalRiver]; n == 0 {
		t.Errorf("past the TTL: no upstream call, want the page read live")
	}
	if s := freshness(t, live)["DIGITAL_RIVER"]; s["freshness"] != "LIVE" || responseHits(t, m) != hits {
		t.Errorf("past the TTL: %v and %d hits (was %d), want LIVE and no hit", s, responseHits(t, m), hits)
	}
}

func TestAStoredResponseIsNeverAnotherKeysAnswer(t *testing.T) {
	t.Parallel()
	m, err := tryGateway(t, withConfig(`
auth:
  api_keys:
    - {key: "dr", providers: [digitalriver]}
    - {key: "ki", providers: [kintsugi]}
providers:
  digitalriver: {simulate: true, upstream: {rate: 1000, burst: 100}}
  kintsugi: {simulate: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	q := map[string]any{"query": `{ customers(first: 3) { nodes { id provider } } }`}
	for range 3 {
		m.post(t, q, map[string]string{"X-API-Key": "dr"})
	}
	if responseHits(t, m) == 0 {
		t.Fatal("the dr key's third request was not answered from a stored response")
	}
	_, out := m.post(t, q, map[string]string{"X-API-Key": "ki"})
	if len(out.Errors) > 0 || !strings.Contains(string(out.Data), "KINTSUGI") || strings.Contains(string(out.Data), "DIGITAL_RIVER") {
		t.Fatalf("the ki key got %s %+v, want Kintsugi customers only", out.Data, out.Errors)
	}
}

func TestAnswersThatDependOnMoreThanTheCacheAreNeverReplayed(t *testing.T) {
	t.Parallel()
	m := startGateway(t)
	for name, q := range map[string]string{
		"provider health": `{ customers(first: 2, filter: {providers: [KINTSUGI]}) { nodes { id } } providers { provider health { state } } }`,
		"a cost estimate": `{ customers(first: 2, filter: {providers: [KINTSUGI]}) { nodes { email } } }`,
	} {
		t.Run(name, func(t *testing.T) {
			before := responseHits(t, m)
			for range 3 {
				m.queryExt(t, q, nil, map[string]any{"cost": name == "a cost estimate"})
			}
			if got := responseHits(t, m) - before; got != 0 {
				t.Errorf("%d of 3 answered from a stored response, want 0", got)
			}
		})
	}
}

func TestGETAnswersCarryCacheHeadersAndRevalidate(t *testing.T) {
	t.Parallel()
	m := startGateway(t)
	get := func(t *testing.T, q, etag string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+m.Addr+"/graphql?query="+url.QueryEscape(q), nil)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	const q = `{ customers(first: 3, filter: {providers: [TELNESS]}) { nodes { id email } } }`
	live, _ := get(t, q, "")
	if cc := live.Header.Get("Cache-Control"); cc != "private, no-cache" || live.Header.Get("ETag") == "" {
		t.Errorf("live answer: Cache-Control %q, ETag %q; want private, no-cache and an ETag", cc, live.Header.Get("ETag"))
	}
	for _, name := range []string{"built from the cache", "replayed"} {
		resp, _ := get(t, q, "")
		cc := resp.Header.Get("Cache-Control")
		age, err := strconv.Atoi(strings.TrimPrefix(cc, "private, max-age="))
		if err != nil || age <= 0 || age > 60 {
			t.Errorf("%s: Cache-Control %q, want private, max-age up to the 60 s TTL", name, cc)
		}
		if resp.Header.Get("ETag") != live.Header.Get("ETag") {
			t.Errorf("%s: ETag %q, want the live answer's %q (same data)", name, resp.Header.Get("ETag"), live.Header.Get("ETag"))
		}
	}
	for name, text := range map[string]string{"executed": q + " ", "replayed": q} { // another text: not a stored response
		resp, body := get(t, text, live.Header.Get("ETag"))
		if resp.StatusCode != http.StatusNotModified || body != "" {
			t.Errorf("%s with If-None-Match: %d %q, want 304 and no body", name, resp.StatusCode, body)
		}
	}
	bad, _ := get(t, `{ customers(first: 2, after: "nope") { nodes { id } } }`, "")
	if cc := bad.Header.Get("Cache-Control"); cc != "no-store" || bad.Header.Get("ETag") != "" {
		t.Errorf("an error answer: Cache-Control %q, ETag %q; want no-store and no ETag", cc, bad.Header.Get("ETag"))
	}
}

// A stored response that read the identity index (links) is voided by a
// new index row; one that did not read it is not.
func TestANewIndexRowVoidsOnlyTheResponsesThatReadTheIndex(t *testing.T) {
	t.Parallel()
	m := startGateway(t)
	plain := `{ customers(first: 5, filter: {providers: [KINTSUGI]}) { nodes { id email } } }`
	linked := `{ customers(first: 5, filter: {providers: [KINTSUGI]}) { nodes { id linkedCustomers { id } } } }`
	replayed := func(q string) bool {
		t.Helper()
		before := responseHits(t, m)
		if r := m.query(t, q, nil); len(r.Errors) > 0 {
			t.Fatalf("%+v", r.Errors)
		}
		return responseHits(t, m) > before
	}
	for _, q := range []string{plain, linked} {
		for range 4 {
			replayed(q)
		}
		if !replayed(q) {
			t.Fatalf("not replayed after five requests: %s", q)
		}
	}
	// Telness customers never read before: new records (new keys) and new index rows
	if r := m.query(t, `{ customers(first: 30, filter: {providers: [TELNESS]}) { nodes { id } } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("%+v", r.Errors)
	}
	if !replayed(plain) {
		t.Error("the page without links was not replayed after index rows were added")
	}
	if replayed(linked) {
		t.Error("the page with links was replayed after index rows were added")
	}
}
