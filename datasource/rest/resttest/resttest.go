// Package resttest is the vendor packages' shared test kit: a simulator on
// a test server with a client built from its configuration, raw calls
// straight to a simulator, config-validation tables, concurrent callers,
// and the bench and malformed-record harnesses of providertest typed for a
// vendor's own New. It knows no vendor: each test passes its dialect.
package resttest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/providertest"
	"github.com/federated-customers/gateway/datasource/rest"
	"github.com/federated-customers/gateway/datasource/simkit"
)

// Simulator is a vendor simulator that hands out the client configuration
// for the URL it is served at.
type Simulator[C any] interface {
	http.Handler
	ClientConfig(baseURL string) C
}

// Serve starts h on a test server, closed (with its connections) at cleanup.
func Serve(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv
}

// Start serves h (a simulator) and builds a client from the configuration
// cfg gives for its URL; bad, when not nil, spoils the configuration first
// (the conformance suite's BadCredentials).
func Start[C, P any](t testing.TB, h http.Handler, cfg func(baseURL string) C, bad func(*C), newClient func(C, *http.Client) (P, error)) (P, *httptest.Server) {
	t.Helper()
	srv := Serve(t, h)
	c := cfg(srv.URL)
	if bad != nil {
		bad(&c)
	}
	p, err := newClient(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p, srv
}

// Spoil is bad when o asks for bad credentials, else nil (for Start).
func Spoil[C any](o providertest.Options, bad func(*C)) func(*C) {
	if o.BadCredentials {
		return bad
	}
	return nil
}

// Kitted is a Simulator with the simkit kit that counts its calls.
type Kitted[C any] interface {
	Simulator[C]
	Kit() *simkit.Kit
}

// ConformanceStart is the Start of a providertest.Harness for a vendor
// whose simulator newSim makes: its client from the simulator's
// configuration, spoiled by bad when the suite asks for bad credentials.
func ConformanceStart[C any, S Kitted[C], P ds.CustomerProvider](newSim func([]demo.Person) S, bad func(*C), newClient func(C, *http.Client) (P, error)) func(*testing.T, []demo.Person, providertest.Options) (ds.CustomerProvider, *simkit.Kit) {
	return func(t *testing.T, people []demo.Person, o providertest.Options) (ds.CustomerProvider, *simkit.Kit) {
		s := newSim(people)
		c, _ := Start(t, s, s.ClientConfig, Spoil(o, bad), newClient)
		return c, s.Kit()
	}
}

// Fixture is a simulator serving the shared test people behind a test
// server, and a client for it with valid credentials.
type Fixture[S, P any] struct {
	Sim    S
	Srv    *httptest.Server
	Client P
	People []demo.Person
}

// NewFixture starts a Fixture whose client has the configuration cfg gives
// for the server's URL (e.g. (*sim.Sim).ClientConfig); wrap, when not nil,
// stands between the server and the simulator (to observe or alter traffic).
func NewFixture[S http.Handler, C, P any](t testing.TB, newSim func([]demo.Person) S, cfg func(s S, baseURL string) C, wrap func(http.Handler) http.Handler, newClient func(C, *http.Client) (P, error)) *Fixture[S, P] {
	t.Helper()
	people := providertest.People()
	s := newSim(people)
	var h http.Handler = s
	if wrap != nil {
		h = wrap(s)
	}
	c, srv := Start(t, h, func(u string) C { return cfg(s, u) }, nil, newClient)
	return &Fixture[S, P]{Sim: s, Srv: srv, Client: c, People: people}
}

// At is the people that p holds, in the order of People (p's native order).
func (f *Fixture[S, P]) At(p ds.ProviderID) []demo.Person {
	var out []demo.Person
	for _, person := range f.People {
		if person.At(p) {
			out = append(out, person)
		}
	}
	return out
}

// Response is a raw answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Call sends one request straight to a server (a simulator, bypassing the
// client) with the headers hdr, set as given (an empty value too), and
// reads the whole answer.
func Call(t testing.TB, method, url string, hdr map[string]string, body string) Response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Headers is base with over laid on top (a new map; over's "" removes).
func Headers(base, over map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// Object is the body as a JSON object; nil for an empty body. A body that
// is not one fails the test.
func (r Response) Object(t testing.TB) map[string]any {
	t.Helper()
	if len(r.Body) == 0 {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %q", r.Body)
	}
	return m
}

// IDs is the string key of every object in the array b[list].
func IDs(b map[string]any, list, key string) []string {
	var out []string
	items, _ := b[list].([]any)
	for _, it := range items {
		m, _ := it.(map[string]any)
		id, _ := m[key].(string)
		out = append(out, id)
	}
	return out
}

// ConfigCase is a configuration and the error it must give.
type ConfigCase[C any] struct {
	Name string
	Cfg  C
	// Want is "" for a valid configuration; else a part of the error. A
	// Want that starts with the vendor's prefix is the error's start.
	Want string
}

// CheckConfigs runs each case through validate and newClient: a valid
// configuration builds; an invalid one fails both, with an error that
// starts with prefix ("kintsugi: ") and holds Want.
func CheckConfigs[C, P any](t *testing.T, prefix string, validate func(C) error, newClient func(C, *http.Client) (P, error), cases []ConfigCase[C]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			err := validate(tc.Cfg)
			if tc.Want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if _, err := newClient(tc.Cfg, nil); err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tc.Want) ||
				(strings.HasPrefix(tc.Want, prefix) && !strings.HasPrefix(err.Error(), tc.Want)) {
				t.Fatalf("error = %v, want one naming %q", err, tc.Want)
			}
			if _, err := newClient(tc.Cfg, nil); err == nil {
				t.Fatal("New accepted an invalid config")
			}
		})
	}
}

