package main

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	ds "github.com/federated-customers/gateway/datasource"
)

// TestAKeyWithoutProvidersMayUseEveryConfiguredProvider: the reference says
// a key's providers default to all; through HTTP, such a key walks every
// configured provider's customers and sees them enabled, while a key that
// names providers is held to them.
func TestAKeyWithoutProvidersMayUseEveryConfiguredProvider(t *testing.T) {
	t.Parallel()
	m, err := tryGateway(t, withConfig(`
auth:
  api_keys:
    - {key: "everything"}
    - {key: "kintsugi-only", providers: [kintsugi]}
providers:
  telness: {simulate: true}
  kintsugi: {simulate: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	// per key: which providers are enabled, and what asking each for a customer gives
	type answer struct {
		Providers []struct {
			Provider string
			Enabled  bool
		}
	}
	for _, tc := range []struct{ key, enabled, kintsugi, telness string }{
		{"everything", "KINTSUGI,TELNESS", "KINTSUGI", "TELNESS"},
		{"kintsugi-only", "KINTSUGI", "KINTSUGI", string(ds.CodeForbidden)},
	} {
		t.Run(tc.key, func(t *testing.T) {
			header := map[string]string{"Authorization": "Bearer " + tc.key}
			resp, out := m.post(t, map[string]any{"query": `{ providers { provider enabled } }`}, header)
			if resp.StatusCode != 200 || len(out.Errors) > 0 {
				t.Fatalf("%d %+v", resp.StatusCode, out.Errors)
			}
			var a answer
			if err := json.Unmarshal(out.Data, &a); err != nil {
				t.Fatal(err)
			}
			var enabled []string
			for _, p := range a.Providers {
				if p.Enabled {
					enabled = append(enabled, p.Provider)
				}
			}
			sort.Strings(enabled)
			if strings.Join(enabled, ",") != tc.enabled {
				t.Errorf("enabled %v, want %s", enabled, tc.enabled)
			}
			for p, want := range map[string]string{"KINTSUGI": tc.kintsugi, "TELNESS": tc.telness} {
				_, out := m.post(t, map[string]any{"query": `{ customers(first: 1, filter: {providers: [` + p + `]}) { nodes { provider } } }`}, header)
				var got struct {
					Customers struct{ Nodes []struct{ Provider string } }
				}
				_ = json.Unmarshal(out.Data, &got)
				answer := strings.Join(out.codes(), ",")
				if len(got.Customers.Nodes) == 1 {
					answer += got.Customers.Nodes[0].Provider
				}
				if answer != want {
					t.Errorf("customers at %s: %q, want %q (%+v)", p, answer, want, out.Errors)
				}
			}
		})
	}
}

func TestAKeyNamingAnUnknownOrNoProviderIsAConfigError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, keys, want string }{
		{"unknown provider", `[{key: "k", providers: [kintsugi, stripe]}]`, `unknown provider "stripe"`},
		{"enum spelling", `[{key: "k", providers: [DIGITAL_RIVER]}]`, `unknown provider "DIGITAL_RIVER"`},
		{"empty list", `[{key: "k", providers: []}]`, "leave providers out"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tryGateway(t, withConfig("auth: {api_keys: "+tc.keys+"}\nproviders: {kintsugi: {simulate: true}}\n"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
