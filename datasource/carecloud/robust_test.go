package carecloud_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/carecloud"
	"github.com/federated-customers/gateway/datasource/carecloud/sim"
	"github.com/federated-customers/gateway/datasource/providertest"
	"github.com/federated-customers/gateway/datasource/rest/resttest"
	"github.com/federated-customers/gateway/datasource/simkit"
)

// fakeVendor is CareCloud as someone else might implement it from the docs:
// fixed answers under the documented base path, in the documented envelopes.
type fakeVendor struct {
	records string // the customer_source_records array
	total   string // total_items as sent ("" = not sent)
	sources string // the customer_sources array ("" = one Kintsugi source s1)
	// status and body, when set, answer every record list instead
	status int
	body   string
}

const fakeSources = `[{"customer_source_id":"s1","name":"Kintsugi EU","customer_source_text_id":"kintsugi","state":1,"last_change":"2019-01-08 18:34:07"}]`

func serveFake(t *testing.T, f fakeVendor) (*httptest.Server, carecloud.Config) {
	t.Helper()
	if f.sources == "" {
		f.sources = fakeSources
	}
	srv := resttest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		switch path := strings.TrimPrefix(r.URL.Path, sim.BasePath); {
		case path == "/customer-sources":
			_, _ = io.WriteString(w, `{"data":{"customer_sources":`+f.sources+`}}`)
		case strings.HasSuffix(path, "/customer-source-records") && f.status != 0:
			w.WriteHeader(f.status)
			_, _ = io.WriteString(w, f.body)
		case strings.HasSuffix(path, "/customer-source-records"):
			total := ""
			if f.total != "" {
				total = `,"total_items":` + f.total
			}
			_, _ = io.WriteString(w, `{"data":{"customer_source_records":`+f.records+total+`}}`)
		default:
			http.NotFound(w, r)
		}
	}))
	return srv, carecloud.Config{BaseURL: srv.URL + sim.BasePath, BearerToken: "t", Timezone: "Europe/Prague"}
}

const oneRecord = `[{"customer_source_record_id":"r1","customer_source_id":"s1","customer_id":"c1","external_id":"K-1","last_change":"2019-06-23 11:47:22"}]`

