package registry

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingServer counts the TCP connections clients open to it.
func countingServer(t *testing.T, tls bool) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Proto)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	if tls {
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv, &conns
}

// burst makes n concurrent GETs, rounds times, and fails on any error.
func burst(t *testing.T, hc *http.Client, url string, n, rounds int) {
	t.Helper()
	for range rounds {
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Go(func() {
				resp, err := hc.Get(url)
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
}

func TestTheSharedTransportReusesConnectionsAcrossBursts(t *testing.T) {
	const n, rounds = 40, 5
	for _, tc := range []struct {
		name     string
		tr       http.RoundTripper
		maxConns int32
	}{
		// every round after the first is served from the keep-alive pool
		{"tuned", NewTransport(), n + 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, conns := countingServer(t, false)
			hc := &http.Client{Transport: tc.tr}
			t.Cleanup(hc.CloseIdleConnections)
			burst(t, hc, srv.URL, n, rounds)
			if got := conns.Load(); got > tc.maxConns {
				t.Fatalf("%d bursts of %d calls opened %d connections, want at most %d", rounds, n, got, tc.maxConns)
			}
			t.Logf("%d bursts of %d calls: %d connections", rounds, n, conns.Load())
		})
	}
	// The baseline the tuned transport fixes: Go's default keeps 2 idle per host.
	srv, conns := countingServer(t, false)
	def := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(def.CloseIdleConnections)
	burst(t, &http.Client{Transport: def}, srv.URL, n, rounds)
	t.Logf("for comparison, Go's default transport: %d connections", conns.Load())
}

func TestTheSharedTransportSpeaksHTTP2WhereOffered(t *testing.T) {
	srv, _ := countingServer(t, true)
	tr := NewTransport()
	tr.TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	t.Cleanup(tr.CloseIdleConnections)
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Fatalf("spoke %s to a server offering HTTP/2", resp.Proto)
	}
}

func TestTheSharedTransportBoundsDialAndTLS(t *testing.T) {
	tr := NewTransport()
	if tr.TLSHandshakeTimeout <= 0 || tr.TLSHandshakeTimeout > 10*time.Second || tr.MaxIdleConnsPerHost < 32 || tr.MaxConnsPerHost <= 0 {
		t.Fatalf("transport %+v", tr)
	}
	// A TLS server that never answers the handshake is given up on in time.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() })
		}
	}()
	tr.TLSHandshakeTimeout = 200 * time.Millisecond
	start := time.Now()
	_, err = (&http.Client{Transport: tr}).Get("https://" + ln.Addr().String())
	if err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("a silent TLS server: %v after %v", err, time.Since(start))
	}
}
