package datasource

import (
	"testing"
)

func TestFoldIgnoresCaseAccentsAndSpacing(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Václav Kučera", "vaclav kucera"},
		{"  KUČERA\t Jiří ", "kucera jiri"},
		{"Søren Łukasz Straße", "soren lukasz strasse"},
		{"ÆBLE Œuvre", "aeble oeuvre"},
		{"plain@example.com", "plain@example.com"},
		{"", ""},
	} {
		if got := Fold(tc.in); got != tc.want {
			t.Errorf("Fold(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
