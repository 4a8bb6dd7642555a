package main

import (
	"slices"
	"sort"
	"strings"
	"testing"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/postgres/pgtest"
)

type personNode struct {
	ID          string
	RecordCount int
	Providers   []string
	Emails      []string
	Names       []string
	Records     []struct {
		Provider, ProviderID string
		Name, Email          *string
	}
}

func (p personNode) keys() []string {
	var out []string
	for _, r := range p.Records {
		out = append(out, r.Provider+"/"+r.ProviderID)
	}
	sort.Strings(out)
	return out
}

type peoplePage struct {
	People struct {
		TotalCount *int
		PageInfo   struct {
			HasNextPage bool
			EndCursor   *string
		}
		Nodes []personNode
	}
}

const peopleQuery = `query($first: Int, $after: String, $filter: CustomerFilter) {
  people(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id recordCount providers emails names records { provider providerId name email } }
  }
}`

// walkPeople pages through people and returns them with the first page's totalCount.
func (m *testGateway) walkPeople(t *testing.T, first int, filter map[string]any) ([]personNode, int) {
	t.Helper()
	var out []personNode
	total := -1
	var after any
	for i := 0; i < 1000; i++ {
		page := mustData[peoplePage](t, m.query(t, peopleQuery, map[string]any{"first": first, "after": after, "filter": filter}))
		if total < 0 && page.People.TotalCount != nil {
			total = *page.People.TotalCount
		}
		out = append(out, page.People.Nodes...)
		if !page.People.PageInfo.HasNextPage {
			return out, total
		}
		after = *page.People.PageInfo.EndCursor
	}
	t.Fatal("people walk did not end")
	return nil, 0
}

// trueGroups are the demo world's connected groups of links: every record
// with the records it links to, closed under linking.
func trueGroups(t *testing.T) map[string][]string {
	t.Helper()
	links := expectedLinks(demo.People(testPeople))
	parent := map[string]string{}
	var find func(string) string
	find = func(k string) string {
		if parent[k] == k {
			return k
		}
		parent[k] = find(parent[k])
		return parent[k]
	}
	for k := range links {
		parent[k] = k
	}
	for k, ls := range links {
		for o := range ls {
			if _, ok := parent[o]; ok {
				parent[find(o)] = find(k)
			}
		}
	}
	groups := map[string][]string{}
	for k := range links {
		r := find(k)
		groups[r] = append(groups[r], k)
	}
	for r := range groups {
		sort.Strings(groups[r])
	}
	return groups
}

