package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	drsim "github.com/federated-customers/gateway/datasource/digitalriver/sim"
	"github.com/federated-customers/gateway/datasource/simkit"
	"github.com/federated-customers/gateway/postgres/pgtest"
)

// simEmails is a simulator's ground truth: every customer's id and email.
func (m *testGateway) simEmails(t *testing.T, p ds.ProviderID) map[string]string {
	t.Helper()
	s, ok := m.Sims[p].(interface{ Emails() map[string]string })
	if !ok {
		t.Fatalf("%s simulator cannot list its emails", p)
	}
	return s.Emails()
}

// holding counts the simulator's customers whose email is email.
func (m *testGateway) holding(t *testing.T, p ds.ProviderID, email string) int {
	t.Helper()
	n := 0
	for _, e := range m.simEmails(t, p) {
		if strings.EqualFold(e, email) {
			n++
		}
	}
	return n
}

// calls counts requests of method to paths starting with path.
func calls(k *simkit.Kit, method, path string) int {
	n := 0
	for _, c := range k.Calls() {
		if c.Method == method && strings.HasPrefix(c.Path, path) {
			n++
		}
	}
	return n
}

const createMutation = `mutation($in: CreateCustomerInput!, $key: String) {
  createCustomer(input: $in, idempotencyKey: $key) { id providerId email name }
}`

type createdData struct {
	CreateCustomer *struct {
		ID         string `json:"id"`
		ProviderID string `json:"providerId"`
		Email      string `json:"email"`
		Name       string `json:"name"`
	} `json:"createCustomer"`
}

func outcomeOf(r gqlResponse) string {
	for _, e := range r.Errors {
		if o, ok := e.Extensions["outcome"].(string); ok {
			return o
		}
	}
	return ""
}

