package rest_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/carecloud"
	"github.com/federated-customers/gateway/datasource/commercelayer"
	"github.com/federated-customers/gateway/datasource/digitalriver"
	"github.com/federated-customers/gateway/datasource/kintsugi"
	"github.com/federated-customers/gateway/datasource/rest"
	"github.com/federated-customers/gateway/datasource/telness"
)

// credentialVendor builds one vendor's client for a base URL and the
// credential variant v; every variant is another credential.
type credentialVendor struct {
	name        string
	base, other string // two base URLs (other: another account's host)
	defaultBase string // the documented base ("" when base_url is required)
	variants    int
	build       func(base string, v int) (ds.Credentialed, error)
}

func credentialVendors() []credentialVendor {
	return []credentialVendor{
		{"carecloud", "https://p.example/webservice/rest-api/enterprise-interface/v1.0", "https://q.example/webservice/rest-api/enterprise-interface/v1.0", "", 5,
			func(base string, v int) (ds.Credentialed, error) {
				return carecloud.New([]carecloud.Config{
					{BaseURL: base, BearerToken: "secret-token-a"},
					{BaseURL: base, BearerToken: "secret-token-b"},
					{BaseURL: base, Login: "l", Password: "secret-p", UserExternalApplicationID: "a"},
					{BaseURL: base, Login: "l", Password: "secret-q", UserExternalApplicationID: "a"},
					{BaseURL: base, Login: "m", Password: "secret-p", UserExternalApplicationID: "a"},
				}[v], nil)
			}},
		{"kintsugi", "https://a.example.com", "http://127.0.0.1:9", kintsugi.DefaultBaseURL, 3,
			func(base string, v int) (ds.Credentialed, error) {
				return kintsugi.New([]kintsugi.Config{
					{BaseURL: base, APIKey: "secret-one", OrganizationID: "orgn_1"},
					{BaseURL: base, APIKey: "secret-two", OrganizationID: "orgn_1"},
					{BaseURL: base, APIKey: "secret-one", OrganizationID: "orgn_2"},
				}[v], nil)
			}},
		{"digitalriver", "https://a.example.com", "https://b.example.com", digitalriver.DefaultBaseURL, 2,
			func(base string, v int) (ds.Credentialed, error) {
				return digitalriver.New(digitalriver.Config{BaseURL: base, APIKey: []string{"sk_test_secret-one", "sk_test_secret-two"}[v]}, nil)
			}},
		{"telness", "https://a.example.com", "https://b.example.com", "", 2,
			func(base string, v int) (ds.Credentialed, error) {
				return telness.New(telness.Config{BaseURL: base, APIKey: []string{"sk_test_secret-one", "sk_test_secret-two"}[v]}, nil)
			}},
		{"commercelayer", "https://a.commercelayer.io/api", "https://b.commercelayer.io/api", "", 5,
			func(base string, v int) (ds.Credentialed, error) {
				return commercelayer.New([]commercelayer.Config{
					{BaseURL: base, AccessToken: "secret-token-1"},
					{BaseURL: base, AccessToken: "secret-token-2"},
					{BaseURL: base, ClientID: "id", ClientSecret: "secret-client-2"},
					{BaseURL: base, ClientID: "id2", ClientSecret: "secret-client-2"},
					{BaseURL: base, ClientID: "id", ClientSecret: "secret-client-2", Scope: "market:id:x"},
				}[v], nil)
			}},
	}
}

// One recipe names every vendor's credential (rest.NewClient): stable for
// one configuration however its base URL is spelled (empty for the
// documented default, with or without a trailing slash), another for
// another secret, account, base URL or vendor, and never the secret.
func TestCredentialIDIsOneRecipeForEveryVendor(t *testing.T) {
	hex16 := regexp.MustCompile(`^[0-9a-f]{16}$`)
	owner := map[string]string{} // id -> which configuration has it
	for _, vd := range credentialVendors() {
		id := func(base string, v int) string {
			t.Helper()
			c, err := vd.build(base, v)
			if err != nil {
				t.Fatalf("%s: %v", vd.name, err)
			}
			return c.CredentialID()
		}
		for v := range vd.variants {
			want := id(vd.base, v)
			if !hex16.MatchString(want) || strings.Contains(want, "secret") {
				t.Errorf("%s: credential id %q", vd.name, want)
			}
			if id(vd.base, v) != want {
				t.Errorf("%s: variant %d: not stable", vd.name, v)
			}
			if id(vd.base+"/", v) != want {
				t.Errorf("%s: variant %d: a trailing slash is another identity", vd.name, v)
			}
			if vd.defaultBase != "" && id("", v) != id(vd.defaultBase, v) {
				t.Errorf("%s: variant %d: an empty base_url is not the default base URL", vd.name, v)
			}
			for _, base := range []string{vd.base, vd.other} {
				got, name := id(base, v), vd.name+" "+base+" variant "+string(rune('0'+v))
				if o, dup := owner[got]; dup {
					t.Errorf("%s shares its credential id with %s", name, o)
				}
				owner[got] = name
			}
		}
	}
}

// NewClient applies the defaults once; Unauthorized keeps everything but
// the credentials.
func TestNewClientDefaultsAndUnauthorized(t *testing.T) {
	if _, err := rest.NewClient(rest.Options{Provider: ds.Telness}); err == nil || !strings.Contains(err.Error(), "telness: base_url is required") {
		t.Errorf("no base URL: %v", err)
	}
	if _, err := rest.NewClient(rest.Options{Provider: ds.Telness, BaseURL: "ftp://x"}); err == nil || !strings.Contains(err.Error(), "telness: base_url") {
		t.Errorf("ftp base URL: %v", err)
	}
	c, err := rest.NewClient(rest.Options{
		Provider: ds.Kintsugi, DefaultBaseURL: "https://api.example.com/v1/", Credential: []string{"k"}, Secrets: []string{"secret-key"},
		Header:    http.Header{"X-Key": {"secret-key"}},
		Authorize: func(context.Context, *http.Request) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL.String() != "https://api.example.com/v1/" || c.HTTP == nil || c.Accept != "application/json" || c.ContentType != "application/json" {
		t.Errorf("defaults: base %v, client %v, accept %q, content type %q", c.BaseURL, c.HTTP, c.Accept, c.ContentType)
	}
	u := c.Unauthorized()
	if u.Authorize != nil || u.Header != nil || u.Secrets != c.Secrets || u.CredentialID() != c.CredentialID() || u.BaseURL != c.BaseURL || u.HTTP != c.HTTP {
		t.Errorf("Unauthorized = %+v", u)
	}
	if got := u.Secrets.Scrub("a secret-key here"); strings.Contains(got, "secret-key") {
		t.Errorf("the shared secrets do not scrub: %q", got)
	}
}
