package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/federated-customers/gateway/postgres/pgtest"
)

// blackholeConfig is a gateway on Postgres behind proxy, two providers simulated.
func blackholeConfig(url string) string {
	return fmt.Sprintf("database_url: %q\nshutdown_grace: 1s\nproviders:\n  kintsugi: {simulate: true}\n  commercelayer: {simulate: true}\n", url)
}

// TestRequestsDuringAPostgresBlackholeAnswerLiveWhileItLasts: with Postgres
// reachable but silent, requests under load (each a page never read, so
// each reads and writes the second level) are all answered with live data
// while the database is still silent: no request waits for it to return.
func TestRequestsDuringAPostgresBlackholeAnswerLiveWhileItLasts(t *testing.T) {
	proxy, url := pgtest.NewProxy(t, pgtest.Schema(t))
	m := startGateway(t, withConfig(blackholeConfig(url)))
	if r := m.query(t, cachedPageQuery, map[string]any{"first": 3}); len(r.Errors) > 0 {
		t.Fatalf("before: %+v", r.Errors)
	}
	proxy.Blackhole()
	t.Cleanup(proxy.Restore)
	const workers, each = 6, 5
	var mu sync.Mutex
	var failures []string
	var slowest time.Duration
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				first := 10 + w*each + i
				start := time.Now()
				r := m.query(t, cachedPageQuery, map[string]any{"first": first})
				took := time.Since(start)
				f := freshness(t, r)
				mu.Lock()
				slowest = max(slowest, took)
				if len(r.Errors) > 0 || r.status != http.StatusOK || f["KINTSUGI"]["freshness"] != "LIVE" {
					failures = append(failures, fmt.Sprintf("first %d: status %d, errors %+v, providers %v", first, r.status, r.Errors, f))
				}
				mu.Unlock()
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(25 * time.Second):
		t.Fatal("requests still wait on a silent Postgres 25 s into the blackhole")
	}
	if len(failures) > 0 {
		t.Fatalf("%d of %d requests failed during the blackhole: %v", len(failures), workers*each, failures)
	}
	t.Logf("%d requests (%d at a time) during a Postgres blackhole, all live: slowest %v", workers*each, workers, slowest.Round(time.Millisecond))
}

// TestAGatewayStartedDuringAPostgresBlackholeListensAndServes: the start's
// probe of a silent Postgres is bounded, so the gateway listens and answers
// live.
func TestAGatewayStartedDuringAPostgresBlackholeListensAndServes(t *testing.T) {
	proxy, url := pgtest.NewProxy(t, pgtest.Schema(t))
	proxy.Blackhole()
	t.Cleanup(proxy.Restore)
	type start struct {
		m   *testGateway
		err error
	}
	started := make(chan start, 1)
	begin := time.Now()
	go func() { m, err := tryGateway(t, withConfig(blackholeConfig(url))); started <- start{m, err} }()
	var m *testGateway
	select {
	case s := <-started:
		if s.err != nil {
			t.Fatal(s.err)
		}
		m = s.m
		t.Logf("listening %v after the start, Postgres silent", time.Since(begin).Round(time.Millisecond))
	case <-time.After(20 * time.Second):
		t.Fatal("the gateway does not listen 20 s into a Postgres blackhole")
	}
	if r := m.query(t, cachedPageQuery, map[string]any{"first": 5}); len(r.Errors) > 0 {
		t.Fatalf("during the blackhole: %+v", r.Errors)
	}
}

// gatewayBinary builds the gateway once for the tests that run it as a process.
var gatewayBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "gateway-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "gateway")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// process is the gateway run as its own process.
type process struct {
	cmd  *exec.Cmd
	addr string
	logs *lockedLog
	done chan error
}

// startProcess runs the built gateway with args plus --listen, and waits
// until it answers /healthz.
func startProcess(t *testing.T, args ...string) *process {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin, err := gatewayBinary()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := &process{addr: addr, logs: &lockedLog{}, done: make(chan error, 1)}
	p.cmd = exec.Command(bin, append(args, "--listen", addr)...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway did not come up: %v\n%s", err, p.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// terminate sends SIGTERM and returns the exit error; it fails past limit.
func (p *process) terminate(t *testing.T, limit time.Duration) error {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		return err
	case <-time.After(limit):
		t.Fatalf("no exit %v after SIGTERM\n%s", limit, p.logs.String())
		return nil
	}
}

// TestSIGTERMDuringAPostgresBlackholeExitsCleanly: the shutdown's
// Postgres work (leaving the quota share, closing the pool) is bounded, so
// the process exits with status 0 within its shutdown deadline (15 s).
func TestSIGTERMDuringAPostgresBlackholeExitsCleanly(t *testing.T) {
	proxy, url := pgtest.NewProxy(t, pgtest.Schema(t))
	cfg := writeConfig(t, blackholeConfig(url))
	p := startProcess(t, "--config", cfg)
	body := []byte(`{"query":"{ customers(first: 5) { nodes { id } } }"}`)
	resp, err := http.Post("http://"+p.addr+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	proxy.Blackhole()
	t.Cleanup(proxy.Restore)
	time.Sleep(1500 * time.Millisecond) // the probe meets the blackhole
	sent := time.Now()
	if err := p.terminate(t, 25*time.Second); err != nil {
		t.Fatalf("exit during a Postgres blackhole: %v\n%s", err, p.logs.String())
	}
	t.Logf("exit status 0 %v after SIGTERM (grace 1 s), Postgres silent", time.Since(sent).Round(time.Millisecond))
}
