package main

import (
	"strings"
	"testing"
)

// TestConfigErrorsNameTheirLine: each mistake is refused at start with the
// line it is on, the provider block's own lines included (they are decoded
// apart from the file).
func TestConfigErrorsNameTheirLine(t *testing.T) {
	t.Setenv("SET_KEY", "k")
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"unset variable", "cursor_secret: x\nproviders:\n  kintsugi:\n    base_url: https://api.trykintsugi.com\n    api_key: ${GATEWAY_TEST_UNSET_KEY}\n    organization_id: o\n",
			[]string{"line 5: ${GATEWAY_TEST_UNSET_KEY}", "${NAME:-default}"}},
		{"misspelt key deep in a provider block", "# a comment\nlisten: \":0\"\n\nproviders:\n  telness:\n    base_url: https://api.telness.example\n    apikey: ${SET_KEY}\n",
			[]string{"line 7", "providers.telness", `unknown key "apikey"`, "api_key"}},
		{"duration without a unit in upstream", "providers:\n  telness:\n    simulate: true\n    upstream: {timeout: 3}\n",
			[]string{"line 4", `"3" is not a duration`}},
		{"unknown upstream key", "providers:\n  telness:\n    simulate: true\n    upstream:\n      budget: 5s\n      retries: 3\n",
			[]string{"line 6", "providers.telness.upstream", `unknown key "retries"`}},
		{"a wrong type in a provider block", "providers:\n\n  telness:\n    base_url: [https://a, https://b]\n    api_key: k\n",
			[]string{"line 4", "cannot unmarshal"}},
		{"a provider block missing its key", "listen: \":0\"\nproviders:\n  kintsugi: {base_url: \"https://api.trykintsugi.com\"}\n",
			[]string{"line 3", "kintsugi", "api_key is required"}},
		{"an api key for an unknown provider", "auth:\n  api_keys:\n    - {key: a}\n    - {key: b, providers: [stripe]}\nproviders: {telness: {simulate: true}}\n",
			[]string{"line 4", `unknown provider "stripe"`}},
		{"a MySQL database_url", "database_url: \"mysql://u@db/x\"\nproviders: {telness: {simulate: true}}\n",
			[]string{"line 1", "mysql:// is not a Postgres URL"}},
		{"an empty file", "", []string{"no providers"}},
		{"only comments", "# listen: \":8080\"\n# providers: {}\n", []string{"no providers"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tryGateway(t, withConfig(tc.yaml))
			if err == nil {
				t.Fatalf("started; want an error mentioning %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v\nwant it to mention %q", err, w)
				}
			}
		})
	}
}

func TestOptionalVariablesTakeTheirDefaultAndCommentsAreNotExpanded(t *testing.T) {
	t.Setenv("GATEWAY_TEST_EMPTY", "")
	m, err := tryGateway(t, withConfig(`
listen: "${GATEWAY_TEST_UNSET_LISTEN:-127.0.0.1:0}"
cursor_secret: "${GATEWAY_TEST_EMPTY:-fallback-secret}"
# telness: {api_key: "${GATEWAY_TEST_UNSET_IN_A_COMMENT}"}
providers:
  telness: {simulate: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(m.Service.Cursors.Key); got != "fallback-secret" {
		t.Fatalf("cursor key %q, want the default of an empty variable", got)
	}
}
