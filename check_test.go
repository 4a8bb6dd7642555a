package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gateway.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCheckValidatesAFileAndProbesEachVendorOnce: --check reads the file
// as a start would, serves nothing, and with --probe asks each vendor once.
func TestCheckValidatesAFileAndProbesEachVendorOnce(t *testing.T) {
	sim := externalKintsugi(t)
	good := writeConfig(t, `
providers:
  kintsugi: {base_url: "${KINTSUGI_URL}", api_key: "${KINTSUGI_KEY}", organization_id: "${KINTSUGI_ORG}"}
  telness: {simulate: true}
`)
	for _, tc := range []struct {
		name      string
		path      string
		probe     bool
		env       map[string]string
		wantErr   string
		wantOut   string
		wantCalls int
	}{
		{"a good file, no probe", good, false, nil, "", "kintsugi: configured\ntelness: configured (built-in simulator)\n", 0},
		{"a good file, probed", good, true, nil, "", "kintsugi: configured, probe answered", 1},
		{"credentials the vendor rejects", good, true, map[string]string{"KINTSUGI_KEY": "wrong"}, "kintsugi: the probe failed", "kintsugi: configured, probe failed", 1},
		{"an empty variable", good, false, map[string]string{"KINTSUGI_ORG": ""}, "line 3: providers.kintsugi: kintsugi: organization_id is required", "", 0},
		{"a bad file", writeConfig(t, "providers:\n  telness:\n    simulate: true\n    upstream: {timeout: 3}\n"), false, nil, "line 4", "", 0},
		{"no file", "", false, nil, "--check needs --config", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			sim.Kit().Reset()
			var out bytes.Buffer
			err := check(context.Background(), tc.path, tc.probe, &out)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q\n%s", err, tc.wantErr, out.String())
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("output %q, want it to contain %q", out.String(), tc.wantOut)
			}
			if n := sim.Kit().Count(); n != tc.wantCalls {
				t.Errorf("%d calls at the vendor, want %d", n, tc.wantCalls)
			}
		})
	}
	// an unset variable (not merely empty) is refused with its name
	os.Unsetenv("KINTSUGI_ORG")
	if err := check(context.Background(), good, false, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "${KINTSUGI_ORG}") {
		t.Fatalf("unset KINTSUGI_ORG: %v", err)
	}
}

// TestTheBinaryPrintsItsVersionAndChecksAFile builds the binary the way the
// Dockerfile does (CGO_ENABLED=0, -trimpath, the version in -ldflags).
func TestTheBinaryPrintsItsVersionAndChecksAFile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "gateway")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=v9.9.9-test", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "--version").CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "gateway v9.9.9-test" {
		t.Fatalf("--version: %v %q", err, out)
	}
	ok := writeConfig(t, "providers: {telness: {simulate: true}}\n")
	if out, err := exec.Command(bin, "--check", "--probe", "--config", ok).CombinedOutput(); err != nil || !strings.Contains(string(out), "OK") {
		t.Fatalf("--check of a good file: %v\n%s", err, out)
	}
	bad := writeConfig(t, "providers: {telness: {simulate: true, apikey: x}}\n")
	out, err := exec.Command(bin, "--check", "--config", bad).CombinedOutput()
	if code := exitCode(err); code != 1 || !strings.Contains(string(out), `line 1`) || !strings.Contains(string(out), "apikey") {
		t.Fatalf("--check of a bad file: exit %d\n%s", code, out)
	}
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
