package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/postgres/pgtest"
)

func hashOf(q string) string {
	sum := sha256.Sum256([]byte(q))
	return hex.EncodeToString(sum[:])
}

func persistedExt(id string) map[string]any {
	return map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": id}}
}

// waitReady waits until /readyz answers 200 (the Postgres level migrated).
func waitReady(t *testing.T, m *testGateway) {
	t.Helper()
	waitFor(t, 20*time.Second, func() bool {
		resp, err := http.Get("http://" + m.Addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}, "the gateway to be ready")
}

// TestAPQRegisteredOnOneGatewayIsUsedOnASecond: two replicas on one
// database; a query registered (hash and text) on one is answered by its
// hash alone on the other, for the same key only.
func TestAPQRegisteredOnOneGatewayIsUsedOnASecond(t *testing.T) {
	t.Parallel()
	schema := pgtest.Schema(t)
	yaml := fmt.Sprintf(`
database_url: %q
auth: {api_keys: [{key: "bff"}, {key: "other"}]}
providers: {telness: {simulate: true}}
`, schema)
	a := startGateway(t, withConfig(yaml))
	b := startGateway(t, withConfig(yaml))
	waitReady(t, a)
	waitReady(t, b)
	const q = `{ customers(first: 2) { nodes { id email } } }`
	ext := persistedExt(hashOf(q))
	bff := map[string]string{"X-API-Key": "bff"}
	if _, out := b.post(t, map[string]any{"extensions": ext}, bff); len(out.codes()) != 1 || out.codes()[0] != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("before registration: %+v", out.Errors)
	}
	_, registered := a.post(t, map[string]any{"query": q, "extensions": ext}, bff)
	if len(registered.Errors) > 0 {
		t.Fatalf("register on the first gateway: %+v", registered.Errors)
	}
	_, hit := b.post(t, map[string]any{"extensions": ext}, bff)
	if len(hit.Errors) > 0 || string(hit.Data) != string(registered.Data) {
		t.Fatalf("the hash on the second gateway: %s %+v", hit.Data, hit.Errors)
	}
	// per key: another key has not registered it, on either gateway
	for i, m := range []*testGateway{a, b} {
		if _, out := m.post(t, map[string]any{"extensions": ext}, map[string]string{"X-API-Key": "other"}); len(out.codes()) != 1 || out.codes()[0] != "PERSISTED_QUERY_NOT_FOUND" {
			t.Fatalf("gateway %d, another key: %s %+v", i, out.Data, out.Errors)
		}
	}
	// and after a restart of the second
	b.stop(t)
	c := startGateway(t, withConfig(yaml))
	waitReady(t, c)
	if _, out := c.post(t, map[string]any{"extensions": ext}, bff); len(out.Errors) > 0 || string(out.Data) != string(registered.Data) {
		t.Fatalf("after a restart: %+v", out.Errors)
	}
}

