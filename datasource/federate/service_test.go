package federate

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"testing"

	ds "github.com/federated-customers/gateway/datasource"
)

// memProvider is an in-memory provider with offset tokens.
type memProvider struct {
	id       ds.ProviderID
	items    []*ds.Customer
	page     int
	noFilter bool // CanFilter refuses country, like a vendor without addresses
	canOrder bool
	calls    int
}

func (m *memProvider) ID() ds.ProviderID { return m.id }
func (m *memProvider) ListCustomers(ctx context.Context, req ds.ListRequest[ds.Filter]) (ds.Page[*ds.Customer], error) {
	m.calls++
	off, _ := strconv.Atoi(req.Token)
	end := min(off+min(req.Limit, m.page), len(m.items))
	p := ds.Page[*ds.Customer]{Items: m.items[off:end]}
	if end < len(m.items) {
		p.Next = strconv.Itoa(end)
	}
	if req.Filter.Email == nil && req.Filter.Search == nil && len(req.Filter.Country) == 0 {
		n := len(m.items)
		p.Total = &n
	}
	return p, nil
}
func (m *memProvider) GetCustomers(ctx context.Context, ids []string) ([]*ds.Customer, error) {
	m.calls++
	var out []*ds.Customer
	for _, c := range m.items {
		for _, id := range ids {
			if c.ProviderID == id {
				out = append(out, c)
			}
		}
	}
	return out, nil
}
func (m *memProvider) Capabilities() ds.Capabilities {
	c := ds.Capabilities{Provider: m.id, PageLimit: m.page, LookupBatch: 10, LoaderCap: 10, NoSort: "cannot order"}
	if m.noFilter {
		c.NoCountry = "no addresses"
	}
	if m.canOrder {
		c.Sort = map[ds.OrderField]string{ds.OrderCreatedAt: "", ds.OrderUpdatedAt: "", ds.OrderEmail: "", ds.OrderName: ""}
	}
	return c
}

func mem(p ds.ProviderID, n int) *memProvider {
	m := &memProvider{id: p, page: 4}
	for i := 0; i < n; i++ {
		email := "p" + strconv.Itoa(i) + "@example.com"
		country := "SE"
		m.items = append(m.items, &ds.Customer{Provider: p, ProviderID: strconv.Itoa(i), Email: &email, Address: &ds.Address{Country: &country}})
	}
	return m
}

func testService(provs ...*memProvider) *Service {
	s := &Service{Customers: map[ds.ProviderID]ds.CustomerProvider{}, Cursors: CursorCodec{Key: []byte("t")}}
	for _, p := range provs {
		s.Customers[p.id] = p
	}
	return s
}

func TestFilterByIDsKeepsTheClientsOrderWithinEachProvider(t *testing.T) {
	k, d := mem(ds.Kintsugi, 30), mem(ds.DigitalRiver, 30)
	s := testService(k, d)
	f := ds.Filter{IDs: []ds.CustomerKey{{Provider: ds.DigitalRiver, ProviderID: "7"}, {Provider: ds.Kintsugi, ProviderID: "20"}, {Provider: ds.DigitalRiver, ProviderID: "3"}, {Provider: ds.Kintsugi, ProviderID: "missing"}, {Provider: ds.Kintsugi, ProviderID: "1"}}}
	conn, err := s.ListCustomers(context.Background(), ConnectionArgs{}, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range conn.Nodes() {
		got = append(got, n.Provider.String()+"/"+n.ProviderID)
	}
	want := "KINTSUGI/20 KINTSUGI/1 DIGITAL_RIVER/7 DIGITAL_RIVER/3"
	if join(got) != want {
		t.Fatalf("got %s, want %s", join(got), want)
	}
	total, _ := conn.TotalCount(context.Background())
	if total == nil || *total != 4 {
		t.Fatalf("totalCount %v, want 4", total)
	}
}

func join(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += " "
		}
		out += v
	}
	return out
}

