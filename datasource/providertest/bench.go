package providertest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"

	ds "github.com/federated-customers/gateway/datasource"
)

// BenchPerItem runs op b.N times and reports, besides ns/op and the usual
// allocation figures, bytes and allocations per item (unit names the item,
// e.g. "customer"). op returns how many items one call produced; a call that
// produced none fails the benchmark. The figures count every allocation of
// the process meanwhile, so an in-process simulator's are included.
func BenchPerItem(b *testing.B, unit string, op func() (int, error)) {
	b.Helper()
	if n, err := op(); err != nil || n == 0 {
		b.Fatalf("warm-up: %d %ss, %v", n, unit, err)
	}
	b.ReportAllocs()
	var before, after runtime.MemStats
	items := 0
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for b.Loop() {
		n, err := op()
		if err != nil {
			b.Fatal(err)
		}
		items += n
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(items), "B/"+unit)
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(items), "allocs/"+unit)
}

// Capture is an http.RoundTripper that keeps the last 2xx body of a request
// whose URL path ends with Suffix, so a benchmark can decode exactly what the
// client received (same headers, same query) without the HTTP round trip.
type Capture struct {
	Suffix string
	Base   http.RoundTripper // nil: http.DefaultTransport

	mu   sync.Mutex
	last []byte
}

// RoundTrip implements http.RoundTripper.
func (c *Capture) RoundTrip(r *http.Request) (*http.Response, error) {
	base := c.Base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(r)
	if err != nil || resp.StatusCode/100 != 2 || !strings.HasSuffix(r.URL.Path, c.Suffix) {
		return resp, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.last = b
	c.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

// Body is a copy of the last captured body (nil before any).
func (c *Capture) Body() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.last)
}

// BenchList is a vendor's BenchmarkListCustomers: sub-benchmark "client"
// calls the client's list method for one full page of size items against
// the in-process simulator (its allocations included); "decode" runs only
// the package's decode+map over a page body captured once from that same
// call, so its figures are the client's own. newList builds a client on hc
// (nil: the client's default) and returns one list call; the list request's
// path ends with suffix.
func BenchList(b *testing.B, unit string, size int, suffix string, newList func(b *testing.B, hc *http.Client) func() (int, error), decode func(body []byte) (int, error)) {
	b.Helper()
	full := func(op func() (int, error)) func() (int, error) {
		return func() (int, error) {
			n, err := op()
			if err == nil && n != size {
				b.Fatalf("a page of %d %ss, want a full page of %d", n, unit, size)
			}
			return n, err
		}
	}
	b.Run("client", func(b *testing.B) {
		BenchPerItem(b, unit, full(newList(b, nil)))
	})
	b.Run("decode", func(b *testing.B) {
		capt := &Capture{Suffix: suffix}
		if _, err := newList(b, &http.Client{Transport: capt})(); err != nil {
			b.Fatal(err)
		}
		body := capt.Body()
		if body == nil {
			b.Fatalf("no body captured for a path ending %q", suffix)
		}
		BenchPerItem(b, unit, full(func() (int, error) { return decode(body) }))
	})
}

// BenchListCustomers is BenchList for a customer provider: it serves sim on
// an httptest server and lists one page of size with newClient's client
// (built for the server's URL on hc).
func BenchListCustomers(b *testing.B, sim http.Handler, size int, suffix string, newClient func(url string, hc *http.Client) (ds.CustomerProvider, error), decode func(body []byte) (int, error)) {
	b.Helper()
	srv := httptest.NewServer(sim)
	defer srv.Close()
	req := ds.ListRequest[ds.Filter]{Limit: size}
	BenchList(b, "customer", size, suffix, func(b *testing.B, hc *http.Client) func() (int, error) {
		c, err := newClient(srv.URL, hc)
		if err != nil {
			b.Fatal(err)
		}
		return func() (int, error) {
			p, err := c.ListCustomers(context.Background(), req)
			return len(p.Items), err
		}
	}, decode)
}