// A Digital River write whose answer is lost (delayed past the attempt
// timeout, or cut off after the vendor acted) is reconciled: the caller gets
// the record, a retry with the same key replays it without a vendor call, and
// the vendor holds exactly one customer.
func TestAWriteWhoseAnswerIsLostIsReconciledAndNeverDuplicated(t *testing.T) {
	m := startGateway(t, withSimulated(map[string]string{"digitalriver": "upstream: {timeout: 300ms, budget: 5s}"}))
	kit := m.kit(t, ds.DigitalRiver)
	for i, tc := range []struct {
		name  string
		fault simkit.Fault
	}{
		{"answer delayed past the attempt timeout", simkit.Fault{Method: "POST", After: true, Delay: 1500 * time.Millisecond}},
		{"answer cut off after the create", simkit.Fault{Method: "POST", After: true, CutBody: true}},
		{"a 502 after the create", simkit.Fault{Method: "POST", After: true, Status: http.StatusBadGateway, Message: "upstream reset"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			email := fmt.Sprintf("Lost.Answer.%d@Example.com", i)
			vars := map[string]any{"in": map[string]any{"provider": "DIGITAL_RIVER", "email": email, "name": "Lost Answer"}, "key": fmt.Sprintf("create-%d", i)}
			kit.Reset()
			kit.Inject(tc.fault)
			first := mustData[createdData](t, m.mutate(t, createMutation, vars, nil))
			if first.CreateCustomer == nil || first.CreateCustomer.Email != email {
				t.Fatalf("first answer %+v, want the created customer", first.CreateCustomer)
			}
			posts := calls(kit, "POST", "/customers")
			again := mustData[createdData](t, m.mutate(t, createMutation, vars, nil))
			if again.CreateCustomer.ID != first.CreateCustomer.ID {
				t.Errorf("retry with the same key answered %s, want the first outcome %s", again.CreateCustomer.ID, first.CreateCustomer.ID)
			}
			if n := calls(kit, "POST", "/customers"); n != posts {
				t.Errorf("the retry made %d more POSTs, want none (replayed)", n-posts)
			}
			if n := m.holding(t, ds.DigitalRiver, email); n != 1 {
				t.Errorf("Digital River holds %d customers with %s, want exactly 1", n, email)
			}
			listed := m.walk(t, 10, map[string]any{"email": email, "providers": []string{"DIGITAL_RIVER"}})
			if len(listed) != 1 || listed[0].ProviderID != first.CreateCustomer.ProviderID {
				t.Errorf("the list filtered by the email shows %v, want the one created customer", keys(listed))
			}
		})
	}

	t.Run("Commerce Layer create cut off after it was made is found by its email", func(t *testing.T) {
		ck := m.kit(t, ds.CommerceLayer)
		ck.Reset()
		ck.Inject(simkit.Fault{Method: "POST", Path: "/api/customers", After: true, CutBody: true})
		email := "Cut.Off@Example.com"
		vars := map[string]any{"in": map[string]any{"provider": "COMMERCE_LAYER", "email": email}, "key": "cl-cut"}
		first := mustData[createdData](t, m.mutate(t, createMutation, vars, nil))
		again := mustData[createdData](t, m.mutate(t, createMutation, vars, nil))
		if first.CreateCustomer == nil || again.CreateCustomer == nil || again.CreateCustomer.ID != first.CreateCustomer.ID {
			t.Errorf("answers %+v then %+v, want the created customer twice", first.CreateCustomer, again.CreateCustomer)
		}
		if n, looked := calls(ck, "POST", "/api/customers"), calls(ck, "GET", "/api/customers"); n != 1 || looked != 1 {
			t.Errorf("Commerce Layer got %d creates and %d look-ups, want 1 of each (the cut-off answer reconciled)", n, looked)
		}
		if n := m.holding(t, ds.CommerceLayer, email); n != 1 {
			t.Errorf("Commerce Layer holds %d customers with %s, want exactly 1", n, email)
		}
	})

	t.Run("update answer cut off after it was applied", func(t *testing.T) {
		var id string
		for k := range m.simEmails(t, ds.DigitalRiver) {
			id = ds.CustomerNodeID(ds.DigitalRiver, k)
			break
		}
		const q = `mutation($id: ID!, $key: String) { updateCustomer(id: $id, input: {name: "Cut Off"}, idempotencyKey: $key) { id name } }`
		kit.Reset()
		kit.Inject(simkit.Fault{Method: "POST", After: true, CutBody: true})
		vars := map[string]any{"id": id, "key": "update-cut"}
		got := mustData[struct {
			UpdateCustomer struct{ ID, Name string } `json:"updateCustomer"`
		}](t, m.mutate(t, q, vars, nil))
		if got.UpdateCustomer.Name != "Cut Off" {
			t.Errorf("update answered %+v, want the updated record", got.UpdateCustomer)
		}
		before := kit.Count()
		mustData[map[string]any](t, m.mutate(t, q, vars, nil))
		if kit.Count() != before {
			t.Errorf("the retry with the same key called Digital River %d times, want 0", kit.Count()-before)
		}
	})

	t.Run("attach answer cut off after it was applied", func(t *testing.T) {
		free := m.Sims[ds.DigitalRiver].(*drsim.Sim).FreeSources()
		if len(free) == 0 {
			t.Fatal("the simulator has no free payment source")
		}
		var custID string
		for k := range m.simEmails(t, ds.DigitalRiver) {
			custID = k
			break
		}
		node := ds.CustomerNodeID(ds.DigitalRiver, custID)
		kit.Reset()
		kit.Inject(simkit.Fault{Method: "POST", Path: "/customers/" + custID + "/sources/", After: true, CutBody: true})
		const q = `mutation($c: ID!, $s: String!) { attachCustomerSource(customerId: $c, sourceId: $s, idempotencyKey: "attach-cut") { sourceId } }`
		got := mustData[struct {
			AttachCustomerSource struct{ SourceID string } `json:"attachCustomerSource"`
		}](t, m.mutate(t, q, map[string]any{"c": node, "s": free[0]}, nil))
		if got.AttachCustomerSource.SourceID != free[0] {
			t.Errorf("attach answered %+v, want source %s", got.AttachCustomerSource, free[0])
		}
		if n := calls(kit, "GET", "/customers/"+custID); n != 1 {
			t.Errorf("%d read-backs of the customer, want 1 (the cut-off answer reconciled)", n)
		}
		sources := mustData[struct {
			Customer struct{ Sources []struct{ SourceID string } } `json:"customer"`
		}](t, m.query(t, `query($id: ID!) { customer(id: $id) { sources { sourceId } } }`, map[string]any{"id": node}))
		attached := false
		for _, s := range sources.Customer.Sources {
			attached = attached || s.SourceID == free[0]
		}
		if !attached {
			t.Errorf("the customer's sources %+v do not show %s", sources.Customer.Sources, free[0])
		}
	})

	t.Run("create refused every time is NOT_APPLIED and leaves no customer", func(t *testing.T) {
		kit.Reset()
		kit.SetDown(&simkit.Fault{Method: "POST", Status: http.StatusServiceUnavailable, Message: "down"})
		t.Cleanup(func() { kit.SetDown(nil) })
		email := "never.made@example.com"
		r := m.mutate(t, createMutation, map[string]any{"in": map[string]any{"provider": "DIGITAL_RIVER", "email": email}, "key": "refused"}, nil)
		if got := outcomeOf(r); got != ds.OutcomeNotApplied {
			t.Errorf("outcome %q (errors %+v), want NOT_APPLIED", got, r.Errors)
		}
		if n := m.holding(t, ds.DigitalRiver, email); n != 0 {
			t.Errorf("Digital River holds %d customers with %s, want 0", n, email)
		}
		kit.SetDown(nil)
		mustData[createdData](t, m.mutate(t, createMutation, map[string]any{"in": map[string]any{"provider": "DIGITAL_RIVER", "email": email}, "key": "refused"}, nil))
		if n := m.holding(t, ds.DigitalRiver, email); n != 1 {
			t.Errorf("after a retry with the same key Digital River holds %d customers with %s, want 1", n, email)
		}
	})

	t.Run("answer lost and the read back fails too is UNCERTAIN naming the attempt timeout", func(t *testing.T) {
		kit.Reset()
		kit.SetDown(&simkit.Fault{Delay: 2 * time.Second})
		t.Cleanup(func() { kit.SetDown(nil) })
		r := m.mutate(t, createMutation, map[string]any{"in": map[string]any{"provider": "DIGITAL_RIVER", "email": "unknown.fate@example.com"}}, nil)
		if got := outcomeOf(r); got != ds.OutcomeUncertain {
			t.Errorf("outcome %q (errors %+v), want UNCERTAIN", got, r.Errors)
		}
		if len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "300ms attempt timeout") && !strings.Contains(r.Errors[0].Message, "5s budget") {
			t.Errorf("errors %+v: the message should name the limit that was hit", r.Errors)
		}
	})
}