func TestAProviderThatCannotFilterIsLeftOutWithAWarning(t *testing.T) {
	k, c := mem(ds.Kintsugi, 5), mem(ds.CommerceLayer, 5)
	c.noFilter = true
	s := testService(k, c)
	ctx, rep := ds.WithReport(context.Background())
	conn, err := s.ListCustomers(ctx, ConnectionArgs{}, ds.Filter{Country: []string{"se"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(conn.Edges) != 5 || c.calls != 0 {
		t.Fatalf("edges %d, commerce layer calls %d", len(conn.Edges), c.calls)
	}
	_, warnings := rep.Snapshot()
	if len(warnings) != 1 || warnings[0].Provider == nil || *warnings[0].Provider != ds.CommerceLayer {
		t.Fatalf("warnings %+v", warnings)
	}
}

func TestOrderByNamesTheProviderThatCannotSort(t *testing.T) {
	k, c := mem(ds.Kintsugi, 5), mem(ds.CommerceLayer, 5)
	c.canOrder = true
	s := testService(k, c)
	o := &ds.Order{Field: ds.OrderEmail}
	_, err := s.ListCustomers(context.Background(), ConnectionArgs{}, ds.Filter{}, o)
	if p, ok := ds.ErrorProvider(err); ds.ErrorCode(err) != ds.CodeUnsupportedByProvider || !ok || p != ds.Kintsugi {
		t.Fatalf("err = %v", err)
	}
	if _, err := s.ListCustomers(context.Background(), ConnectionArgs{Last: ptrInt(5)}, ds.Filter{}, nil); ds.ErrorCode(err) != ds.CodeUnsupportedByProvider {
		t.Fatalf("last: %v", err)
	}
	if k.calls+c.calls != 0 {
		t.Fatalf("refused requests reached providers: %d calls", k.calls+c.calls)
	}
	conn, err := s.ListCustomers(context.Background(), ConnectionArgs{}, ds.Filter{Providers: []ds.ProviderID{ds.CommerceLayer}}, o)
	if err != nil || len(conn.Edges) != 5 {
		t.Fatalf("one sortable provider: %v", err)
	}
}

func ptrInt(n int) *int { return &n }

func TestARestrictedServiceForbidsOtherProviders(t *testing.T) {
	k, d := mem(ds.Kintsugi, 5), mem(ds.DigitalRiver, 5)
	s := testService(k, d).Restrict([]ds.ProviderID{ds.Kintsugi})
	conn, err := s.ListCustomers(context.Background(), ConnectionArgs{}, ds.Filter{}, nil)
	if err != nil || len(conn.Edges) != 5 {
		t.Fatalf("default selection: %v", err)
	}
	_, err = s.ListCustomers(context.Background(), ConnectionArgs{}, ds.Filter{Providers: []ds.ProviderID{ds.DigitalRiver}}, nil)
	if ds.ErrorCode(err) != ds.CodeForbidden {
		t.Fatalf("asking for a denied provider: %v", err)
	}
	if err := s.Unavailable(ds.DigitalRiver); ds.ErrorCode(err) != ds.CodeForbidden {
		t.Fatalf("Unavailable: %v", err)
	}
	if d.calls != 0 {
		t.Fatal("a denied provider was called")
	}
}

func TestNormalizeFilterRejectsBadInput(t *testing.T) {
	long := string(make([]byte, 300))
	for name, f := range map[string]ds.Filter{
		"email without @":  {Email: ptrStr("x")},
		"empty email":      {Email: ptrStr(" ")},
		"long search":      {Search: &long},
		"3-letter country": {Country: []string{"SWE"}},
		"digit country":    {Country: []string{"S1"}},
		"empty country":    {Country: []string{}},
		"bad provider":     {Providers: []ds.ProviderID{9}},
	} {
		if _, err := NormalizeFilter(f); ds.ErrorCode(err) != ds.CodeBadUserInput {
			t.Errorf("%s: %v", name, err)
		}
	}
	f, err := NormalizeFilter(ds.Filter{Email: ptrStr(" A@B.com "), Country: []string{"se", "CZ", "SE"}, Providers: []ds.ProviderID{ds.Telness, ds.Kintsugi, ds.Telness}})
	if err != nil || *f.Email != "a@b.com" || join(f.Country) != "CZ SE" || len(f.Providers) != 2 || f.Providers[0] != ds.Kintsugi {
		t.Fatalf("normalized %+v, %v", f, err)
	}
}

func ptrStr(s string) *string { return &s }

func TestOrderByMergesProvidersThatSortNatively(t *testing.T) {
	sorted := func(p ds.ProviderID, parity int) *memProvider {
		m := &memProvider{id: p, page: 4, canOrder: true}
		for i := parity; i < 30; i += 2 {
			email := fmt.Sprintf("u%02d@example.com", i)
			m.items = append(m.items, &ds.Customer{Provider: p, ProviderID: strconv.Itoa(i), Email: &email})
		}
		return m
	}
	s := testService(sorted(ds.Kintsugi, 0), sorted(ds.CommerceLayer, 1))
	o := &ds.Order{Field: ds.OrderEmail}
	var got []string
	var after *string
	for i := 0; i < 50; i++ {
		conn, err := s.ListCustomers(context.Background(), ConnectionArgs{First: ptrInt(7), After: after}, ds.Filter{}, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range conn.Edges {
			got = append(got, *e.Node.Email)
		}
		if !conn.PageInfo.HasNextPage {
			break
		}
		after = conn.PageInfo.EndCursor
	}
	if len(got) != 30 || !sort.StringsAreSorted(got) {
		t.Fatalf("merged walk: %d records %v, want 30 in email order", len(got), got)
	}
	for i := 1; i < len(got); i++ {
		if got[i] == got[i-1] {
			t.Fatalf("%s returned twice", got[i])
		}
	}
	// a cursor of the merged list is not one of the unordered list
	conn, _ := s.ListCustomers(context.Background(), ConnectionArgs{First: ptrInt(2)}, ds.Filter{}, o)
	if _, err := s.ListCustomers(context.Background(), ConnectionArgs{After: conn.PageInfo.EndCursor}, ds.Filter{}, nil); ds.ErrorCode(err) != ds.CodeBadUserInput {
		t.Fatalf("merged cursor on the unordered list: %v", err)
	}
}

// filter.ids with orderBy pages through the ids in that order, and each page
// looks its provider's ids up once (memProvider batches 10 ids per call).
func TestFilterByIDsWithOrderByLooksUpOncePerPage(t *testing.T) {
	k := mem(ds.Kintsugi, 30)
	k.canOrder = true
	s := testService(k)
	var f ds.Filter
	for _, id := range []string{"7", "20", "3", "missing", "1", "12"} {
		f.IDs = append(f.IDs, ds.CustomerKey{Provider: ds.Kintsugi, ProviderID: id})
	}
	o := &ds.Order{Field: ds.OrderEmail, Descending: true}
	var got []string
	var after *string
	for page := 0; ; page++ {
		k.calls = 0
		two := 2
		conn, err := s.ListCustomers(context.Background(), ConnectionArgs{First: &two, After: after}, f, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range conn.Nodes() {
			got = append(got, *n.Email)
		}
		if k.calls != 1 {
			t.Errorf("page %d: %d lookups, want 1", page, k.calls)
		}
		if !conn.PageInfo.HasNextPage {
			break
		}
		after = conn.PageInfo.EndCursor
	}
	want := "p7@example.com p3@example.com p20@example.com p1@example.com p12@example.com" // "p1@" sorts after "p12": "@" > "2"
	if join(got) != want {
		t.Fatalf("got %s, want %s", join(got), want)
	}
}

// An email-filtered walk reads the vendor's largest pages (up to 100), not
// first+1 records per call: an email far down a list the vendor cannot
// filter is found, and the walk ends, in a few calls rather than 25 calls
// that reach 50 records.
func TestAnEmailFilteredWalkReadsWholeVendorPages(t *testing.T) {
	k := mem(ds.Kintsugi, 230)
	k.page = 100
	s := testService(k)
	email := "P217@example.com"
	one := 1
	conn, err := s.ListCustomers(context.Background(), ConnectionArgs{First: &one}, ds.Filter{Email: &email}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(conn.Edges) != 1 || conn.PageInfo.HasNextPage {
		t.Fatalf("%d edges, hasNextPage %v; want the one match and the end of the list", len(conn.Edges), conn.PageInfo.HasNextPage)
	}
	if k.calls != 3 {
		t.Errorf("%d calls, want 3 (pages of 100 over 230 records)", k.calls)
	}
}
