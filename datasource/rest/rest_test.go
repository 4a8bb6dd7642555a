package rest

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
)

// server answers with statuses[i] on the i-th call (the last one repeats).
func server(t *testing.T, statuses []int, header http.Header, body string) (*Client, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		st := statuses[min(i, len(statuses)-1)]
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(st)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return &Client{Provider: ds.Telness, BaseURL: u, HTTP: srv.Client(), BaseBackoff: time.Millisecond,
		ErrorMessage: func(int, []byte) string { return "vendor says no" }}, &n
}

func TestStatusesMapToCodesNamingTheProvider(t *testing.T) {
	for _, tc := range []struct {
		status int
		code   ds.Code
		calls  int32
	}{
		// a read the vendor refuses as malformed is the gateway's bug
		{400, ds.CodeInternal, 1},
		// the vendor refusing the gateway's credentials is not the caller's fault
		{401, ds.CodeProviderUnavailable, 1},
		{403, ds.CodeProviderUnavailable, 1},
		{404, ds.CodeNotFound, 1},
		{409, ds.CodeInternal, 1},
		{422, ds.CodeInternal, 1},
		{429, ds.CodeProviderRateLimited, 3},
		{500, ds.CodeProviderUnavailable, 3},
		{503, ds.CodeProviderUnavailable, 3},
		{406, ds.CodeInternal, 1},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			c, n := server(t, []int{tc.status}, nil, `{}`)
			_, err := c.Do(context.Background(), Request{Method: "GET", Path: "/x"}, nil)
			if ds.ErrorCode(err) != tc.code {
				t.Fatalf("code %s, want %s", ds.ErrorCode(err), tc.code)
			}
			if p, ok := ds.ErrorProvider(err); !ok || p != ds.Telness {
				t.Fatal("provider not named")
			}
			if !strings.Contains(err.Error(), "vendor says no") {
				t.Fatalf("vendor message lost: %v", err)
			}
			if n.Load() != tc.calls {
				t.Fatalf("%d calls, want %d", n.Load(), tc.calls)
			}
		})
	}
}

func TestWritesAreNotRetriedUnlessIdempotent(t *testing.T) {
	c, n := server(t, []int{503, 200}, nil, `{}`)
	if _, err := c.Do(context.Background(), Request{Method: "POST", Path: "/x", Body: map[string]int{"a": 1}}, nil); err == nil {
		t.Fatal("want the 503")
	}
	if n.Load() != 1 {
		t.Fatalf("a non-idempotent write was retried: %d calls", n.Load())
	}
	c, n = server(t, []int{503, 200}, nil, `{}`)
	if _, err := c.Do(context.Background(), Request{Method: "POST", Path: "/x", Idempotent: true}, nil); err != nil || n.Load() != 2 {
		t.Fatalf("idempotent write: %v after %d calls", err, n.Load())
	}
}

