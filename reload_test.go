package main

import (
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// keyStatus is the HTTP status of a small query with key.
func keyStatus(t *testing.T, addr, key string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+addr+"/graphql", strings.NewReader(`{"query":"{ providers { provider } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

const reloadBefore = `
cache: {ttl: 60s}
cors: {allow_origins: ["https://old.example"]}
auth: {api_keys: [{key: "old-key"}]}
providers: {telness: {simulate: true}}
`

const deepQuery = `{ customers(first: 1) { nodes { address { city } } } }`

const reloadAfter = `
cache: {ttl: 30s}
limits: {max_depth: 2}
cors: {allow_origins: ["https://new.example"]}
auth: {api_keys: [{key: "new-key", providers: [telness]}]}
providers: {telness: {simulate: true}}
`

// TestReloadAppliesKeysAndCORSAndNamesWhatNeedsARestart: in process,
// Reload swaps the keys, CORS origins and limits, says the cache change needs a
// restart, and an invalid file leaves the running configuration alone.
func TestReloadAppliesKeysAndCORSAndNamesWhatNeedsARestart(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, reloadBefore)
	log := &lockedLog{}
	m := startGateway(t, withConfigFile(path), withLog(log))
	if s := keyStatus(t, m.Addr, "old-key"); s != 200 {
		t.Fatalf("old key before the reload: %d", s)
	}
	if _, out := m.post(t, map[string]any{"query": deepQuery}, map[string]string{"X-API-Key": "old-key"}); len(out.Errors) > 0 {
		t.Fatalf("the deep query before the reload: %+v", out.Errors)
	}
	if err := os.WriteFile(path, []byte(reloadAfter), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := m.Reload(); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]int{"old-key": 401, "new-key": 200} {
		if s := keyStatus(t, m.Addr, key); s != want {
			t.Errorf("%s after the reload: %d, want %d", key, s, want)
		}
	}
	// limits: a query three levels deep is now too deep
	_, deep := m.post(t, map[string]any{"query": deepQuery}, map[string]string{"X-API-Key": "new-key"})
	if c := deep.codes(); len(c) != 1 || c[0] != "QUERY_TOO_COMPLEX" {
		t.Errorf("a deep query after max_depth: 2: %+v", deep.Errors)
	}
	for origin, want := range map[string]string{"https://old.example": "", "https://new.example": "https://new.example"} {
		if got := corsRequest(t, m, http.MethodOptions, origin, preflight).Header.Get("Access-Control-Allow-Origin"); got != want {
			t.Errorf("preflight from %s: Access-Control-Allow-Origin %q, want %q", origin, got, want)
		}
	}
	if !strings.Contains(log.String(), `need a restart; not applied" sections=cache`) {
		t.Errorf("the cache change was not named as needing a restart:\n%s", log.String())
	}
	// a broken file: an error, and the running configuration stays
	if err := os.WriteFile(path, []byte("auth: {api_keys: [{key: ${GATEWAY_TEST_UNSET}}]}\nproviders: {telness: {simulate: true}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := m.Reload(); err == nil || !strings.Contains(err.Error(), "GATEWAY_TEST_UNSET") {
		t.Fatalf("reload of a broken file: %v", err)
	}
	if s := keyStatus(t, m.Addr, "new-key"); s != 200 {
		t.Errorf("new key after a failed reload: %d", s)
	}
}

// TestSIGHUPReloadsTheAPIKeys runs the real binary: SIGHUP makes a new key
// work and the old one stop, with no restart.
func TestSIGHUPReloadsTheAPIKeys(t *testing.T) {
	path := writeConfig(t, reloadBefore)
	p := startProcess(t, "--config", path)
	addr := p.addr
	logs := p.logs
	waitFor(t, 20*time.Second, func() bool { return keyStatus(t, addr, "old-key") == 200 }, "the gateway to serve the old key")
	pid := p.cmd.Process.Pid
	if err := os.WriteFile(path, []byte(reloadAfter), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() bool { return keyStatus(t, addr, "new-key") == 200 }, "the new key after SIGHUP")
	if s := keyStatus(t, addr, "old-key"); s != 401 {
		t.Errorf("the old key after SIGHUP: %d, want 401", s)
	}
	// the reload logs after it swaps the keys: wait for the lines, not only the key
	waitFor(t, 10*time.Second, func() bool {
		out := logs.String()
		return strings.Contains(out, "reload: applied") && strings.Contains(out, "sections=cache")
	}, "the reload's log lines")
}
