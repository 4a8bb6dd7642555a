package link_test

import (
	"context"
	"fmt"
	"testing"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/link"
)

// world is an Env over a fixed set of records, indexed as the gateway would.
type world struct {
	records map[ds.CustomerKey]*ds.Customer
	// careCloud: CareCloud customer id -> the records its source records name.
	careCloud map[string][]ds.CustomerKey
}

func key(p ds.ProviderID, id string) ds.CustomerKey {
	return ds.CustomerKey{Provider: p, ProviderID: id}
}

func (w *world) add(p ds.ProviderID, id, email string, refs ...ds.Ref) {
	c := &ds.Customer{Provider: p, ProviderID: id, Refs: refs}
	if email != "" {
		c.Email = &email
	}
	w.records[key(p, id)] = c
}

func ref(system, id string) ds.Ref {
	return ds.Ref{Kind: ds.SourceSystem, SourceID: system, ExternalIDs: []string{id}}
}

func (w *world) Serves(p ds.ProviderID) bool { return p != ds.CareCloud }
func (w *world) Refs(_ context.Context, k ds.CustomerKey) ([]ds.Ref, bool, error) {
	c, ok := w.records[k]
	if !ok {
		return nil, false, nil
	}
	return c.Refs, true, nil
}
func (w *world) ByEmail(_ context.Context, email string) ([]ds.Identity, error) {
	var out []ds.Identity
	for _, c := range w.records {
		if id := ds.IdentityOf(c, "", ds.Identity{}.SeenAt); id.Email == email && email != "" {
			out = append(out, id)
		}
	}
	return out, nil
}
func (w *world) ReferencedBy(_ context.Context, k ds.CustomerKey) ([]ds.CustomerKey, error) {
	var out []ds.CustomerKey
	for ck, c := range w.records {
		for _, r := range c.Refs {
			if p, ok := ds.ParseProvider(r.SourceID); ok && p == k.Provider && r.ExternalIDs[0] == k.ProviderID {
				out = append(out, ck)
			}
		}
	}
	return out, nil
}
func (w *world) Resolve(_ context.Context, id string) ([]ds.CustomerKey, error) {
	var out []ds.CustomerKey
	for k := range w.records {
		if k.ProviderID == id {
			out = append(out, k)
		}
	}
	return out, nil
}
func (w *world) SourceSiblings(_ context.Context, k ds.CustomerKey) ([]ds.CustomerKey, error) {
	var out []ds.CustomerKey
	for _, ks := range w.careCloud {
		for _, x := range ks {
			if x == k {
				out = append(out, ks...)
			}
		}
	}
	return out, nil
}
func (w *world) Load(_ context.Context, k ds.CustomerKey) func() (*ds.Customer, error) {
	c := w.records[k]
	return func() (*ds.Customer, error) { return c, nil }
}

func links(t *testing.T, w *world, k ds.CustomerKey) string {
	t.Helper()
	got, errs := link.Find(context.Background(), w, w.records[k])
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var out []string
	for _, l := range got {
		why := fmt.Sprint(l.MatchedBy)
		out = append(out, l.Customer.Provider.Key()+"/"+l.Customer.ProviderID+why)
	}
	return fmt.Sprint(out) // in Find's order: providers in enum order, then ids

}

func TestLinks(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(w *world)
		from  ds.CustomerKey
		want  string
	}{
		{"the same personal email links, case and spaces aside", func(w *world) {
			w.add(ds.Kintsugi, "k1", "Ada@Example.com ")
			w.add(ds.Telness, "t1", "ada@example.com")
		}, key(ds.Kintsugi, "k1"), "[telness/t1[EMAIL]]"},
		{"no email links nothing", func(w *world) {
			w.add(ds.Kintsugi, "k1", "")
			w.add(ds.Telness, "t1", "")
		}, key(ds.Kintsugi, "k1"), "[]"},
		{"a role mailbox links nothing", func(w *world) {
			w.add(ds.Kintsugi, "k1", "info@acme.example")
			w.add(ds.Telness, "t1", "info@acme.example")
		}, key(ds.Kintsugi, "k1"), "[]"},
		{"an email two records share at one provider links nothing", func(w *world) {
			w.add(ds.Kintsugi, "k1", "family@example.com")
			w.add(ds.Telness, "t1", "family@example.com")
			w.add(ds.Telness, "t2", "family@example.com")
		}, key(ds.Kintsugi, "k1"), "[]"},
		{"a reference to a record that no longer exists links nothing", func(w *world) {
			w.add(ds.CommerceLayer, "c1", "c@example.com", ref("kintsugi", "gone"))
		}, key(ds.CommerceLayer, "c1"), "[]"},
		{"a cycle of references ends, each record once", func(w *world) {
			w.add(ds.CommerceLayer, "c1", "a@example.com", ref("kintsugi", "k1"))
			w.add(ds.Kintsugi, "k1", "b@example.com", ref("digitalriver", "d1"))
			w.add(ds.DigitalRiver, "d1", "c@example.com", ref("commercelayer", "c1"))
		}, key(ds.CommerceLayer, "c1"), "[kintsugi/k1[REFERENCE] digitalriver/d1[REFERENCE]]"},
		{"a reference is followed backwards", func(w *world) {
			w.add(ds.CommerceLayer, "c1", "a@example.com", ref("telness", "t1"))
			w.add(ds.Telness, "t1", "b@example.com")
		}, key(ds.Telness, "t1"), "[commercelayer/c1[REFERENCE]]"},
		{"a reference under a system that names no provider resolves when one record has the id", func(w *world) {
			w.add(ds.Kintsugi, "k1", "a@example.com", ref("API", "58001"))
			w.add(ds.DigitalRiver, "58001", "b@example.com")
		}, key(ds.Kintsugi, "k1"), "[digitalriver/58001[REFERENCE]]"},
		{"an id two providers share resolves to neither", func(w *world) {
			w.add(ds.Kintsugi, "k1", "a@example.com", ref("UNKNOWN", "42"))
			w.add(ds.DigitalRiver, "42", "b@example.com")
			w.add(ds.Telness, "42", "c@example.com")
		}, key(ds.Kintsugi, "k1"), "[]"},
		{"CareCloud source records link every record they name, with every reason", func(w *world) {
			w.add(ds.Kintsugi, "k1", "ada@example.com", ref("commercelayer", "c1"))
			w.add(ds.CommerceLayer, "c1", "ada@example.com")
			w.add(ds.Telness, "t1", "other@example.com")
			w.careCloud["cc1"] = []ds.CustomerKey{key(ds.Kintsugi, "k1"), key(ds.CommerceLayer, "c1"), key(ds.Telness, "t1")}
		}, key(ds.Kintsugi, "k1"), "[telness/t1[SOURCE_RECORD] commercelayer/c1[SOURCE_RECORD REFERENCE EMAIL]]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &world{records: map[ds.CustomerKey]*ds.Customer{}, careCloud: map[string][]ds.CustomerKey{}}
			tc.build(w)
			if got := links(t, w, tc.from); got != tc.want {
				t.Fatalf("links = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestPersonal(t *testing.T) {
	for email, want := range map[string]bool{
		"ada.lovelace@example.com": true, "ada+shop@example.com": true,
		"info@acme.example": false, "support+eu@acme.example": false, "no-reply@acme.example": false,
		"@example.com": false, "ada@": false, "": false,
	} {
		if got := link.Personal(email); got != want {
			t.Errorf("Personal(%q) = %v, want %v", email, got, want)
		}
	}
}