func writeManifest(t *testing.T, v any) string {
	t.Helper()
	b, _ := json.Marshal(v)
	path := filepath.Join(t.TempDir(), "manifest.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRequirePersistedRunsOnlyTheListedOperations: with a trusted-documents
// manifest (Apollo or Relay format) and require_persisted, an operation
// runs by its id or its exact text; anything else is FORBIDDEN with no
// upstream call, and APQ cannot register new documents.
func TestRequirePersistedRunsOnlyTheListedOperations(t *testing.T) {
	t.Parallel()
	const listed = `query Two { customers(first: 2) { nodes { id } } }`
	const other = `{ customers(first: 3) { nodes { id email } } }`
	for _, tc := range []struct {
		name     string
		manifest any
		id       string
	}{
		{"apollo manifest", map[string]any{"format": "apollo-persisted-query-manifest", "version": 1,
			"operations": []any{map[string]any{"id": hashOf(listed), "name": "Two", "type": "query", "body": listed}}}, hashOf(listed)},
		{"relay map", map[string]string{"7f0e2a": listed}, "7f0e2a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := tryGateway(t, withConfigf("persisted_queries: {manifest: %q, require_persisted: true}\nproviders: {telness: {simulate: true}}\n", writeManifest(t, tc.manifest)))
			if err != nil {
				t.Fatal(err)
			}
			m.resetKits(t)
			for _, c := range []struct {
				name string
				body map[string]any
				ok   bool
			}{
				{"by id", map[string]any{"extensions": persistedExt(tc.id)}, true},
				{"by its exact text", map[string]any{"query": listed}, true},
				{"by documentId (GraphQL over HTTP)", map[string]any{"documentId": tc.id}, true},
				{"by doc_id (Relay)", map[string]any{"doc_id": tc.id, "variables": map[string]any{}}, true},
				{"another query", map[string]any{"query": other}, false},
				{"another query registered with APQ", map[string]any{"query": other, "extensions": persistedExt(hashOf(other))}, false},
				{"an unknown id", map[string]any{"extensions": persistedExt(hashOf(other))}, false},
			} {
				_, out := m.post(t, c.body, nil)
				if c.ok {
					var d struct{ Customers struct{ Nodes []any } }
					if len(out.Errors) > 0 || json.Unmarshal(out.Data, &d) != nil || len(d.Customers.Nodes) != 2 {
						t.Errorf("%s: %s %+v", c.name, out.Data, out.Errors)
					}
					continue
				}
				if len(out.Errors) != 1 || out.Errors[0].Extensions["code"] != "FORBIDDEN" || out.Errors[0].Extensions["reason"] != "PERSISTED_QUERY_NOT_IN_LIST" {
					t.Errorf("%s: %s %+v, want FORBIDDEN PERSISTED_QUERY_NOT_IN_LIST", c.name, out.Data, out.Errors)
				}
			}
			// GET ?documentId=
			resp, err := http.Get("http://" + m.Addr + "/graphql?documentId=" + url.QueryEscape(tc.id))
			if err != nil {
				t.Fatal(err)
			}
			var get gqlResponse
			_ = json.NewDecoder(resp.Body).Decode(&get)
			resp.Body.Close()
			if len(get.Errors) > 0 || !strings.Contains(string(get.Data), `"nodes"`) {
				t.Errorf("GET ?documentId=: %s %+v", get.Data, get.Errors)
			}
			// the first allowed run calls Telness, the second is answered from
			// the cache; a refused one would have called for its first: 3
			if n := m.kit(t, ds.Telness).Count(); n != 1 {
				t.Errorf("%d Telness calls, want 1", n)
			}
		})
	}
	if _, err := tryGateway(t, withConfig("persisted_queries: {require_persisted: true}\nproviders: {telness: {simulate: true}}\n")); err == nil {
		t.Error("require_persisted without a manifest started")
	}
	if _, err := tryGateway(t, withConfigf("persisted_queries: {manifest: %q}\nproviders: {telness: {simulate: true}}\n", writeManifest(t, map[string]any{"format": "other"}))); err == nil {
		t.Error("a manifest of an unknown format was accepted")
	}
}

func TestIntrospectionCanBeTurnedOff(t *testing.T) {
	t.Parallel()
	const q = `{ __schema { queryType { name } } }`
	on := startGateway(t)
	if out := on.query(t, q, nil); len(out.Errors) > 0 {
		t.Fatalf("introspection on by default: %+v", out.Errors)
	}
	off, err := tryGateway(t, withConfig("introspection: false\nproviders: {telness: {simulate: true}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if out := off.query(t, q, nil); len(out.Errors) == 0 || string(out.Data) != "null" && len(out.Data) > 0 && string(out.Data) != `{"__schema":null}` {
		t.Fatalf("introspection: false answered %s %+v", out.Data, out.Errors)
	}
}

// TestAPQWorksInProcessWhileTheDatabaseIsCut: the shared store down, a
// registration and its hash still work on the replica that saw it, and the
// outage is logged once.
func TestAPQWorksInProcessWhileTheDatabaseIsCut(t *testing.T) {
	t.Parallel()
	proxy, dbURL := pgtest.NewProxy(t, pgtest.Schema(t))
	log := &lockedLog{}
	m := startGateway(t, withPostgres(dbURL), withConfig("providers: {telness: {simulate: true}}\n"), withLog(log))
	waitReady(t, m)
	proxy.Cut()
	const q = `{ customers(first: 2) { nodes { id } } }`
	ext := persistedExt(hashOf(q))
	_, registered := m.post(t, map[string]any{"query": q, "extensions": ext}, nil)
	if len(registered.Errors) > 0 {
		t.Fatalf("register with the database cut: %+v", registered.Errors)
	}
	for range 3 {
		if _, hit := m.post(t, map[string]any{"extensions": ext}, nil); len(hit.Errors) > 0 || string(hit.Data) != string(registered.Data) {
			t.Fatalf("hash with the database cut: %+v", hit.Errors)
		}
	}
	if n := strings.Count(log.String(), "persisted queries: the shared store does not answer"); n != 1 {
		t.Errorf("the outage was logged %d times, want once:\n%s", n, log.String())
	}
}
