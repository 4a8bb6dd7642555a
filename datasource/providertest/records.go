package providertest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	ds "github.com/federated-customers/gateway/datasource"
)

// RecordCase is one list of items a vendor sent and what its client must
// answer: the error's text (Err), or none and then each mapped record's Raw
// is exactly the item as sent (Raws, in order). An Err ending in "*" is a
// prefix (the rest names Go types, which may change).
type RecordCase struct {
	Name  string
	Items string // the JSON put in the envelope where the records go
	Err   string
	Raws  []string
}

// RunRecordCases serves wrap(Items) as every 2xx answer of a fake vendor and
// checks what list (a client built for the fake's URL) makes of it: the
// same error text for each malformed record, the same bytes in Raw.
func RunRecordCases(t *testing.T, wrap func(items string) string, list func(t *testing.T, url string) ([]json.RawMessage, error), cases []RecordCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			body := wrap(tc.Items)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, body)
			}))
			t.Cleanup(srv.Close)
			raws, err := list(t, srv.URL)
			if tc.Err != "" || err != nil {
				got := fmt.Sprint(err)
				if want, prefix := strings.CutSuffix(tc.Err, "*"); got != tc.Err && !(prefix && strings.HasPrefix(got, want)) {
					t.Fatalf("error %q, want %q", got, tc.Err)
				}
				return
			}
			if len(raws) != len(tc.Raws) {
				t.Fatalf("%d records, want %d", len(raws), len(tc.Raws))
			}
			for i, raw := range raws {
				if string(raw) != tc.Raws[i] {
					t.Errorf("record %d: Raw %q, want %q", i, raw, tc.Raws[i])
				}
			}
		})
	}
}

// RunCustomerRecordCases is RunRecordCases for a customer provider: it lists
// one page (limit 10) with newClient's client for the fake's URL.
func RunCustomerRecordCases(t *testing.T, wrap func(items string) string, newClient func(url string) (ds.CustomerProvider, error), cases []RecordCase) {
	t.Helper()
	runPageRecordCases(t, wrap, newClient, func(c ds.CustomerProvider) (ds.Page[*ds.Customer], error) {
		return c.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Limit: 10})
	}, func(cu *ds.Customer) json.RawMessage { return cu.Raw }, cases)
}

// RunSourceRecordCases is RunRecordCases for a source provider: it lists
// one page (limit 10) with newClient's client for the fake's URL.
func RunSourceRecordCases(t *testing.T, wrap func(items string) string, newClient func(url string) (ds.SourceProvider, error), cases []RecordCase) {
	t.Helper()
	runPageRecordCases(t, wrap, newClient, func(c ds.SourceProvider) (ds.Page[*ds.CustomerSource], error) {
		return c.ListSources(context.Background(), ds.ListRequest[ds.SourceFilter]{Limit: 10})
	}, func(s *ds.CustomerSource) json.RawMessage { return s.Raw }, cases)
}

// runPageRecordCases is RunRecordCases over the page that list reads with
// newClient's client; raw is an item's Raw.
func runPageRecordCases[C, T any](t *testing.T, wrap func(items string) string, newClient func(url string) (C, error), list func(C) (ds.Page[T], error), raw func(T) json.RawMessage, cases []RecordCase) {
	t.Helper()
	RunRecordCases(t, wrap, func(t *testing.T, url string) ([]json.RawMessage, error) {
		c, err := newClient(url)
		if err != nil {
			t.Fatal(err)
		}
		p, err := list(c)
		var raws []json.RawMessage
		for _, it := range p.Items {
			raws = append(raws, raw(it))
		}
		return raws, err
	}, cases)
}
