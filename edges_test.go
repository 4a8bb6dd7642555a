package main

import (
	"net/http"
	"strconv"
	"sync"
	"testing"

	ds "github.com/federated-customers/gateway/datasource"
)

// quotaGateway is a gateway whose key "k" may make perMinute upstream
// calls a minute, at a Kintsugi simulator with room for far more.
func quotaGateway(t *testing.T, perMinute int) *Main {
	t.Helper()
	m, err := withConfig(t, `
auth:
  api_keys:
    - {key: "k", providers: [kintsugi], calls_per_minute: `+strconv.Itoa(perMinute)+`}
providers:
  kintsugi: {simulate: true, upstream: {rate: 10000, burst: 1000}}
`)
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