func TestRetryAfterIsHonouredOrReported(t *testing.T) {
	h := http.Header{"Retry-After": {"1"}}
	c, n := server(t, []int{429, 200}, h, `{}`)
	start := time.Now()
	if _, err := c.Do(context.Background(), Request{Method: "GET", Path: "/x"}, nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 900*time.Millisecond || n.Load() != 2 {
		t.Fatalf("retried after %v with %d calls; want ~1s and 2 calls", d, n.Load())
	}
	c, _ = server(t, []int{429}, http.Header{"Retry-After": {"120"}}, `{}`)
	_, err := c.Do(context.Background(), Request{Method: "GET", Path: "/x"}, nil)
	var e *ds.Error
	if ds.ErrorCode(err) != ds.CodeProviderRateLimited || !asError(err, &e) || e.RetryAfter != 120*time.Second {
		t.Fatalf("err %v", err)
	}
}

func asError(err error, e **ds.Error) bool {
	x, ok := err.(*ds.Error)
	*e = x
	return ok
}

func TestAnExpiredTokenIsRefreshedOnce(t *testing.T) {
	c, n := server(t, []int{401, 200}, nil, `{"ok":true}`)
	reauths := 0
	c.Reauthorize = func() { reauths++ }
	var out struct{ OK bool }
	if _, err := c.Do(context.Background(), Request{Method: "GET", Path: "/x"}, &out); err != nil || !out.OK {
		t.Fatalf("%v %+v", err, out)
	}
	if reauths != 1 || n.Load() != 2 {
		t.Fatalf("reauths %d calls %d", reauths, n.Load())
	}
	c, _ = server(t, []int{401}, nil, `{}`)
	c.Reauthorize = func() {}
	if _, err := c.Do(context.Background(), Request{Method: "GET", Path: "/x"}, nil); ds.ErrorCode(err) != ds.CodeProviderUnavailable || ds.ErrorReason(err) != ds.ReasonProviderAuth {
		t.Fatalf("still 401 after refresh: %v", err)
	}
}

func TestUnreadableOrHugeBodiesAreProviderUnavailable(t *testing.T) {
	c, _ := server(t, []int{200}, nil, `{not json`)
	var out map[string]any
	if _, err := c.Do(context.Background(), Request{Method: "GET", Path: "/x"}, &out); ds.ErrorCode(err) != ds.CodeProviderUnavailable {
		t.Fatalf("bad JSON: %v", err)
	}
	c, _ = server(t, []int{200}, nil, strings.Repeat("x", maxBodyBytes+10))
	if _, err := c.Do(context.Background(), Request{Method: "GET", Path: "/x"}, nil); ds.ErrorCode(err) != ds.CodeProviderUnavailable {
		t.Fatalf("huge body: %v", err)
	}
}

func TestUnreachableAndCancelled(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1:1")
	c := &Client{Provider: ds.Kintsugi, BaseURL: u, BaseBackoff: time.Millisecond}
	if _, err := c.Do(context.Background(), Request{Method: "GET", Path: "/x"}, nil); ds.ErrorCode(err) != ds.CodeProviderUnavailable {
		t.Fatalf("unreachable: %v", err)
	}
	c, _ = server(t, []int{503}, nil, ``)
	c.BaseBackoff = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.Do(ctx, Request{Method: "GET", Path: "/x"}, nil); err == nil || time.Since(start) > time.Second {
		t.Fatalf("backoff did not honour the context: %v after %v", err, time.Since(start))
	}
}

func TestCallsAreCountedInTheRequestReport(t *testing.T) {
	c, _ := server(t, []int{503, 200}, nil, `{}`)
	ctx, rep := ds.WithReport(context.Background())
	if _, err := c.Do(ctx, Request{Method: "GET", Path: "/x"}, nil); err != nil {
		t.Fatal(err)
	}
	stats, _ := rep.Snapshot()
	if s := stats[ds.Telness]; s.Calls != 2 || s.Freshness != ds.Live {
		t.Fatalf("stats %+v", s)
	}
}

func TestACallBudgetStopsCallsOnceSpentRetriesIncluded(t *testing.T) {
	for _, tc := range []struct {
		name     string
		statuses []int
		budget   int
		requests int
		calls    int32
	}{
		{"three requests, budget of two", []int{200}, 2, 3, 2},
		// a 503 is retried twice: the retries spend the budget too
		{"retries count", []int{503, 503, 200}, 2, 1, 2},
		{"no budget", []int{200}, 0, 5, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, n := server(t, tc.statuses, nil, `{}`)
			ctx := ds.WithCallBudget(context.Background(), tc.budget)
			var last error
			for range tc.requests {
				_, last = c.Do(ctx, Request{Method: "GET", Path: "/x"}, nil)
			}
			if n.Load() != tc.calls {
				t.Errorf("server saw %d calls, want %d", n.Load(), tc.calls)
			}
			if tc.budget > 0 && (ds.ErrorCode(last) != ds.CodeQueryTooComplex || !strings.Contains(last.Error(), "budget of 2 upstream calls")) {
				t.Errorf("last error %v, want the spent budget", last)
			}
		})
	}
}

