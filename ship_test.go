package main

import (
	"context"
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestTheExampleConfigurationStartsAndServes: examples/gateway.yaml starts
// as is (every provider simulated) and answers through HTTP with its keys,
// its CORS origins and its persisted-query manifest.
func TestTheExampleConfigurationStartsAndServes(t *testing.T) {
	for _, v := range []string{"CURSOR_SECRET", "DATABASE_URL", "FRONTEND_KEY", "BFF_KEY"} {
		t.Setenv(v, "")
		os.Unsetenv(v) // the defaults in the file apply
	}
	m := startGateway(t, withConfigFile(filepath.Join("examples", "gateway.yaml")))
	frontend := map[string]string{"Authorization": "Bearer example-frontend-key"}
	_, out := m.post(t, map[string]any{"query": `{ providers { provider enabled simulated } }`}, frontend)
	var got struct {
		Providers []struct {
			Provider           string
			Enabled, Simulated bool
		}
	}
	if err := json.Unmarshal(out.Data, &got); err != nil || len(out.Errors) > 0 {
		t.Fatalf("%s %+v", out.Data, out.Errors)
	}
	var on []string
	for _, p := range got.Providers {
		if p.Enabled && p.Simulated {
			on = append(on, p.Provider)
		}
	}
	if len(on) != 5 {
		t.Fatalf("simulated and enabled: %v, want all five", on)
	}
	// the manifest's operation, by id, with the BFF key
	manifest, err := os.ReadFile(filepath.Join("examples", "persisted-query-manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var mf struct{ Operations []struct{ ID string } }
	_ = json.Unmarshal(manifest, &mf)
	_, out = m.post(t, map[string]any{"extensions": persistedExt(mf.Operations[0].ID)}, map[string]string{"X-API-Key": "example-bff-key"})
	var page struct {
		Customers struct{ Nodes []struct{ Provider string } }
	}
	if err := json.Unmarshal(out.Data, &page); err != nil || len(out.Errors) > 0 || len(page.Customers.Nodes) != 5 {
		t.Fatalf("the manifest's operation: %s %+v", out.Data, out.Errors)
	}
	if resp := corsRequest(t, m, "OPTIONS", "http://localhost:3000", preflight); resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" {
		t.Fatalf("the example's CORS origin: %v", resp.Header)
	}
	if _, out := m.post(t, map[string]any{"query": `{ providers { provider } }`}, nil); len(out.codes()) != 1 || out.codes()[0] != "UNAUTHENTICATED" {
		t.Fatalf("no key: %+v", out.Errors)
	}
}

// TestComposeFileStartsPostgresAndTheGatewayInDemoMode parses compose.yaml
// (docker compose is not available to the tests): Postgres with a health
// check, the gateway built from the Dockerfile, waiting for it, on :8080,
// its DATABASE_URL pointing at that service, and no --config (demo mode).
func TestComposeFileStartsPostgresAndTheGatewayInDemoMode(t *testing.T) {
	b, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]struct {
			Image       string
			Build       struct{ Context string }
			Command     []string
			Ports       []string
			Environment map[string]string
			DependsOn   map[string]struct{ Condition string } `yaml:"depends_on"`
			Healthcheck struct{ Test []string }
		}
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range c.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "gateway,postgres" {
		t.Fatalf("services %v", names)
	}
	pg, gw := c.Services["postgres"], c.Services["gateway"]
	if !strings.HasPrefix(pg.Image, "postgres:") || len(pg.Healthcheck.Test) == 0 {
		t.Errorf("postgres: image %q, health check %v", pg.Image, pg.Healthcheck.Test)
	}
	if gw.Build.Context != "." || len(gw.Command) != 0 || !contains(gw.Ports, "8080:8080") {
		t.Errorf("gateway: build %q, command %v (want none: demo mode), ports %v", gw.Build.Context, gw.Command, gw.Ports)
	}
	if strings.Join(gw.Healthcheck.Test, " ") != "CMD /usr/local/bin/gateway --health http://127.0.0.1:8080/healthz" {
		t.Errorf("gateway health check %v", gw.Healthcheck.Test)
	}
	if gw.DependsOn["postgres"].Condition != "service_healthy" {
		t.Errorf("gateway does not wait for a healthy postgres: %+v", gw.DependsOn)
	}
	dbURL := gw.Environment["DATABASE_URL"]
	if !strings.Contains(dbURL, "@postgres:5432/") || !strings.Contains(dbURL, pgUser(pg.Environment)) {
		t.Errorf("DATABASE_URL %q does not name the postgres service and its user", dbURL)
	}
	// the commented block for real vendors names a file that exists
	if !strings.Contains(string(b), `# command: ["--config", "/etc/gateway/gateway.yaml"]`) {
		t.Error("no commented block for real vendors")
	}
}

func pgUser(env map[string]string) string { return "//" + env["POSTGRES_USER"] + ":" }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// dockerBuild is the Dockerfile's go build line, run here as it runs in
// the image's build stage, into out.
func dockerBuild(t *testing.T, out, version string) {
	t.Helper()
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`(?m)^RUN (CGO_ENABLED=0 go build .*)$`).FindSubmatch(b)
	if line == nil {
		t.Fatal("the Dockerfile has no RUN CGO_ENABLED=0 go build line")
	}
	cmd := strings.ReplaceAll(string(line[1]), "-o /out/gateway", "-o "+out)
	if !strings.Contains(cmd, "-trimpath") || !strings.Contains(cmd, "-X main.version=${VERSION}") {
		t.Fatalf("the Dockerfile's build is not the documented one: %s", cmd)
	}
	sh := exec.Command("sh", "-c", cmd)
	sh.Env = append(os.Environ(), "VERSION="+version)
	if o, err := sh.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, o)
	}
}

