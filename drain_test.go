package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMDrainsBeforeTheListenerCloses: after SIGTERM, /readyz turns
// 503 at once while requests are still answered for shutdown_grace, then
// the process exits cleanly.
func TestSIGTERMDrainsBeforeTheListenerCloses(t *testing.T) {
	cfg := writeConfig(t, "shutdown_grace: 3s\nproviders:\n  kintsugi: {simulate: true}\n")
	p := startProcess(t, "--config", cfg)
	get := func(path string) (int, error) {
		resp, err := http.Get("http://" + p.addr + path)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := get("/readyz"); err != nil || code != http.StatusOK {
		t.Fatalf("/readyz before SIGTERM: %d %v", code, err)
	}
	sent := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, func() bool { code, err := get("/readyz"); return err == nil && code == http.StatusServiceUnavailable }, "/readyz to turn 503 after SIGTERM")
	answered := 0
	for time.Since(sent) < 2*time.Second { // within the 3 s grace
		body := []byte(`{"query":"{ customers(first: 2) { nodes { id } } }"}`)
		resp, err := http.Post("http://"+p.addr+"/graphql", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatalf("a request %v after SIGTERM was refused: %v", time.Since(sent).Round(time.Millisecond), err)
		}
		var r gqlResponse
		err = json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || len(r.Errors) > 0 || !strings.Contains(string(r.Data), "nodes") {
			t.Fatalf("a request during the grace: status %d, %v %+v", resp.StatusCode, err, r.Errors)
		}
		answered++
		time.Sleep(100 * time.Millisecond)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, p.logs.String())
		}
	case <-time.After(25 * time.Second):
		t.Fatalf("no exit 25 s after SIGTERM\n%s", p.logs.String())
	}
	t.Logf("%d requests answered during the grace", answered)
	if !strings.Contains(p.logs.String(), "draining") {
		t.Fatalf("no drain log:\n%s", p.logs.String())
	}
}
