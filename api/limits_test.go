package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/federate"
)

// fanout is a document of n fragments in which each spreads the next twice:
// 2^n fields once expanded, about 60 bytes per fragment as text.
func fanout(n int, leaf string) string {
	var b strings.Builder
	b.WriteString("{ ...F0 }\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Query { %s }\n", n, leaf)
	return b.String()
}

// nestedFanout does the same through a field: each fragment spreads the next
// twice inside linkedCustomers, so both depth and complexity grow.
func nestedFanout(n int) string {
	var b strings.Builder
	b.WriteString("{ customers(first: 1) { nodes { ...C0 } } }\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "fragment C%d on Customer { id ...C%d ...C%d }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment C%d on Customer { email }\n", n)
	return b.String()
}

// Fragments count once per spread, so what is under the limits runs; a
// fan-out over them is refused at once (quick: under 100ms), with a
// message that says which limit (msg).
func TestFragmentsCountOncePerSpreadAndFanOutsAreRefusedAtOnce(t *testing.T) {
	srv := emptyGateway(t)
	aliases := make([]string, 2100)
	for i := range aliases {
		aliases[i] = fmt.Sprintf("a%d: __typename", i)
	}
	const tooComplex, expanded = "QUERY_TOO_COMPLEX", "once its fragments are expanded"
	for _, tc := range []struct {
		name, query, code, msg string
		quick                  bool
	}{
		{"fan-out N=30", fanout(30, "providers { provider }"), tooComplex, expanded, true},
		{"fan-out N=60", fanout(60, "providers { provider }"), tooComplex, expanded, true},
		{"fan-out N=60 of __typename", fanout(60, "__typename"), tooComplex, expanded, true},
		{"fan-out N=60 inside a customer", nestedFanout(60), tooComplex, expanded, true},
		{"2100 aliases, no fragment", "{ " + strings.Join(aliases, " ") + " }", tooComplex, "2100 fields", true},
		// 2^9 = 512 expanded fields: under the cap of 2000, so it runs
		{"fan-out N=9 runs", fanout(9, "providers { provider }"), "", "", false},
		// 2^10 * 2 = 2048 fields: just over
		{"fan-out N=10 is refused", fanout(10, "providers { provider }"), tooComplex, "", false},
		{"one fragment spread in many places", `{ a: customers(first: 1) { nodes { ...C } } b: customers(first: 1) { nodes { ...C } } }
			fragment C on Customer { id email linkedCustomers { ...D } } fragment D on Customer { id }`, "", "", false},
		// L costs 85 and is spread 12 times: 1 + 100*(1 + 12*85) > 20000, with only 50 fields
		{"complexity counts every spread", `{ customers(first: 100) { nodes { ...L ...L ...L ...L ...L ...L ...L ...L ...L ...L ...L ...L } } }
			fragment L on Customer { linkedCustomers { linkedCustomers { linkedCustomers { id } } } }`, tooComplex, "", false},
		{"deep through fragments", `{ customers { nodes { ...A } } } fragment A on Customer { linkedCustomers { ...B } }
			fragment B on Customer { linkedCustomers { linkedCustomers { linkedCustomers { linkedCustomers { linkedCustomers { linkedCustomers { linkedCustomers { linkedCustomers { linkedCustomers { linkedCustomers { id } } } } } } } } } } }`, tooComplex, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, out := post(t, srv.URL, tc.query, nil)
			if took := time.Since(start); tc.quick && took > 100*time.Millisecond {
				t.Errorf("answered in %v, want under 100ms", took)
			}
			if firstCode(out) != tc.code {
				t.Fatalf("code %q, want %q: %v", firstCode(out), tc.code, out["errors"])
			}
			if tc.msg != "" {
				if msg := out["errors"].([]any)[0].(map[string]any)["message"].(string); !strings.Contains(msg, tc.msg) {
					t.Errorf("message %q does not say %q", msg, tc.msg)
				}
			}
		})
	}
}

