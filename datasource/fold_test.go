package datasource

import (
	"sort"
	"testing"
	"time"
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

func TestSearchMatchesFoldedNameOrEmail(t *testing.T) {
	name, email := "Václav Kučera", "v.kucera@example.com"
	c := &Customer{Provider: Kintsugi, ProviderID: "1", Name: &name, Email: &email}
	for q, want := range map[string]bool{"vaclav kucera": true, "KUČERA": true, "Kucera": true, "V.KUCERA@": true, "novak": false} {
		f, err := NormalizeFilter(Filter{Search: &q})
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Match(c); got != want {
			t.Errorf("search %q: %v, want %v", q, got, want)
		}
	}
}

func TestOrderPutsMissingValuesLastInBothDirectionsAndBreaksTiesByProviderThenID(t *testing.T) {
	s := func(v string) *string { return &v }
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	cs := []*Customer{
		{Provider: Telness, ProviderID: "b", Name: s("Émile")},
		{Provider: Kintsugi, ProviderID: "z", Name: nil, CreatedAt: &at},
		{Provider: Kintsugi, ProviderID: "a", Name: s("emile")},
		{Provider: DigitalRiver, ProviderID: "c", Name: s("Zoë")},
		{Provider: Telness, ProviderID: "a", Name: nil},
	}
	ids := func(desc bool) []string {
		sorted := append([]*Customer(nil), cs...)
		sort.SliceStable(sorted, func(i, j int) bool {
			return CustomerLess(Order{Field: OrderName, Descending: desc})(sorted[i], sorted[j])
		})
		var out []string
		for _, c := range sorted {
			out = append(out, c.Provider.Key()+"/"+c.ProviderID)
		}
		return out
	}
	asc := []string{"kintsugi/a", "telness/b", "digitalriver/c", "kintsugi/z", "telness/a"}
	desc := []string{"digitalriver/c", "telness/b", "kintsugi/a", "telness/a", "kintsugi/z"}
	if got := ids(false); !equal(got, asc) {
		t.Errorf("ASC %v, want %v", got, asc)
	}
	if got := ids(true); !equal(got, desc) {
		t.Errorf("DESC %v, want %v", got, desc)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
