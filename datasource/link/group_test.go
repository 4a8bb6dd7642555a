package link

import (
	"testing"

	ds "github.com/federated-customers/gateway/datasource"
)

func TestGroupFollowsTheRulesLinksFollow(t *testing.T) {
	id := func(p ds.ProviderID, v, email string, refs ...ds.Ref) ds.Identity {
		return ds.Identity{Provider: p, VendorID: v, Email: email, Refs: refs}
	}
	ref := func(src, x string) ds.Ref {
		return ds.Ref{Kind: ds.SourceSystem, SourceID: src, ExternalIDs: []string{x}}
	}
	k := func(p ds.ProviderID, v string) ds.CustomerKey { return ds.CustomerKey{Provider: p, ProviderID: v} }
	for _, tc := range []struct {
		name     string
		ids      []ds.Identity
		together [][2]ds.CustomerKey
		apart    [][2]ds.CustomerKey
	}{
		{"a personal email links", []ds.Identity{id(ds.Kintsugi, "a", "x@e.com"), id(ds.Telness, "b", "x@e.com")},
			[][2]ds.CustomerKey{{k(ds.Kintsugi, "a"), k(ds.Telness, "b")}}, nil},
		{"a role mailbox links nothing", []ds.Identity{id(ds.Kintsugi, "a", "info@e.com"), id(ds.Telness, "b", "info@e.com")},
			nil, [][2]ds.CustomerKey{{k(ds.Kintsugi, "a"), k(ds.Telness, "b")}}},
		{"an address two records at one provider share names no one", []ds.Identity{
			id(ds.Kintsugi, "a", "x@e.com"), id(ds.Kintsugi, "c", "x@e.com"), id(ds.Telness, "b", "x@e.com")},
			nil, [][2]ds.CustomerKey{{k(ds.Kintsugi, "a"), k(ds.Telness, "b")}}},
		{"references chain both ways", []ds.Identity{
			id(ds.CommerceLayer, "c", "", ref("telness", "b")), id(ds.Telness, "b", ""), id(ds.Kintsugi, "a", "", ref("api", "c"))},
			[][2]ds.CustomerKey{{k(ds.Kintsugi, "a"), k(ds.Telness, "b")}}, nil},
		{"a reference to a missing record links nothing", []ds.Identity{
			id(ds.CommerceLayer, "c", "", ref("telness", "gone")), id(ds.Telness, "b", "")},
			nil, [][2]ds.CustomerKey{{k(ds.CommerceLayer, "c"), k(ds.Telness, "b")}}},
		{"one CareCloud customer's source records link what they name", []ds.Identity{
			id(ds.CareCloud, "cc", "", ref("kintsugi", "a"), ref("telness", "b")), id(ds.Kintsugi, "a", ""), id(ds.Telness, "b", "")},
			[][2]ds.CustomerKey{{k(ds.Kintsugi, "a"), k(ds.Telness, "b")}}, nil},
	} {
		g := Group(tc.ids)
		if _, ok := g[k(ds.CareCloud, "cc")]; ok {
			t.Errorf("%s: a CareCloud customer is grouped as a record", tc.name)
		}
		for _, p := range tc.together {
			if g[p[0]] != g[p[1]] || g[p[0]] != min2(p[0], p[1]) {
				t.Errorf("%s: %v and %v apart (%v, %v)", tc.name, p[0], p[1], g[p[0]], g[p[1]])
			}
		}
		for _, p := range tc.apart {
			if g[p[0]] == g[p[1]] {
				t.Errorf("%s: %v and %v together", tc.name, p[0], p[1])
			}
		}
	}
}

func min2(a, b ds.CustomerKey) ds.CustomerKey {
	if before(b, a) {
		return b
	}
	return a
}