// introspectionQuery is GraphiQL's own (graphql-js getIntrospectionQuery).
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
}`

func TestGraphiQLsIntrospectionQueryPassesTheLimits(t *testing.T) {
	srv := emptyGateway(t)
	_, out := post(t, srv.URL, introspectionQuery, nil)
	if out["errors"] != nil || out["data"] == nil {
		t.Fatalf("introspection refused: %v", out["errors"])
	}
}

// FuzzGraphQLDocuments sends documents and their variables (any JSON
// text, or none) through the whole handler: whatever they hold, the answer
// is quick, never a 500, and every error has a code.
func FuzzGraphQLDocuments(f *testing.F) {
	for _, seed := range []string{
		fanout(30, "providers { provider }"),
		fanout(60, "__typename"),
		nestedFanout(40),
		introspectionQuery,
		"{ customers(first: 2) { nodes { id linkedCustomers { id sources { sourceId } } } } }",
		"fragment A on Query { ...A } { ...A }",
		"{ ...on Query { ...on Query { providers { provider } } } }",
		"query($f: Int) { customers(first: $f) { totalCount } }",
		"mutation { deleteCustomer(id: \"x\") }",
		"{ nodes(ids: [\"a\", \"b\"]) { id } }",
		"{",
	} {
		f.Add(seed, `{"f": 1}`)
	}
	// variables: coerced single values, wrong types, bad bytes, not JSON
	for _, v := range []struct{ doc, vars string }{
		{"query($ids: [ID!]!) { nodes(ids: $ids) { id } }", `{"ids": "one"}`},
		{"query($ids: [ID!]!) { nodes(ids: $ids) { id } }", `{"ids": ["a\u0000b"]}`},
		{"query($f: CustomerFilter) { customers(filter: $f) { nodes { id } } }", `{"f": {"providers": "KINTSUGI", "ids": "x", "search": "\u0000"}}`},
		{"query($f: CustomerFilter) { customers(filter: $f) { nodes { id } } }", `{"f": {"country": [1, 2]}}`},
		{"query($f: Int) { customers(first: $f) { totalCount } }", `{"f": "1"}`},
		{"query($f: Int) { customers(last: $f) { totalCount } }", `{"f": 1e300}`},
		{"query($f: Int) { customers(first: $f) { totalCount } }", `null`},
		{"query($f: Int) { customers(first: $f) { totalCount } }", `[1]`},
		{"query($f: Int) { customers(first: $f) { totalCount } }", `{"f":`},
	} {
		f.Add(v.doc, v.vars)
	}
	// one provider that answers at once, so queries run and are costed
	h := testHandler(&federate.Service{Customers: map[ds.ProviderID]ds.CustomerProvider{ds.Kintsugi: &gatedProvider{items: 3}},
		Calls: map[ds.ProviderID]ds.CallModel{ds.Kintsugi: {ListPage: 100, LookupBatch: 1}}}, Options{})
	f.Fuzz(func(t *testing.T, doc, vars string) {
		q, _ := json.Marshal(doc)
		body := []byte(`{"query": ` + string(q) + `, "variables": ` + vars + `}`)
		req := httptest.NewRequest("POST", "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() { defer close(done); h.ServeHTTP(rec, req) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Fatalf("no answer in 2s")
		}
		if rec.Code >= 500 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		var out struct {
			Errors []struct {
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("status %d, body not JSON: %s", rec.Code, rec.Body)
		}
		for _, e := range out.Errors {
			if c, _ := e.Extensions["code"].(string); c == "" || c == string(ds.CodeInternal) {
				t.Fatalf("error without a client code: %s", rec.Body)
			}
		}
		if rec.Code != http.StatusOK && len(out.Errors) == 0 {
			t.Fatalf("status %d without errors", rec.Code)
		}
	})
}

// Issue 15, finding 4: a request that made more calls than its estimate is
// charged all of them (it was charged at most the quota, min(made,
// perMinute)), and the key's next query waits the debt off.
func TestAKeyIsChargedEveryCallItMade(t *testing.T) {
	q := newCallQuota(20)
	if ok, _, _ := q.reserve(4); !ok {
		t.Fatal("a fresh quota refused 4 of 20")
	}
	q.settle(4, 60) // estimated 4, made 60 (retries included)
	ok, left, wait := q.reserve(1)
	if ok || left > -39 || wait < 2*time.Minute-time.Second {
		t.Errorf("after 60 calls against 20 a minute: ok %v, left %.1f, wait %s; want a debt of 40 and a wait of about 2 minutes", ok, left, wait)
	}
}