// Concurrently runs call n times at once and fails the test on any error.
func Concurrently(t testing.TB, n int, call func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- call(i)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// BenchList is providertest.BenchListCustomers for a vendor's own New over
// its simulator's configuration.
func BenchList[C any, P ds.CustomerProvider](b *testing.B, s Simulator[C], size int, suffix string, newClient func(C, *http.Client) (P, error), decode func(body []byte) (int, error)) {
	b.Helper()
	providertest.BenchListCustomers(b, s, size, suffix, func(url string, hc *http.Client) (ds.CustomerProvider, error) {
		return newClient(s.ClientConfig(url), hc)
	}, decode)
}

// RecordCases is providertest.RunCustomerRecordCases for a vendor's own New
// over a configuration for the fake server's URL; envelope is the list body
// with ITEMS where the records go.
func RecordCases[C any, P ds.CustomerProvider](t *testing.T, envelope string, cfg func(url string) C, newClient func(C, *http.Client) (P, error), cases []providertest.RecordCase) {
	t.Helper()
	wrap := func(items string) string { return strings.Replace(envelope, "ITEMS", items, 1) }
	providertest.RunCustomerRecordCases(t, wrap, func(url string) (ds.CustomerProvider, error) {
		return newClient(cfg(url), nil)
	}, cases)
}

// Ptr is &v, for optional fields in literals.
func Ptr[T any](v T) *T { return &v }

// Deref is *s, or "<nil>" for a nil s (for messages).
func Deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// RefusesIDs checks that updating or deleting an id the vendor cannot hold
// is the caller's bad input, answered without a call (calls counts the
// simulator's calls since its reset).
func RefusesIDs(t *testing.T, w ds.CustomerWriter, calls func() int, bad []string) {
	t.Helper()
	ctx := context.Background()
	before := calls()
	for _, id := range bad {
		if err := w.DeleteCustomer(ctx, id); ds.ErrorCode(err) != ds.CodeBadUserInput {
			t.Errorf("delete %q: %v", id, err)
		}
		if _, err := w.UpdateCustomer(ctx, id, ds.CustomerInput{}); ds.ErrorCode(err) != ds.CodeBadUserInput {
			t.Errorf("update %q: %v", id, err)
		}
	}
	if n := calls() - before; n != 0 {
		t.Errorf("%d calls for impossible ids", n)
	}
}

// ListCalls lists req with p and returns the page with the calls the
// simulator counted (kit is reset first); an error fails the test.
func ListCalls(t *testing.T, p ds.CustomerProvider, kit *simkit.Kit, req ds.ListRequest[ds.Filter]) (ds.Page[*ds.Customer], []simkit.Call) {
	t.Helper()
	kit.Reset()
	page, err := p.ListCustomers(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return page, kit.Calls()
}

// RefusesTokens checks that each page token the client cannot have issued
// is the caller's bad input, answered without a call (kit counts the
// simulator's calls).
func RefusesTokens(t *testing.T, p ds.CustomerProvider, kit *simkit.Kit, bad []string) {
	t.Helper()
	for _, tok := range bad {
		kit.Reset()
		_, err := p.ListCustomers(context.Background(), ds.ListRequest[ds.Filter]{Token: tok, Limit: 5})
		if ds.ErrorCode(err) != ds.CodeBadUserInput {
			t.Errorf("token %q: %v, want BAD_USER_INPUT", tok, err)
		}
		if n := kit.Count(); n != 0 {
			t.Errorf("token %q: %d upstream calls, want none", tok, n)
		}
	}
}

// DecodePage is what a vendor's list does with a page body once rest.Client
// has read it: decode the envelope E, map every record of items. It returns
// the count (for a vendor's export_test DecodePage, the bench's decode).
func DecodePage[E, T, U any](body []byte, items func(*E) []rest.Record[T], mapRecord func(*rest.Record[T]) (U, error)) (int, error) {
	var env E
	if err := json.Unmarshal(body, &env); err != nil {
		return 0, err
	}
	out, err := rest.MapAll(items(&env), mapRecord)
	return len(out), err
}
