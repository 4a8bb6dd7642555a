package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// TestCheckValidatesAFileAndProbesEachVendorOnce: --check reads the file
// as a start would, serves nothing, and with --probe asks each vendor once.
func TestCheckValidatesAFileAndProbesEachVendorOnce(t *testing.T) {
	kit := externalKintsugi(t)
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
			kit.Reset()
			var out bytes.Buffer
			err := check(context.Background(), tc.path, tc.probe, &out)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q\n%s", err, tc.wantErr, out.String())
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("output %q, want it to contain %q", out.String(), tc.wantOut)
			}
			if n := kit.Count(); n != tc.wantCalls {
				t.Errorf("%d calls at the vendor, want %d", n, tc.wantCalls)
			}
		})
	}
	// a key listing a provider the file does not configure: a warning
	var out bytes.Buffer
	if err := check(context.Background(), writeConfig(t, "auth: {api_keys: [{key: k, providers: [telness, carecloud]}]}\nproviders: {telness: {simulate: true}}\n"), false, &out); err != nil ||
		!strings.Contains(out.String(), "warning: auth.api_keys[0] lists carecloud, which is not configured") {
		t.Errorf("a key naming an unconfigured provider: %v\n%s", err, out.String())
	}
	// an unset variable (not merely empty) is refused with its name
	os.Unsetenv("KINTSUGI_ORG")
	if err := check(context.Background(), good, false, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "${KINTSUGI_ORG}") {
		t.Fatalf("unset KINTSUGI_ORG: %v", err)
	}
}
