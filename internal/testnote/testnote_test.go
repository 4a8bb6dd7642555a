package testnote

import (
	"strings"
	"testing"
)

func TestEachSkippedAreaIsNamedOncePerRun(t *testing.T) {
	area := "area " + t.Name() + " " + strings.Repeat("x", 3)
	Skipped(area, "install x")
	Skipped(area, "install x") // many tests of one area: one mention
	line := Line()
	if strings.Count(line, area) != 1 || !strings.Contains(line, "(install x)") || !strings.HasPrefix(line, "go test: skipped ") {
		t.Fatalf("line %q", line)
	}
	// another test binary of the same go test run (same parent) does not repeat it
	if again := Line(); strings.Contains(again, area) {
		t.Fatalf("named twice: %q", again)
	}
	mu.Lock()
	delete(skipped, area)
	mu.Unlock()
}