func TestAnswersOutsideTheDocumentedTypesAreReadLiberally(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fake  fakeVendor
		check func(t *testing.T, p ds.Page[*ds.CustomerSource])
	}{
		{"an external_id sent as a number, as in the spec's own example, is its text",
			fakeVendor{records: `[{"customer_source_record_id":"r1","customer_source_id":"s1","customer_id":"c1","external_id":6}]`, total: "1"},
			func(t *testing.T, p ds.Page[*ds.CustomerSource]) {
				t.Helper()
				s := p.Items[0]
				if !slices.Equal(s.ExternalIDs, []string{"6"}) || s.Target == nil || *s.Target != (ds.CustomerKey{Provider: ds.Kintsugi, ProviderID: "6"}) {
					t.Errorf("external ids %v, target %+v", s.ExternalIDs, s.Target)
				}
				if string(s.Raw) != `{"customer_source_record_id":"r1","customer_source_id":"s1","customer_id":"c1","external_id":6}` {
					t.Errorf("raw %s", s.Raw)
				}
			}},
		{"a total_items sent as a string is the total", fakeVendor{records: oneRecord, total: `"1"`}, wantTotal(1)},
		{"a total_items sent as 1.0 is the total", fakeVendor{records: oneRecord, total: `1.0`}, wantTotal(1)},
		{"an unreadable total_items is no total, not a failed page", fakeVendor{records: oneRecord, total: `"many"`}, wantTotal(-1)},
		{"a null total_items is no total", fakeVendor{records: oneRecord, total: `null`}, wantTotal(-1)},
		{"a catalogue state sent as a string does not fail the records",
			fakeVendor{records: oneRecord, total: "1", sources: `[{"customer_source_id":"s1","name":"Kintsugi EU","customer_source_text_id":"kintsugi","state":"1","last_change":null}]`},
			func(t *testing.T, p ds.Page[*ds.CustomerSource]) {
				t.Helper()
				if s := p.Items[0]; s.SourceName == nil || *s.SourceName != "Kintsugi EU" || s.Target == nil {
					t.Errorf("source %+v", s)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, cfg := serveFake(t, tc.fake)
			c := newClient(t, cfg, srv)
			page, err := c.ListSources(context.Background(), ds.ListRequest[ds.SourceFilter]{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) != 1 || page.Next != "" {
				t.Fatalf("%d items, next %q", len(page.Items), page.Next)
			}
			tc.check(t, page)
		})
	}
}

// wantTotal checks Page.Total: n, or absent for n < 0.
func wantTotal(n int) func(*testing.T, ds.Page[*ds.CustomerSource]) {
	return func(t *testing.T, p ds.Page[*ds.CustomerSource]) {
		t.Helper()
		if (n < 0) != (p.Total == nil) || (p.Total != nil && *p.Total != n) {
			t.Errorf("total %v, want %d (-1: none)", p.Total, n)
		}
	}
}

func TestTimesAreReadInTheDocumentedFormAndInISO8601(t *testing.T) {
	for _, tc := range []struct {
		name, sent string
		want       string // RFC 3339 UTC; "" = unreadable
	}{
		{"documented form, project-local (Prague, summer)", "2019-06-23 11:47:22", "2019-06-23T09:47:22Z"},
		{"fractional seconds", "2019-06-23 11:47:22.5", "2019-06-23T09:47:22.5Z"},
		{"ISO 8601 T form without a zone is project-local", "2019-06-23T11:47:22", "2019-06-23T09:47:22Z"},
		{"RFC 3339 in UTC", "2019-06-23T11:47:22Z", "2019-06-23T11:47:22Z"},
		{"an explicit offset wins over the project's zone", "2019-06-23T11:47:22+01:00", "2019-06-23T10:47:22Z"},
		{"the documented form with an offset", "2019-06-23 11:47:22+01:00", "2019-06-23T10:47:22Z"},
		{"a date only is not a time", "2019-06-23", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, cfg := serveFake(t, fakeVendor{total: "1",
				records: `[{"customer_source_record_id":"r1","customer_source_id":"s1","customer_id":"c1","external_id":"K-1","last_change":"` + tc.sent + `"}]`})
			c := newClient(t, cfg, srv)
			page := list(t, c, ds.ListRequest[ds.SourceFilter]{Limit: 10})
			got, ok := c.LastChange(page.Items[0])
			if tc.want == "" {
				if ok {
					t.Errorf("read %q as %v", tc.sent, got)
				}
				return
			}
			want, _ := time.Parse(time.RFC3339Nano, tc.want)
			if !ok || !got.Equal(want) || got.Location() != time.UTC {
				t.Errorf("%q read as %v (%v), want %v", tc.sent, got, ok, want)
			}
		})
	}
}

