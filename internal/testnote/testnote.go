// Package testnote lets tests that skip a whole area (Postgres unreachable,
// node or Chromium missing) say so where `go test ./...` shows it: go test
// prints only "ok" for a passing package, so the line also goes to the
// terminal, once per area per go test run, naming what to install.
package testnote

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	mu      sync.Mutex
	skipped = map[string]string{} // area → what to install
)

// Skipped records that tests of area were skipped, and what to install to run them.
func Skipped(area, install string) {
	mu.Lock()
	defer mu.Unlock()
	skipped[area] = install
}

// Main runs the package's tests and reports the skipped areas (use it in TestMain).
func Main(m *testing.M) int {
	code := m.Run()
	if line := Line(); line != "" {
		fmt.Fprintln(os.Stderr, line) // shown with -v or on failure
		if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
			fmt.Fprintln(tty, line) // shown by a plain go test ./... in a terminal
			_ = tty.Close()
		}
	}
	return code
}

// Line is the report of the areas skipped that no other test binary of
// this go test run has named yet; "" when there are none.
func Line() string {
	mu.Lock()
	defer mu.Unlock()
	var parts []string
	for area, install := range skipped {
		if firstInRun(area) {
			parts = append(parts, fmt.Sprintf("%s (%s)", area, install))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	sort.Strings(parts)
	return "go test: skipped " + strings.Join(parts, "; ")
}

var unsafe = regexp.MustCompile(`[^a-zA-Z0-9]+`)

// firstInRun reports whether no other test binary of this go test run
// (they share the go command as parent) has named area yet.
func firstInRun(area string) bool {
	dir := filepath.Join(os.TempDir(), "gateway-test-skips")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return true
	}
	if old, err := os.ReadDir(dir); err == nil { // earlier runs' markers
		for _, e := range old {
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > time.Hour {
				_ = os.Remove(filepath.Join(dir, e.Name()))
			}
		}
	}
	f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("%d-%s", os.Getppid(), unsafe.ReplaceAllString(area, "-"))), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return !os.IsExist(err)
	}
	_ = f.Close()
	return true
}
