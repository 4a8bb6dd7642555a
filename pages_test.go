package main

import (
	"fmt"
	"strings"
	"testing"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/demo"
)

const lastQuery = `query($last: Int, $before: String, $filter: CustomerFilter) { customers(last: $last, before: $before, filter: $filter) {
	pageInfo { hasPreviousPage hasNextPage startCursor endCursor } edges { cursor node { id provider providerId email } } } }`

type backPage struct {
	Customers struct {
		PageInfo struct {
			HasPreviousPage, HasNextPage bool
			StartCursor, EndCursor       *string
		}
		Edges []struct {
			Cursor string
			Node   customerNode
		}
	}
}

// last without before reads from the end of every provider that pages
// backward, post-filtered or not, and is the tail of the forward walk.
func TestLastWithoutBeforeIsTheTailOfTheForwardWalk(t *testing.T) {
	t.Parallel()
	var clEmail string
	for _, p := range demo.People(testPeople) {
		if p.At(ds.CommerceLayer) {
			clEmail = strings.ToUpper(p.EmailAt(ds.CommerceLayer))
			break
		}
	}
	for _, tc := range []struct {
		name   string
		filter map[string]any
	}{
		{"Kintsugi, search post-filtered", map[string]any{"providers": []string{"KINTSUGI"}, "search": "son"}},
		{"Commerce Layer, search post-filtered", map[string]any{"providers": []string{"COMMERCE_LAYER"}, "search": "an"}},
		{"Commerce Layer, email post-filtered", map[string]any{"providers": []string{"COMMERCE_LAYER"}, "email": clEmail}},
		{"both, search post-filtered", map[string]any{"providers": []string{"KINTSUGI", "COMMERCE_LAYER"}, "search": "er"}},
		{"both, unfiltered", map[string]any{"providers": []string{"KINTSUGI", "COMMERCE_LAYER"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // a gateway (and vendor quotas) per case
			m := startGateway(t)
			forward := keys(m.walk(t, 50, tc.filter))
			if len(forward) == 0 {
				t.Fatal("no matching records: the case proves nothing")
			}
			for _, last := range []int{1, 5, 100} {
				p := mustData[backPage](t, m.query(t, lastQuery, map[string]any{"last": last, "filter": tc.filter}))
				var nodes []customerNode
				for _, e := range p.Customers.Edges {
					nodes = append(nodes, e.Node)
				}
				want := forward[max(0, len(forward)-last):]
				if got := keys(nodes); strings.Join(got, ",") != strings.Join(want, ",") {
					t.Errorf("last %d: %v, want the forward walk's tail %v", last, got, want)
				}
				if p.Customers.PageInfo.HasPreviousPage != (len(forward) > last) {
					t.Errorf("last %d: hasPreviousPage %v with %d matching records", last, p.Customers.PageInfo.HasPreviousPage, len(forward))
				}
				if n := len(p.Customers.Edges); n > 0 && (p.Customers.PageInfo.EndCursor == nil || *p.Customers.PageInfo.EndCursor != p.Customers.Edges[n-1].Cursor) {
					t.Errorf("last %d: endCursor is not the last edge's cursor", last)
				}
			}
		})
	}
}

// A post-filtered page that stops at the scan bound says so; every page with
// edges ends on its last edge's cursor; hasPreviousPage is true only after
// a matching record; the walk ends and finds every match.
func TestPagesNeverMislead(t *testing.T) {
	t.Parallel()
	const q = `query($first: Int, $after: String, $filter: CustomerFilter) { customers(first: $first, after: $after, filter: $filter) {
		pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { provider providerId } } } }`
	type page struct {
		Customers struct {
			PageInfo struct {
				HasNextPage, HasPreviousPage bool
				EndCursor                    *string
			}
			Edges []struct {
				Cursor string
				Node   customerNode
			}
		}
	}
	for _, tc := range []struct {
		name   string
		filter map[string]any
	}{
		{"nothing matches at Digital River", map[string]any{"search": "zzzzqqq", "providers": []string{"DIGITAL_RIVER"}}},
		{"a few match at Digital River", map[string]any{"search": "son", "providers": []string{"DIGITAL_RIVER"}}},
		{"a few match across providers", map[string]any{"search": "berg"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // a gateway (and vendor quotas) per case
			m := startGateway(t)
			var after any
			var got []customerNode
			for i := 0; ; i++ {
				if i == 200 {
					t.Fatal("the walk did not end")
				}
				r := m.query(t, q, map[string]any{"first": 1, "after": after, "filter": tc.filter})
				p := mustData[page](t, r)
				c := p.Customers
				if c.PageInfo.HasPreviousPage != (len(got) > 0) {
					t.Fatalf("page %d: hasPreviousPage %v after %d matching records", i, c.PageInfo.HasPreviousPage, len(got))
				}
				for _, e := range c.Edges {
					got = append(got, e.Node)
				}
				if n := len(c.Edges); n > 0 && (c.PageInfo.EndCursor == nil || *c.PageInfo.EndCursor != c.Edges[n-1].Cursor) {
					t.Fatalf("page %d: endCursor is not the last edge's cursor", i)
				}
				warned := strings.Contains(fmt.Sprint(r.Extensions["warnings"]), "upstream pages")
				if len(c.Edges) == 0 && c.PageInfo.HasNextPage && !warned {
					t.Fatalf("page %d: no edges and hasNextPage true with no warning saying why (%v)", i, r.Extensions["warnings"])
				}
				if !c.PageInfo.HasNextPage {
					break
				}
				after = *c.PageInfo.EndCursor
			}
			want := keys(m.walk(t, 100, tc.filter))
			if strings.Join(keys(got), ",") != strings.Join(want, ",") {
				t.Errorf("walking by 1 found %v, by 100 %v", keys(got), want)
			}
		})
	}
}