func TestAnIdempotencyKeyReplaysWaitsAndRefusesAnotherInput(t *testing.T) {
	m := startGateway(t, withSimulated(nil))
	kit := m.kit(t, ds.DigitalRiver)
	in := map[string]any{"provider": "DIGITAL_RIVER", "email": "same.key@example.com"}

	t.Run("the same key with another input is BAD_USER_INPUT naming the key", func(t *testing.T) {
		mustData[createdData](t, m.mutate(t, createMutation, map[string]any{"in": in, "key": "k-other"}, nil))
		kit.Reset()
		other := map[string]any{"provider": "DIGITAL_RIVER", "email": "another@example.com"}
		r := m.mutate(t, createMutation, map[string]any{"in": other, "key": "k-other"}, nil)
		if len(r.Errors) != 1 || r.codes()[0] != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, `"k-other"`) {
			t.Errorf("errors %+v, want one BAD_USER_INPUT naming the key", r.Errors)
		}
		if kit.Count() != 0 {
			t.Errorf("Digital River got %d calls, want 0", kit.Count())
		}
	})

	t.Run("two concurrent requests with one key make one vendor call", func(t *testing.T) {
		kit.Reset()
		kit.Inject(simkit.Fault{Method: "POST", Delay: 400 * time.Millisecond})
		vars := map[string]any{"in": map[string]any{"provider": "DIGITAL_RIVER", "email": "concurrent@example.com"}}
		var wg sync.WaitGroup
		ids := make([]string, 2)
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := m.mutate(t, createMutation, vars, map[string]string{"Idempotency-Key": "k-concurrent"})
				var d createdData
				if len(r.Errors) == 0 && json.Unmarshal(r.Data, &d) == nil && d.CreateCustomer != nil {
					ids[i] = d.CreateCustomer.ID
				} else {
					t.Errorf("request %d: errors %+v", i, r.Errors)
				}
			}()
		}
		wg.Wait()
		if ids[0] == "" || ids[0] != ids[1] {
			t.Errorf("answers %v, want the same customer twice", ids)
		}
		if n := calls(kit, "POST", "/customers"); n != 1 {
			t.Errorf("Digital River got %d creates, want 1", n)
		}
		if n := m.holding(t, ds.DigitalRiver, "concurrent@example.com"); n != 1 {
			t.Errorf("Digital River holds %d such customers, want 1", n)
		}
	})

	t.Run("a header key and a different argument key are BAD_USER_INPUT", func(t *testing.T) {
		r := m.mutate(t, createMutation, map[string]any{"in": in, "key": "a"}, map[string]string{"Idempotency-Key": "b"})
		if len(r.Errors) != 1 || r.codes()[0] != "BAD_USER_INPUT" {
			t.Errorf("errors %+v, want BAD_USER_INPUT", r.Errors)
		}
	})

	t.Run("a key too long is BAD_USER_INPUT with no vendor call", func(t *testing.T) {
		kit.Reset()
		r := m.mutate(t, createMutation, map[string]any{"in": in, "key": strings.Repeat("k", 256)}, nil)
		if len(r.Errors) != 1 || r.codes()[0] != "BAD_USER_INPUT" || kit.Count() != 0 {
			t.Errorf("errors %+v and %d calls, want BAD_USER_INPUT and none", r.Errors, kit.Count())
		}
	})

	t.Run("a Telness create carries X-Idempotency-Key derived from the caller's key", func(t *testing.T) {
		tk := m.kit(t, ds.Telness)
		tk.Reset()
		vars := map[string]any{"in": map[string]any{"provider": "TELNESS", "email": "keyed@example.com", "name": "Keyed Person", "type": "INDIVIDUAL"}, "key": "telness-1"}
		first := mustData[createdData](t, m.mutate(t, createMutation, vars, nil))
		mustData[createdData](t, m.mutate(t, createMutation, vars, nil))
		var keys []string
		for _, c := range tk.Calls() {
			if c.Method == "POST" {
				keys = append(keys, c.Header.Get("X-Idempotency-Key"))
			}
		}
		if len(keys) != 1 || keys[0] == "" || len(keys[0]) > 256 {
			t.Errorf("Telness creates carried keys %q, want one non-empty key (the repeat replayed)", keys)
		}
		if n := m.holding(t, ds.Telness, "keyed@example.com"); n != 1 || first.CreateCustomer == nil {
			t.Errorf("Telness holds %d such customers, want 1", n)
		}
	})
}

