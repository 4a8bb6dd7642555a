package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/federated-customers/gateway/api"
	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/simkit"
	"github.com/federated-customers/gateway/postgres/pgtest"
)

// quotaGateway is a gateway whose key "k" may make perMinute upstream
// calls a minute, at a Kintsugi simulator with room for far more. Its
// close is not judged, as before startGateway: once under -race, the
// shutdown after a burst of refused requests outlasted its 5 s.
func quotaGateway(t *testing.T, perMinute int) *testGateway {
	t.Helper()
	m, err := tryGateway(t, closeUnjudged(), withConfig(`
auth:
  api_keys:
    - {key: "k", providers: [kintsugi], calls_per_minute: `+strconv.Itoa(perMinute)+`}
providers:
  kintsugi: {simulate: true, upstream: {rate: 10000, burst: 1000}}
`))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Issue 15, finding 1: 200 aliases of nodes(ids: "<one id>") were
// estimated at 0 calls and ran whatever the key's quota.
func TestCoercedSingleIDsAreChargedToTheKeysQuota(t *testing.T) {
	m := quotaGateway(t, 10)
	m.resetKits(t)
	resp, out := m.post(t, map[string]any{"query": coercedAliases(invented(ds.Kintsugi, "x", 200), 200)}, map[string]string{"X-API-Key": "k"})
	if len(out.Errors) != 1 || out.codes()[0] != "QUERY_TOO_COMPLEX" {
		t.Fatalf("status %d: want one QUERY_TOO_COMPLEX, got %+v", resp.StatusCode, out.Errors)
	}
	if n := m.upstreamCalls(t)[ds.Kintsugi]; n != 0 {
		t.Errorf("the refused request made %d Kintsugi calls", n)
	}
}

// Issue 15, finding 4: requests sent together were all admitted against
// the same tokens; the quota now reserves each estimate before the query runs.
func TestConcurrentRequestsCannotOverdrawAKeysQuota(t *testing.T) {
	const perMinute, perRequest, requests = 20, 4, 20
	m := quotaGateway(t, perMinute)
	m.resetKits(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for i := 0; i < requests; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := m.post(t, map[string]any{"query": `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`,
				"variables": map[string]any{"ids": invented(ds.Kintsugi, "c"+strconv.Itoa(i), perRequest)}}, map[string]string{"X-API-Key": "k"})
			mu.Lock()
			statuses[resp.StatusCode]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if calls := m.upstreamCalls(t)[ds.Kintsugi]; calls > perMinute {
		t.Errorf("%d Kintsugi calls for a key of %d a minute (statuses %v)", calls, perMinute, statuses)
	}
	if statuses[http.StatusOK] > perMinute/perRequest || statuses[http.StatusTooManyRequests] == 0 {
		t.Errorf("statuses %v: at most %d of %d admitted", statuses, perMinute/perRequest, requests)
	}
}

// A refused request's Retry-After is the time until its estimate is
// covered: 20 needed, 10 left, 30 a minute = 20 s.
func TestAKeysRetryAfterIsTheTimeUntilTheEstimateIsCovered(t *testing.T) {
	m := quotaGateway(t, 30)
	send := func(prefix string) *http.Response {
		resp, _ := m.post(t, map[string]any{"query": `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`,
			"variables": map[string]any{"ids": invented(ds.Kintsugi, prefix, 20)}}, map[string]string{"X-API-Key": "k"})
		return resp
	}
	if resp := send("a"); resp.StatusCode != http.StatusOK {
		t.Fatalf("first: %d", resp.StatusCode)
	}
	resp := send("b")
	ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != http.StatusTooManyRequests || ra < 15 || ra > 20 {
		t.Errorf("status %d Retry-After %q: want 429 and about 20 s", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// Issue 15, finding 8: a vendor answering 302 to another host had
// Kintsugi's X-Api-Key and X-Organization-Id and Telness's X-Api-Key
// follow it there (Go strips only Authorization and cookies).
func TestCredentialsNeverFollowARedirectToAnotherHost(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []http.Header
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Clone())
		mu.Unlock()
		http.Error(w, "elsewhere", http.StatusNotFound)
	}))
	t.Cleanup(other.Close)
	logs := &lockedLog{}
	m := startGateway(t, withLog(logs))
	for _, p := range []ds.ProviderID{ds.Kintsugi, ds.Telness, ds.DigitalRiver} {
		t.Run(p.String(), func(t *testing.T) {
			m.resetKits(t)
			target := other.URL + "/stolen/" + p.Key()
			m.kit(t, p).Inject(simkit.Fault{Status: http.StatusFound, Header: http.Header{"Location": {target + "?q=1"}}})
			r := m.query(t, `{ customers(first: 3, filter: {providers: [`+p.String()+`]}) { nodes { id } } }`, nil)
			if len(r.Errors) == 0 || r.codes()[0] != "PROVIDER_UNAVAILABLE" || !strings.Contains(r.Errors[0].Message, "redirect") {
				t.Fatalf("want PROVIDER_UNAVAILABLE saying a redirect was refused, got %+v", r.Errors)
			}
			mu.Lock()
			n := len(got)
			mu.Unlock()
			if n > 0 {
				t.Fatalf("the other host received %d requests, headers %v", n, got)
			}
			if !strings.Contains(logs.String(), "target="+target) {
				t.Errorf("no log line names the target %s:\n%s", target, logs.String())
			}
		})
	}
}

// Issue 15, finding 9: the body was read after admission, so 64
// connections trickling their bodies a byte a second held every in-flight
// and queue slot and every other caller got 503. Bodies are read (bounded
// in size and time) before a request takes a slot.
func TestTricklingBodiesHoldNoCapacity(t *testing.T) {
	m, err := tryGateway(t, withConfig(`
auth:
  api_keys:
    - {key: "k"}
providers:
  kintsugi: {simulate: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	const slow = 64
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	answers := make(chan string, slow)
	for i := 0; i < slow; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers <- trickle(ctx, t, m.Addr, "k")
		}()
	}
	t.Cleanup(func() { stop(); wg.Wait() })
	time.Sleep(300 * time.Millisecond) // test pacing: let the trickles connect and start their bodies
	for i := 0; i < 10; i++ {
		resp, out := m.post(t, map[string]any{"query": `{ customers(first: 2) { nodes { id } } }`}, map[string]string{"X-API-Key": "k"})
		if resp.StatusCode != http.StatusOK || len(out.Errors) > 0 {
			t.Fatalf("ordinary request %d beside %d trickling bodies: status %d %+v", i, slow, resp.StatusCode, out.Errors)
		}
	}
	// the trickles themselves are answered 408 once their body deadline passes
	if a := <-answers; !strings.HasPrefix(a, "HTTP/1.1 408") {
		t.Errorf("a trickling body was answered %q, want 408", a)
	}
}

// trickle sends a POST whose body comes a byte every 200 ms and returns
// the status line of the answer (or why there was none).
func trickle(ctx context.Context, t *testing.T, addr, key string) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err.Error()
	}
	defer conn.Close()
	body := `{"query":"{ customers(first: 1) { nodes { id } } }"}`
	fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-API-Key: %s\r\nContent-Length: %d\r\n\r\n", key, len(body)+1000)
	status := make(chan string, 1)
	go func() {
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil {
			line = err.Error()
		}
		status <- strings.TrimSpace(line)
	}()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case s := <-status:
			return s
		case <-ctx.Done():
			return "stopped"
		case <-tick.C:
			if _, err := conn.Write([]byte{body[i%len(body)]}); err != nil {
				return <-status
			}
		}
	}
}

// Issue 15, finding 10: an INTERNAL error carried the vendor's own message
// text; it is now generic, with a request id that its log line carries too.
func TestInternalErrorsAreGenericWithARequestIDInTheLog(t *testing.T) {
	t.Parallel()
	logs := &lockedLog{}
	m := startGateway(t, withLog(logs))
	m.kit(t, ds.Kintsugi).Inject(simkit.Fault{Status: http.StatusBadRequest, Message: "column secret_internal_name is unknown"})
	r := m.query(t, `{ customers(first: 2, filter: {providers: [KINTSUGI]}) { nodes { id } } }`, nil)
	if len(r.Errors) != 1 || r.codes()[0] != "INTERNAL" {
		t.Fatalf("want one INTERNAL error, got %+v", r.Errors)
	}
	e := r.Errors[0]
	id, _ := e.Extensions["requestId"].(string)
	if strings.Contains(e.Message, "secret_internal_name") || id == "" || !strings.Contains(e.Message, id) {
		t.Fatalf("message %q, requestId %q: want a generic message naming the request id", e.Message, id)
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "request_id="+id) && strings.Contains(line, "secret_internal_name") {
			return
		}
	}
	t.Errorf("no log line has request id %s and the detail:\n%s", id, logs.String())
}

// Issue 15, finding 10: extensions: {dryRun: "true"} (a string) ran a
// mutation that created customers; dryRun and cost take booleans only.
func TestDryRunAndCostTakeOnlyBooleans(t *testing.T) {
	t.Parallel()
	m := startGateway(t)
	for _, ext := range []map[string]any{{"dryRun": "true"}, {"dryRun": 1}, {"cost": "yes"}, {"dryRun": map[string]any{}}} {
		m.resetKits(t)
		r := m.queryExt(t, `mutation { createCustomer(input: {provider: KINTSUGI, email: "dry@example.com", name: "Dry"}) { id } }`, nil, ext)
		if len(r.Errors) != 1 || r.codes()[0] != "BAD_USER_INPUT" {
			t.Errorf("extensions %v: want BAD_USER_INPUT, got %+v", ext, r.Errors)
		}
		m.noUpstreamCall(t, fmt.Sprintf("with extensions %v", ext))
	}
	if r := m.queryExt(t, `{ customers(first: 1) { nodes { id } } }`, nil, map[string]any{"dryRun": true}); len(r.Errors) > 0 {
		t.Errorf("a boolean dryRun: %+v", r.Errors)
	}
}

// Issue 15, finding 10: with API keys and no cursor_secret, cursors are
// signed with a public key; the gateway says so loudly at start (see
// docs/reference.md for why a warning, not an error).
func TestAPIKeysWithoutACursorSecretWarnAtStart(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, secret string
		warn         bool
	}{{"no secret", "", true}, {"a secret", "cursor_secret: s3cret-for-cursors\n", false}} {
		t.Run(tc.name, func(t *testing.T) {
			logs := &lockedLog{}
			startGateway(t, withConfig(tc.secret+"auth:\n  api_keys:\n    - {key: \"k\"}\nproviders:\n  kintsugi: {simulate: true}\n"), withLog(logs))
			warned := strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), "cursor_secret is not set")
			if warned != tc.warn {
				t.Errorf("warned %v, want %v:\n%s", warned, tc.warn, logs.String())
			}
		})
	}
}

// Issue 15, finding 7: vendor messages were cut at 300 bytes before they
// were scrubbed, so a credential the vendor echoed across the cut reached
// callers and logs in part; Kintsugi's organization id (a credential
// header) was not scrubbed at all. Each simulator here echoes the request's
// credentials (Commerce Layer's: a fetched token) at every offset around the cut.
func TestEchoedCredentialsAreScrubbedBeforeTheMessageIsCut(t *testing.T) {
	t.Parallel()
	logs := &lockedLog{}
	blocks := map[string]string{}
	for _, p := range ds.AllProviders { // every failure reaches the vendor: no open circuit, no retry
		blocks[p.Key()] = "upstream: {breaker_failures: 100000, retry_ratio: 0.0001}"
	}
	m := startGateway(t, withSimulated(blocks), withLog(logs))
	for _, p := range []ds.ProviderID{ds.Kintsugi, ds.DigitalRiver, ds.Telness, ds.CommerceLayer, ds.CareCloud} {
		t.Run(p.String(), func(t *testing.T) {
			kit := m.kit(t, p)
			q := func(first int) gqlResponse {
				if p == ds.CareCloud {
					return m.query(t, `{ customerSources(first: `+strconv.Itoa(first)+`) { nodes { id } } }`, nil)
				}
				return m.query(t, `{ customers(first: `+strconv.Itoa(first)+`, filter: {providers: [`+p.String()+`]}) { nodes { id } } }`, nil)
			}
			kit.Reset()
			if r := q(1); len(r.Errors) > 0 {
				t.Fatalf("%+v", r.Errors)
			}
			calls := kit.Calls()
			listPath := "" // every call fails...
			if p == ds.CommerceLayer {
				listPath = calls[len(calls)-1].Path // ...but Commerce Layer's token request: its fetched token is echoed
			}
			var texts []string
			for pad := 240; pad < 300; pad += 3 {
				kit.SetDown(&simkit.Fault{Status: http.StatusInternalServerError, Path: listPath, EchoCredentials: true,
					Message: strings.Repeat("x", pad) + " key"})
				r := q(2 + (pad-240)/3) // a new first each time: nothing cached to serve instead
				kit.SetDown(nil)
				if len(r.Errors) == 0 || r.codes()[0] != "PROVIDER_UNAVAILABLE" {
					t.Fatalf("pad %d: want the failure as PROVIDER_UNAVAILABLE, got %+v", pad, r.Errors)
				}
				for _, e := range r.Errors {
					texts = append(texts, e.Message)
				}
			}
			texts = append(texts, logs.String())
			seen := 0
			for _, c := range kit.Calls() {
				for _, cred := range strings.Fields(c.Credential) {
					seen++
					for _, s := range texts {
						if k := min(len(cred), 8); strings.Contains(s, cred[:k]) {
							t.Fatalf("the start of a credential (%.4s…) leaked: %s", cred, s)
						}
					}
				}
			}
			if seen == 0 {
				t.Fatal("the simulator saw no credential: the test proves nothing")
			}
		})
	}
}

// Issue 15, finding 5: an id whose decoded vendor id held a NUL byte
// reached Postgres as a cache key, which refused it; the cache took that
// as an outage and /readyz answered 503 for everyone. NUL and invalid
// UTF-8 in ids, filters and mutation input are now BAD_USER_INPUT before
// any call, and Postgres stays in use.
func TestBadBytesInInputAreBadUserInputAndNoOutage(t *testing.T) {
	t.Parallel()
	schema := pgtest.Schema(t)
	m := startGateway(t, withConfigf(`
database_url: %q
auth:
  api_keys:
    - {key: "k", providers: [kintsugi]}
providers:
  kintsugi: {simulate: true}
`, schema))
	nul := ds.CustomerNodeID(ds.Kintsugi, "cust_\x00abc")
	for _, tc := range []struct {
		name  string
		query string
		vars  map[string]any
	}{
		{"a NUL in a node id", `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": nul}},
		{"a NUL in a customer id, 5 times", `query($id: ID!) { a: customer(id: $id) { id } b: customer(id: $id) { id } c: customer(id: $id) { id } d: customer(id: $id) { id } e: customer(id: $id) { id } }`, map[string]any{"id": nul}},
		{"invalid UTF-8 in a node id", `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []string{ds.CustomerNodeID(ds.Kintsugi, "cust_\xff")}}},
		{"a NUL in filter.email", `{ customers(filter: {email: "a\u0000b@example.com"}) { nodes { id } } }`, nil},
		{"a NUL in filter.search from a variable", `query($f: CustomerFilter) { customers(filter: $f) { nodes { id } } }`, map[string]any{"f": map[string]any{"search": "x\x00"}}},
		{"a NUL in mutation input", `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { id } }`, map[string]any{"in": map[string]any{"provider": "KINTSUGI", "email": "n\x00@example.com"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m.resetKits(t)
			_, r := m.post(t, map[string]any{"query": tc.query, "variables": tc.vars}, map[string]string{"X-API-Key": "k"})
			if len(r.Errors) == 0 {
				t.Fatal("no error")
			}
			for _, c := range r.codes() {
				if c != "BAD_USER_INPUT" {
					t.Errorf("code %s, want BAD_USER_INPUT: %+v", c, r.Errors)
				}
			}
			if n := m.upstreamCalls(t)[ds.Kintsugi]; n != 0 {
				t.Errorf("%d Kintsugi calls", n)
			}
			if _, b := m.readyz(t); b.Status != api.StatusReady { // degraded would mean Postgres was taken out
				t.Errorf("/readyz %s after the request", b.Status)
			}
		})
	}
}

// Issue 15, finding 5: a statement Postgres refuses for its data (SQLSTATE
// class 22) is that statement's problem: the second level stays in use.
func TestAStatementPostgresRefusesForItsDataIsNoOutage(t *testing.T) {
	t.Parallel()
	schema := pgtest.Schema(t)
	m := startGateway(t, withPostgres(schema), withConfig("providers:\n  kintsugi: {simulate: true}\n"))
	scope := []ds.Scope{{Provider: ds.Kintsugi, Credential: m.built.Credentials[ds.Kintsugi]}}
	// external ids come from vendor data, whatever bytes it holds
	if _, err := m.Cache.Index().ByExternalID(context.Background(), scope, []string{"ext\x00"}); err != nil {
		t.Fatalf("the index read failed instead of falling back: %v", err)
	}
	if _, b := m.readyz(t); b.Status != api.StatusReady {
		t.Errorf("/readyz %s after Postgres refused one statement's data", b.Status)
	}
}

// Issue 15, finding 6: a vendor record whose email held a NUL byte failed
// its whole page's index write; now the rest of the page is stored (and
// the record itself, without the email Postgres cannot hold), and
// readiness holds.
func TestANulInVendorDataFailsNothingElse(t *testing.T) {
	t.Parallel()
	schema := pgtest.Schema(t)
	people := demo.People(testPeople)
	bad := -1
	for i, p := range people {
		if _, ok := p.IDs[ds.Kintsugi]; ok {
			people[i].Email = "nul\x00byte@example.com"
			bad = i
			break
		}
	}
	providers, _ := vendors(t, people, nil, ds.Kintsugi)
	m := startGateway(t, withPostgres(schema), withConfig(providers))
	r := m.query(t, `{ customers(first: 50) { edges { node { id providerId email } } } }`, nil)
	if len(r.Errors) > 0 {
		t.Fatalf("%+v", r.Errors)
	}
	page := mustData[customersPage](t, r)
	found := false
	for _, e := range page.Customers.Edges {
		found = found || e.Node.ProviderID == people[bad].IDs[ds.Kintsugi]
	}
	if !found || len(page.Customers.Edges) != 50 {
		t.Fatalf("the page has %d records, the bad one among them: %v", len(page.Customers.Edges), found)
	}
	db, err := sqlx.Open("postgres", schema)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM identities WHERE provider = 'kintsugi'`); err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Errorf("%d Kintsugi records in the Postgres index after a page of 50", n)
	}
	if _, b := m.readyz(t); b.Status != api.StatusReady {
		t.Errorf("/readyz %s", b.Status)
	}
}
