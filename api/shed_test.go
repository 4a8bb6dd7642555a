package api

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

const listQuery = `{ customers(first: 5) { nodes { id name } } }`

func TestASaturatedGatewayShedsAtOnceAndRecovers(t *testing.T) {
	p := &gatedProvider{gate: make(chan struct{}), entered: make(chan struct{}, 10), items: 5}
	srv := gatedGateway(t, p, Limits{MaxInFlight: 2, MaxQueue: 1, QueueWait: 5 * time.Second})
	var wg sync.WaitGroup
	statuses := make(chan int, 3)
	for range 3 { // two in flight, one queued
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, _ := post(t, srv.URL, listQuery, nil)
			statuses <- status
		}()
	}
	t.Cleanup(func() {
		select {
		case <-p.gate:
		default:
			close(p.gate)
		}
		wg.Wait()
	})
	<-p.entered
	<-p.entered
	time.Sleep(50 * time.Millisecond) // the third request is in the queue by now

	start := time.Now()
	body := `{"query":"{ providers { provider } }"}`
	resp, err := http.Post(srv.URL+"/graphql", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if took := time.Since(start); took > time.Second {
		t.Errorf("shed after %v, want at once", took)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if !strings.Contains(string(raw), `"code":"PROVIDER_UNAVAILABLE"`) || !strings.Contains(string(raw), "at capacity") {
		t.Errorf("body %s", raw)
	}

	close(p.gate)
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != http.StatusOK {
			t.Errorf("a request in flight or queued got %d", s)
		}
	}
	// recovered: a new request runs
	if status, out := post(t, srv.URL, listQuery, nil); status != http.StatusOK || out["errors"] != nil {
		t.Fatalf("after the load: status %d %v", status, out["errors"])
	}
}

func TestAQueuedRequestGets503WhenItsWaitIsOver(t *testing.T) {
	p := &gatedProvider{gate: make(chan struct{}), entered: make(chan struct{}, 10), items: 1}
	srv := gatedGateway(t, p, Limits{MaxInFlight: 1, MaxQueue: 1, QueueWait: 100 * time.Millisecond})
	done := make(chan struct{})
	go func() { defer close(done); post(t, srv.URL, listQuery, nil) }()
	t.Cleanup(func() { close(p.gate); <-done })
	<-p.entered
	start := time.Now()
	status, out := post(t, srv.URL, listQuery, nil)
	if took := time.Since(start); status != http.StatusServiceUnavailable || took < 100*time.Millisecond || took > 2*time.Second {
		t.Fatalf("status %d after %v, want 503 after the 100ms wait", status, took)
	}
	if firstCode(out) != "PROVIDER_UNAVAILABLE" {
		t.Errorf("code %q", firstCode(out))
	}
}

func TestAResponseOverTheSizeCapIsAnErrorNotTheData(t *testing.T) {
	p := &gatedProvider{items: 100}
	for _, tc := range []struct {
		name  string
		query string
		code  string
	}{
		{"5 customers fit", `{ customers(first: 5) { nodes { id name } } }`, ""},
		{"100 customers of 1 KB do not", `{ customers(first: 100) { nodes { id name } } }`, "QUERY_TOO_COMPLEX"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := gatedGateway(t, p, Limits{MaxResponseBytes: 20000})
			_, out := post(t, srv.URL, tc.query, nil)
			if firstCode(out) != tc.code {
				t.Fatalf("code %q, want %q: %v", firstCode(out), tc.code, out["errors"])
			}
			if tc.code != "" && out["data"] != nil {
				t.Errorf("the data is still there")
			}
		})
	}
}

func TestCostlyQueriesTakeTurnsAndOrdinaryOnesPass(t *testing.T) {
	p := &gatedProvider{gate: make(chan struct{}), entered: make(chan struct{}, 10), items: 5}
	// customers(first: 5) is estimated at 7 calls here (a page size of 1): costly
	srv := gatedGateway(t, p, Limits{HeavyCalls: 5, MaxHeavy: 1, HeavyWait: 100 * time.Millisecond})
	done := make(chan int)
	go func() { status, _ := post(t, srv.URL, listQuery, nil); done <- status }()
	var once sync.Once
	gate := p.gate
	open := func() { once.Do(func() { close(gate) }) }
	t.Cleanup(open)
	<-p.entered // the first costly query holds the lane

	start := time.Now()
	resp, out := postResp(t, srv.URL, listQuery, nil)
	if took := time.Since(start); firstCode(out) != "PROVIDER_UNAVAILABLE" || took < 100*time.Millisecond {
		t.Fatalf("a second costly query: code %q after %v, want PROVIDER_UNAVAILABLE after the 100ms wait", firstCode(out), took)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("status %d Retry-After %q, want 503 and 1", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if status, out := post(t, srv.URL, `{ providers { provider } }`, nil); status != 200 || out["errors"] != nil {
		t.Fatalf("an ordinary query waited for the lane: %d %v", status, out["errors"])
	}
	open()
	if status := <-done; status != 200 {
		t.Fatalf("the first costly query: %d", status)
	}
	// the lane is free again
	p.gate, p.entered = nil, nil
	if _, out := post(t, srv.URL, listQuery, nil); out["errors"] != nil {
		t.Fatalf("after the first: %v", out["errors"])
	}
}