func TestAFilterNamingAnIDCareCloudDoesNotHaveMatchesNothing(t *testing.T) {
	notFound := func(name string) string {
		return `{"error":{"type":"about:blank","exception":"bad_request_exception","title":"Bad Request","detail":"Invalid parameters.",` +
			`"error_data":{"invalid_params":[{"name":"` + name + `","reason":"not_found","value":"x"}]}}}`
	}
	zero := func(t *testing.T, page ds.Page[*ds.CustomerSource], err error) {
		t.Helper()
		if err != nil || len(page.Items) != 0 || page.Next != "" || page.Total == nil || *page.Total != 0 {
			t.Errorf("page %+v, err %v; want an empty page with total 0", page, err)
		}
	}
	s := sim.New(providertest.People())
	simSrv := resttest.Serve(t, s)
	simClient := newClient(t, s.ClientConfig(simSrv.URL), simSrv)
	list(t, simClient, ds.ListRequest[ds.SourceFilter]{Limit: 1}) // warm the catalogue

	for _, tc := range []struct {
		name string
		f    ds.SourceFilter
	}{
		{"an unknown customer (the simulator answers 400 not_found)", ds.SourceFilter{CustomerID: ptr("00000000000000000000000000")}},
		{"an unknown source (the simulator answers 400 not_found)", ds.SourceFilter{SourceID: ptr("00000000000000000000000000")}},
		{"an unknown customer with external ids", ds.SourceFilter{CustomerID: ptr("nope"), ExternalIDs: []string{"A"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := providertest.CaptureLog(t)
			page, err := simClient.ListSources(context.Background(), ds.ListRequest[ds.SourceFilter]{Limit: 5, Filter: tc.f})
			zero(t, page, err)
			if strings.Contains(logs.String(), "WARN") {
				t.Errorf("a caller's unknown id logged a gateway bug: %s", logs)
			}
		})
	}

	t.Run("another 400 on a filtered list judges the caller's input", func(t *testing.T) {
		s.Kit().Inject(simkit.Fault{Status: http.StatusBadRequest, Message: "Input should be sane"})
		cc := providertest.People()
		var known string
		for _, p := range cc {
			if p.At(ds.CareCloud) {
				known = p.IDs[ds.CareCloud]
				break
			}
		}
		_, err := simClient.ListSources(context.Background(), ds.ListRequest[ds.SourceFilter]{Limit: 5, Filter: ds.SourceFilter{CustomerID: &known}})
		if ds.ErrorCode(err) != ds.CodeBadUserInput || !strings.Contains(err.Error(), "Input should be sane") {
			t.Errorf("err %v, want BAD_USER_INPUT with the vendor's message", err)
		}
	})

	for _, tc := range []struct {
		name, param string
		f           ds.SourceFilter
	}{
		{"a vendor answering 400 customer_id not_found", "customer_id", ds.SourceFilter{CustomerID: ptr("x")}},
		{"a vendor answering 400 customer_source_id not_found", "customer_source_id", ds.SourceFilter{SourceID: ptr("x")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, cfg := serveFake(t, fakeVendor{status: http.StatusBadRequest, body: notFound(tc.param)})
			c := newClient(t, cfg, srv)
			page, err := c.ListSources(context.Background(), ds.ListRequest[ds.SourceFilter]{Limit: 5, Filter: tc.f})
			zero(t, page, err)
		})
	}

	t.Run("one customer's list answered 400 customer_id not_found has no records", func(t *testing.T) {
		srv, cfg := serveFake(t, fakeVendor{status: http.StatusBadRequest, body: notFound("customer_id")})
		c := newClient(t, cfg, srv)
		got, err := c.SourcesByCustomers(context.Background(), []string{"x"})
		if err != nil || len(got) != 0 {
			t.Errorf("%d records, err %v", len(got), err)
		}
	})

	t.Run("a 400 about another parameter is still an error", func(t *testing.T) {
		srv, cfg := serveFake(t, fakeVendor{status: http.StatusBadRequest, body: notFound("external_ids")})
		c := newClient(t, cfg, srv)
		if _, err := c.ListSources(context.Background(), ds.ListRequest[ds.SourceFilter]{Limit: 5, Filter: ds.SourceFilter{CustomerID: ptr("x")}}); err == nil {
			t.Error("no error")
		}
		if _, err := c.SourcesByCustomers(context.Background(), []string{"x"}); ds.ErrorCode(err) != ds.CodeInternal {
			t.Errorf("err %v, want INTERNAL", err)
		}
	})
}

// The docs define no default order, so every list the client pages through by
// offset names one: the resource's id, ascending.
func TestEveryListAsksForAnExplicitOrder(t *testing.T) {
	people := providertest.People()
	s := sim.New(people)
	srv := resttest.Serve(t, s)
	c := newClient(t, s.ClientConfig(srv.URL), srv)
	var cc string
	for _, p := range people {
		if p.At(ds.CareCloud) {
			cc = p.IDs[ds.CareCloud]
			break
		}
	}
	if _, err := c.ListSources(context.Background(), ds.ListRequest[ds.SourceFilter]{Limit: 5}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SourcesByCustomers(context.Background(), []string{cc}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SourcesByExternalIDs(context.Background(), []string{"x"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"/customer-sources":                             "customer_source_id",
		"/customer-source-records":                      "customer_source_record_id",
		"/customers/" + cc + "/customer-source-records": "customer_source_record_id",
	}
	seen := map[string]bool{}
	for _, call := range s.Kit().Calls() {
		path := strings.TrimPrefix(call.Path, sim.BasePath)
		field, ok := want[path]
		if !ok {
			t.Errorf("unexpected call %s", path)
			continue
		}
		seen[path] = true
		q, _ := url.ParseQuery(call.Query)
		if q.Get("sort_field") != field || q.Get("sort_direction") != "ASC" {
			t.Errorf("%s?%s: want sort_field=%s&sort_direction=ASC", path, call.Query, field)
		}
	}
	if len(seen) != len(want) {
		t.Errorf("calls to %v, want all of %v", seen, want)
	}
}