// faulty serves fail on the first faults calls, then {"ok":true}.
func faulty(t *testing.T, faults int32, fail func(w http.ResponseWriter)) (*Client, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= faults {
			fail(w)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return &Client{Provider: ds.Kintsugi, BaseURL: u, HTTP: srv.Client(), BaseBackoff: time.Millisecond}, &n
}

func TestBrokenConnectionsAreRetriedThenProviderUnavailable(t *testing.T) {
	reset := func(w http.ResponseWriter) { // the server drops the connection
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			if tc, ok := conn.(interface{ SetLinger(int) error }); ok {
				_ = tc.SetLinger(0) // RST, not FIN
			}
			_ = conn.Close()
		}
	}
	truncated := func(w http.ResponseWriter) { // the body ends before its Content-Length
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"ok":`))
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	}
	for _, tc := range []struct {
		name string
		fail func(http.ResponseWriter)
	}{{"connection reset", reset}, {"truncated body", truncated}} {
		t.Run(tc.name+" once is retried and succeeds", func(t *testing.T) {
			c, n := faulty(t, 1, tc.fail)
			var out struct{ OK bool }
			if _, err := c.Do(context.Background(), Request{Method: "GET", Path: "/x"}, &out); err != nil || !out.OK {
				t.Fatalf("err %v, out %+v", err, out)
			}
			if n.Load() != 2 {
				t.Fatalf("%d calls, want 2 (one failure, one retry)", n.Load())
			}
		})
		t.Run(tc.name+" every time is PROVIDER_UNAVAILABLE", func(t *testing.T) {
			c, _ := faulty(t, 100, tc.fail)
			_, err := c.Do(context.Background(), Request{Method: "GET", Path: "/x"}, nil)
			if ds.ErrorCode(err) != ds.CodeProviderUnavailable {
				t.Fatalf("err %v, want PROVIDER_UNAVAILABLE", err)
			}
			if p, ok := ds.ErrorProvider(err); !ok || p != ds.Kintsugi {
				t.Fatalf("err %v does not name KINTSUGI", err)
			}
		})
		t.Run(tc.name+" on a write is not retried", func(t *testing.T) {
			c, n := faulty(t, 1, tc.fail)
			_, err := c.Do(context.Background(), Request{Method: "POST", Path: "/x", Body: map[string]int{"a": 1}}, nil)
			if err == nil || n.Load() != 1 {
				t.Fatalf("err %v after %d calls, want the failure after one", err, n.Load())
			}
		})
	}
}

func TestBodiesOfAnnouncedLength(t *testing.T) {
	// Within the limit: the body as sent, read into one buffer.
	c, _ := server(t, []int{200}, http.Header{"Content-Length": {"11"}}, `{"a":"bc"}`+"\n")
	resp, err := c.Do(context.Background(), Request{Method: "GET", Path: "/x"}, nil)
	if err != nil || string(resp.Body) != `{"a":"bc"}`+"\n" {
		t.Fatalf("body %q, %v", resp.Body, err)
	}
	// Announced over the limit: refused as the unannounced one is.
	huge := strings.Repeat("x", maxBodyBytes+10)
	c, _ = server(t, []int{200}, http.Header{"Content-Length": {strconv.Itoa(len(huge))}}, huge)
	if _, err := c.Do(context.Background(), Request{Method: "GET", Path: "/x"}, nil); ds.ErrorCode(err) != ds.CodeProviderUnavailable || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("huge announced body: %v", err)
	}
	// Shorter than announced: cut off, as retryable as a dropped connection.
	c, n := server(t, []int{200}, http.Header{"Content-Length": {"100"}}, `{"a":`)
	if _, err := c.Do(context.Background(), Request{Method: "GET", Path: "/x"}, nil); ds.ErrorCode(err) != ds.CodeProviderUnavailable || !strings.Contains(err.Error(), "cut off") || n.Load() != 3 {
		t.Fatalf("short body: %v after %d calls", err, n.Load())
	}
}

func TestReadBodyPresizes(t *testing.T) {
	body := []byte(strings.Repeat("x", 100_000))
	for _, tc := range []struct {
		n      int64
		limit  int
		want   int
		allocs float64
	}{
		{int64(len(body)), maxBodyBytes, len(body), 1}, // announced: one buffer, no growth
		{-1, maxBodyBytes, len(body), -1},              // unknown: io.ReadAll
		{int64(len(body)), 1000, 1001, -1},             // over the limit: limit+1 bytes
		{10, maxBodyBytes, len(body), -1},              // longer than announced: still read whole
	} {
		var got []byte
		rd := bytes.NewReader(body)
		allocs := testing.AllocsPerRun(5, func() {
			rd.Reset(body)
			b, err := readBody(rd, tc.n, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			got = b
		})
		if len(got) != tc.want || !bytes.Equal(got, body[:tc.want]) {
			t.Fatalf("n=%d limit=%d: read %d bytes, want %d", tc.n, tc.limit, len(got), tc.want)
		}
		if tc.allocs >= 0 && allocs != tc.allocs {
			t.Fatalf("n=%d: %v allocations, want %v", tc.n, allocs, tc.allocs)
		}
	}
}