// The email filter is exact and case-insensitive at every provider, whatever
// case each vendor stores: records created in mixed case at each are all
// found, and nothing else, against the simulators' own data.
func TestTheEmailFilterFindsEveryCaseAtEveryProvider(t *testing.T) {
	t.Parallel()
	m := startGateway(t)
	spellings := map[ds.ProviderID]string{
		ds.Kintsugi:      "Mixed.Case.Person@Example.com",
		ds.DigitalRiver:  "MIXED.CASE.PERSON@EXAMPLE.COM",
		ds.Telness:       "mixed.case.PERSON@example.COM",
		ds.CommerceLayer: "Mixed.CASE.Person@Example.Com",
	}
	for p, email := range spellings {
		in := map[string]any{"provider": p.String(), "email": email}
		if p != ds.CommerceLayer {
			in["name"] = "Mixed Case"
		}
		if p == ds.Telness {
			in["type"] = "INDIVIDUAL"
		}
		mustData[createdData](t, m.mutate(t, createMutation, map[string]any{"in": in}, nil))
	}
	for _, query := range []string{"mixed.case.person@example.com", "MIXED.case.person@EXAMPLE.com"} {
		t.Run(query, func(t *testing.T) {
			var want []string
			for _, p := range ds.AllProviders {
				if p == ds.CareCloud {
					continue
				}
				for id, e := range m.simEmails(t, p) {
					if strings.EqualFold(e, query) {
						want = append(want, p.String()+"/"+id)
					}
				}
			}
			if len(want) != len(spellings) {
				t.Fatalf("the simulators hold %d records with %s, want %d", len(want), query, len(spellings))
			}
			got := keys(m.walk(t, 7, map[string]any{"email": query}))
			sort.Strings(want)
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("the walk found %v, want %v", got, want)
			}
		})
	}
}

