package federate

import (
	"sort"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
)

func TestSearchMatchesFoldedNameOrEmail(t *testing.T) {
	name, email := "Václav Kučera", "v.kucera@example.com"
	c := &ds.Customer{Provider: ds.Kintsugi, ProviderID: "1", Name: &name, Email: &email}
	for q, want := range map[string]bool{"vaclav kucera": true, "KUČERA": true, "Kucera": true, "V.KUCERA@": true, "novak": false} {
		f, err := NormalizeFilter(ds.Filter{Search: &q})
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
	cs := []*ds.Customer{
		{Provider: ds.Telness, ProviderID: "b", Name: s("Émile")},
		{Provider: ds.Kintsugi, ProviderID: "z", Name: nil, CreatedAt: &at},
		{Provider: ds.Kintsugi, ProviderID: "a", Name: s("emile")},
		{Provider: ds.DigitalRiver, ProviderID: "c", Name: s("Zoë")},
		{Provider: ds.Telness, ProviderID: "a", Name: nil},
	}
	ids := func(desc bool) []string {
		sorted := append([]*ds.Customer(nil), cs...)
		sort.SliceStable(sorted, func(i, j int) bool {
			return CustomerLess(ds.Order{Field: ds.OrderName, Descending: desc})(sorted[i], sorted[j])
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