// TestTheDockerfilesBinaryIsStaticAndPrintsItsVersion builds the binary
// with the Dockerfile's own command (docker itself has no daemon here):
// static (no ELF interpreter, so it runs on distroless/static), the version
// stamped, and --check on the example configuration the image carries.
func TestTheDockerfilesBinaryIsStaticAndPrintsItsVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "gateway")
	dockerBuild(t, bin, "v9.9.9-test")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the binary has an ELF interpreter: it is not static")
		}
	}
	f.Close()
	ctx := context.Background()
	if out, err := exec.CommandContext(ctx, bin, "--version").CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "gateway v9.9.9-test" {
		t.Fatalf("--version: %v %q", err, out)
	}
	if out, err := exec.CommandContext(ctx, bin, "--check", "--probe", "--config", filepath.Join("examples", "gateway.yaml")).CombinedOutput(); err != nil {
		t.Fatalf("--check of the example: %v\n%s", err, out)
	}
	// --health, the image's health check (it has no curl): 0 on 200, 1 otherwise
	m := startGateway(t)
	for path, want := range map[string]int{"/healthz": 0, "/no-such-route": 1} {
		if code := exitCode(exec.CommandContext(ctx, bin, "--health", "http://"+m.Addr+path).Run()); code != want {
			t.Errorf("--health %s: exit %d, want %d", path, code, want)
		}
	}
	bad := writeConfig(t, "providers: {telness: {simulate: true, apikey: x}}\n")
	out, err := exec.CommandContext(ctx, bin, "--check", "--config", bad).CombinedOutput()
	if code := exitCode(err); code != 1 || !strings.Contains(string(out), "line 1") || !strings.Contains(string(out), "apikey") {
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

// TestTheREADMEConfigurationIsValid: the README's YAML, with its variables
// set, passes --check (every provider block read as a start would).
func TestTheREADMEConfigurationIsValid(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindSubmatch(readme)
	if block == nil {
		t.Fatal("no yaml block in the README")
	}
	for _, v := range regexp.MustCompile(`\$\{([A-Z_]+)\}`).FindAllSubmatch(block[1], -1) {
		t.Setenv(string(v[1]), "https://example.test/"+strings.ToLower(string(v[1])))
	}
	dir := t.TempDir()
	manifest, err := os.ReadFile(filepath.Join("examples", "persisted-query-manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "persisted-query-manifest.json"), manifest, 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, block[1], 0o600); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := check(context.Background(), path, false, &out); err != nil {
		t.Fatalf("the README's configuration: %v\n%s", err, out.String())
	}
	if strings.Count(out.String(), ": configured") != 5 {
		t.Fatalf("want the five providers configured:\n%s", out.String())
	}
}