// Write input is checked like filters before anything is sent.
func TestWriteInputIsCheckedBeforeAnythingIsSent(t *testing.T) {
	t.Parallel()
	m := startGateway(t)
	for _, tc := range []struct {
		name string
		in   map[string]any
		code string
	}{
		{"an alpha-3 country", map[string]any{"provider": "DIGITAL_RIVER", "email": "a3@example.com", "address": map[string]any{"country": "CZE"}}, "BAD_USER_INPUT"},
		{"a country with a digit", map[string]any{"provider": "KINTSUGI", "name": "X", "address": map[string]any{"country": "C1"}}, "BAD_USER_INPUT"},
		{"a locale that is no language tag", map[string]any{"provider": "DIGITAL_RIVER", "email": "loc@example.com", "locale": "english please"}, "BAD_USER_INPUT"},
		{"a Digital River metadata value that is an object", map[string]any{"provider": "DIGITAL_RIVER", "email": "md@example.com", "metadata": map[string]any{"tier": map[string]any{"a": 1}}}, "BAD_USER_INPUT"},
		{"a Digital River metadata value that is a fraction", map[string]any{"provider": "DIGITAL_RIVER", "email": "md@example.com", "metadata": map[string]any{"score": 1.5}}, "BAD_USER_INPUT"},
		{"an email that is no address", map[string]any{"provider": "COMMERCE_LAYER", "email": "not-an-email"}, "BAD_USER_INPUT"},
		{"a lower-case alpha-2 country is sent upper-cased", map[string]any{"provider": "DIGITAL_RIVER", "email": "cz@example.com", "address": map[string]any{"country": "cz", "city": "Brno"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m.resetKits(t)
			r := m.mutate(t, `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { address { country } } }`, map[string]any{"in": tc.in}, nil)
			if tc.code == "" {
				got := mustData[struct {
					CreateCustomer struct{ Address struct{ Country string } } `json:"createCustomer"`
				}](t, r)
				if got.CreateCustomer.Address.Country != "CZ" {
					t.Errorf("country %q, want CZ", got.CreateCustomer.Address.Country)
				}
				return
			}
			if len(r.Errors) != 1 || r.codes()[0] != tc.code {
				t.Errorf("errors %+v, want %s", r.Errors, tc.code)
			}
			for p, n := range m.upstreamCalls(t) {
				if n != 0 {
					t.Errorf("%s got %d calls, want none", p, n)
				}
			}
		})
	}
}

// With database_url, a key is shared by replicas: a repeat on another
// replica replays the first outcome without a vendor call.
func TestAnIdempotencyKeyIsSharedByReplicasOnOneDatabase(t *testing.T) {
	t.Parallel()
	schema := pgtest.Schema(t)
	providers, sims := vendors(t, nil, nil, ds.DigitalRiver)
	kit := sims[ds.DigitalRiver].Kit
	a := startGateway(t, withPostgres(schema), withConfig(providers))
	b := startGateway(t, withPostgres(schema), withConfig(providers))
	for _, m := range []*testGateway{a, b} {
		waitFor(t, 10*time.Second, func() bool { return m.Cache.Ready(t.Context()) == nil }, "Postgres to be ready")
	}
	vars := map[string]any{"in": map[string]any{"provider": "DIGITAL_RIVER", "email": "replicas@example.com"}, "key": "shared-key"}
	first := mustData[createdData](t, a.mutate(t, createMutation, vars, nil))
	posts := calls(kit, "POST", "/customers")
	again := mustData[createdData](t, b.mutate(t, createMutation, vars, nil))
	if again.CreateCustomer == nil || first.CreateCustomer == nil || again.CreateCustomer.ID != first.CreateCustomer.ID {
		t.Errorf("replica B answered %+v, want replica A's outcome %+v", again.CreateCustomer, first.CreateCustomer)
	}
	if n := calls(kit, "POST", "/customers"); n != posts {
		t.Errorf("replica B made %d creates, want none", n-posts)
	}
	vars["in"] = map[string]any{"provider": "DIGITAL_RIVER", "email": "other@example.com"}
	if r := b.mutate(t, createMutation, vars, nil); len(r.Errors) != 1 || r.codes()[0] != "BAD_USER_INPUT" {
		t.Errorf("another input under the key on replica B: errors %+v, want BAD_USER_INPUT", r.Errors)
	}
}
