package main

import (
	"encoding/json"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/postgres/pgtest"
)

// replicaSet is n gateways on one database schema (through proxy) calling
// one Digital River simulator.
func replicaSet(t *testing.T, n int, extra string) ([]*testGateway, *pgtest.Proxy) {
	t.Helper()
	providers, _ := vendors(t, nil, nil, ds.DigitalRiver)
	proxy, url := pgtest.NewProxy(t, pgtest.Schema(t))
	var ms []*testGateway
	for range n {
		ms = append(ms, startGateway(t, withPostgres(url), withConfig(extra), withConfig(providers)))
	}
	return ms, proxy
}

const emailOf = `query($id: ID!) { customer(id: $id) { id email } }`

// emailAt is the email replica m answers for id ("" when it has no such customer).
func emailAt(t *testing.T, m *testGateway, id string) string {
	t.Helper()
	var d struct {
		Customer *customerNode `json:"customer"`
	}
	r := m.query(t, emailOf, map[string]any{"id": id})
	if err := json.Unmarshal(r.Data, &d); err != nil {
		t.Fatalf("customer %s: %s %+v", id, r.Data, r.Errors)
	}
	if d.Customer == nil {
		return ""
	}
	return d.Customer.Email
}

// byEmail is how many customers replica m lists with email.
func byEmail(t *testing.T, m *testGateway, email string) int {
	t.Helper()
	page := mustData[customersPage](t, m.query(t, pageQuery, map[string]any{"first": 10, "filter": map[string]any{"email": email}}))
	return len(page.Customers.Edges)
}

// seenWithin polls every replica until each says want, and returns how
// long the slowest took; it fails past limit.
func seenWithin(t *testing.T, ms []*testGateway, limit time.Duration, what string, says func(*testGateway) bool) time.Duration {
	t.Helper()
	start := time.Now()
	for i, m := range ms {
		for !says(m) {
			if time.Since(start) > limit {
				t.Fatalf("replica %d: %s not seen %v after the write", i, what, limit)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return time.Since(start)
}

// TestAWriteThroughOneReplicaIsSeenByTheOthersAtOnce: an update, a create
// and a delete through replica A reach B and C (records, list pages,
// stored responses) within about a second, though each holds the old
// answers fresh for its 60 s TTL.
func TestAWriteThroughOneReplicaIsSeenByTheOthersAtOnce(t *testing.T) {
	ms, _ := replicaSet(t, 3, "")
	a := ms[0]
	page := mustData[customersPage](t, a.query(t, pageQuery, map[string]any{"first": 3}))
	id := page.Customers.Edges[0].Node.ID
	const created = "replica-new@example.com"
	for _, m := range ms { // every replica holds the old answers, twice (stored responses too)
		for range 2 {
			if emailAt(t, m, id) == "" || byEmail(t, m, created) != 0 {
				t.Fatal("setup")
			}
		}
	}
	const limit = 2 * time.Second // the promise is about a second; margin for a loaded machine

	if r := a.query(t, `mutation($id: ID!) { updateCustomer(id: $id, input: {email: "replica-upd@example.com"}) { id } }`, map[string]any{"id": id}); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	took := seenWithin(t, ms, limit, "the update", func(m *testGateway) bool { return emailAt(t, m, id) == "replica-upd@example.com" })
	t.Logf("update seen by all 3 replicas after %v", took.Round(time.Millisecond))

	if r := a.query(t, `mutation { createCustomer(input: {provider: DIGITAL_RIVER, email: "`+created+`", name: "New"}) { id } }`, nil); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	took = seenWithin(t, ms, limit, "the create", func(m *testGateway) bool { return byEmail(t, m, created) == 1 })
	t.Logf("create seen by all 3 replicas after %v", took.Round(time.Millisecond))

	if r := a.query(t, `mutation($id: ID!) { deleteCustomer(id: $id) }`, map[string]any{"id": id}); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	took = seenWithin(t, ms, limit, "the delete", func(m *testGateway) bool { return emailAt(t, m, id) == "" })
	t.Logf("delete seen by all 3 replicas after %v", took.Round(time.Millisecond))
}

// TestChangesMissedDuringAPostgresBlackholeDoNotSurvive: an update made
// through A while Postgres is silent cannot be published; once Postgres
// answers again A applies and publishes it, and B and C, which were cut
// off, drop what they cannot vouch for: no replica keeps the old record.
func TestChangesMissedDuringAPostgresBlackholeDoNotSurvive(t *testing.T) {
	ms, proxy := replicaSet(t, 3, "")
	a := ms[0]
	page := mustData[customersPage](t, a.query(t, pageQuery, map[string]any{"first": 3}))
	id := page.Customers.Edges[1].Node.ID
	old := emailAt(t, a, id)
	for _, m := range ms {
		if emailAt(t, m, id) != old {
			t.Fatal("setup")
		}
	}
	proxy.Blackhole()
	t.Cleanup(proxy.Restore)
	if r := a.query(t, `mutation($id: ID!) { updateCustomer(id: $id, input: {email: "blackhole-upd@example.com"}) { id } }`, map[string]any{"id": id}); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	// the others are cut off: they notice (their probe fails) before it heals
	waitFor(t, 15*time.Second, func() bool { return !ms[1].Cache.Health().Up && !ms[2].Cache.Health().Up }, "the replicas to see Postgres silent")
	proxy.Restore()
	took := seenWithin(t, ms, 15*time.Second, "the update made during the blackhole", func(m *testGateway) bool { return emailAt(t, m, id) == "blackhole-upd@example.com" })
	t.Logf("update made during a blackhole seen by all 3 replicas %v after it healed", took.Round(time.Millisecond))
	time.Sleep(time.Second) // nothing brings the old copy back
	for i, m := range ms {
		if got := emailAt(t, m, id); got != "blackhole-upd@example.com" {
			t.Fatalf("replica %d answers %q after the blackhole", i, got)
		}
	}
}
