package config

import (
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestTheReferenceGivesTheDefaultLimits: docs/reference.md's limits rows
// (`limits.a`, `limits.b` | 1, 2 | ...) say what DefaultLimits holds.
func TestTheReferenceGivesTheDefaultLimits(t *testing.T) {
	doc, err := os.ReadFile("../docs/reference.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]string{}
	for _, line := range strings.Split(string(doc), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 || !strings.Contains(cells[1], "`limits.") {
			continue
		}
		keys, values := strings.Split(cells[1], ","), strings.Split(cells[2], ",")
		for i, k := range keys {
			if i < len(values) {
				documented[strings.Trim(strings.TrimSpace(k), "`")] = strings.TrimSpace(values[i])
			}
		}
	}
	v, typ := reflect.ValueOf(DefaultLimits), reflect.TypeOf(DefaultLimits)
	for i := range typ.NumField() {
		key := typ.Field(i).Tag.Get("yaml")
		if key == "-" {
			continue
		}
		n := v.Field(i).Int()
		want := strconv.FormatInt(n, 10)
		if n >= 1<<20 && n%(1<<20) == 0 {
			want = strconv.FormatInt(n>>20, 10) + " MiB"
		}
		if got, ok := documented["limits."+key]; !ok || got != want {
			t.Errorf("docs/reference.md gives limits.%s as %q, DefaultLimits as %q", key, got, want)
		}
	}
}