func TestPeopleAreTheConnectedGroupsOfTheSimulatorsData(t *testing.T) {
	t.Parallel()
	m := startGateway(t, withPostgres(), withSimulated(nil), withSynced())
	groups := trueGroups(t)
	links := expectedLinks(demo.People(testPeople))
	people, total := m.walkPeople(t, 37, nil)
	if total != len(groups) || len(people) != len(groups) {
		t.Fatalf("%d people (totalCount %d), want %d connected groups", len(people), total, len(groups))
	}
	seen := map[string]string{}
	ids := map[string]bool{}
	for _, p := range people {
		if ids[p.ID] {
			t.Fatalf("person %s came twice", p.ID)
		}
		ids[p.ID] = true
		ks := p.keys()
		if p.RecordCount != len(ks) || len(ks) == 0 {
			t.Fatalf("person %s: recordCount %d, %d records", p.ID, p.RecordCount, len(ks))
		}
		for _, k := range ks {
			if other, ok := seen[k]; ok {
				t.Fatalf("%s belongs to %s and %s", k, other, p.ID)
			}
			seen[k] = p.ID
			// A person's records are exactly the record and its links.
			want := []string{k}
			for o := range links[k] {
				want = append(want, o)
			}
			sort.Strings(want)
			if !slices.Equal(ks, want) {
				t.Fatalf("person of %s has %v, want the record and its links %v", k, ks, want)
			}
		}
		var provs []string
		for _, r := range p.Records {
			if !slices.Contains(provs, r.Provider) {
				provs = append(provs, r.Provider)
			}
			if (r.Email != nil && !slices.Contains(p.Emails, *r.Email)) || (r.Name != nil && !slices.Contains(p.Names, *r.Name)) {
				t.Fatalf("person %s lacks %s's email or name: %+v", p.ID, r.ProviderID, p)
			}
		}
		if !slices.Equal(provs, p.Providers) {
			t.Fatalf("person %s providers %v, records at %v", p.ID, p.Providers, provs)
		}
	}
	if len(seen) != len(links) {
		t.Fatalf("%d records in people, want every one of %d", len(seen), len(links))
	}
	// node(id) finds a person again.
	byID := mustData[struct{ Node *personNode }](t, m.query(t, `query($id: ID!) { node(id: $id) { ... on Person { id recordCount records { provider providerId } } } }`,
		map[string]any{"id": people[3].ID}))
	if byID.Node == nil || byID.Node.ID != people[3].ID || !slices.Equal(byID.Node.keys(), people[3].keys()) {
		t.Fatalf("node(%s) = %+v, want %v", people[3].ID, byID.Node, people[3].keys())
	}
	// Customer.person names the same person, read in one batch.
	m.resetKits(t)
	page := mustData[struct {
		Customers struct {
			Nodes []struct {
				Provider, ProviderID string
				Person               *struct{ ID string }
			}
		}
	}](t, m.query(t, `{ customers(first: 100) { nodes { provider providerId person { id } } } }`, nil))
	for _, n := range page.Customers.Nodes {
		if n.Person == nil || n.Person.ID != seen[n.Provider+"/"+n.ProviderID] {
			t.Fatalf("%s/%s: person %+v, want %s", n.Provider, n.ProviderID, n.Person, seen[n.Provider+"/"+n.ProviderID])
		}
	}
	// Filtered: the distinct people with a matching record.
	want := map[string]bool{}
	for _, p := range people {
		for _, r := range p.Records {
			if (r.Name != nil && strings.Contains(ds.Fold(*r.Name), "an")) || (r.Email != nil && strings.Contains(ds.Fold(*r.Email), "an")) {
				want[p.ID] = true
			}
		}
	}
	got, total := m.walkPeople(t, 100, map[string]any{"search": "AN"})
	if total != len(want) || len(got) != len(want) {
		t.Fatalf("people matching \"AN\": %d (totalCount %d), want %d", len(got), total, len(want))
	}
	// Selected by a provider, a person still lists every record.
	atTelness := map[string]bool{}
	for _, p := range people {
		if slices.Contains(p.Providers, "TELNESS") {
			atTelness[p.ID] = true
		}
	}
	got, total = m.walkPeople(t, 100, map[string]any{"providers": []string{"TELNESS"}})
	if total != len(atTelness) || len(got) != len(atTelness) {
		t.Fatalf("people at Telness: %d (totalCount %d), want %d", len(got), total, len(atTelness))
	}
	for _, p := range got {
		if !atTelness[p.ID] || !slices.Equal(p.keys(), groups[find(groups, p.keys()[0])]) {
			t.Fatalf("person %s selected at Telness lists %v", p.ID, p.keys())
		}
	}
}

func TestPeopleWithoutASyncSayWhy(t *testing.T) {
	t.Parallel()
	r := startGateway(t).query(t, peopleQuery, map[string]any{"first": 5})
	if len(r.Errors) != 1 || r.codes()[0] != "UNSUPPORTED_BY_PROVIDER" || !strings.Contains(r.Errors[0].Message, "sync") {
		t.Fatalf("errors %+v", r.Errors)
	}
}

func TestPeopleKeepTheirGroupingWhenARegroupCannotBeWritten(t *testing.T) {
	t.Parallel()
	proxy, url := pgtest.NewProxy(t, pgtest.Schema(t))
	m := startGateway(t, withPostgres(url), withSimulated(nil), withSynced())
	_, before := m.walkPeople(t, 100, nil)
	proxy.Cut()
	if err := m.Syncer.SyncNow(t.Context(), ds.Telness); err != nil {
		t.Fatal(err)
	}
	m.restorePostgres(t, proxy)
	if _, after := m.walkPeople(t, 100, nil); after != before || after != len(trueGroups(t)) {
		t.Fatalf("%d people after a regroup that could not be written, %d before", after, before)
	}
}

// find is the group (by its key in groups) that holds record k.
func find(groups map[string][]string, k string) string {
	for r, ks := range groups {
		if slices.Contains(ks, k) {
			return r
		}
	}
	return ""
}
