// Package commercelayer is the client of Commerce Layer's customers resource
// (JSON:API, https://docs.commercelayer.io/core): page[number]/page[size]
// pagination (size at most 25), Ransack filters (filter[q][attr_predicate]),
// sort, bulk lookup with filter[q][id_in], and create/update/delete. Tokens
// come from a static access_token or from OAuth2 client credentials.
package commercelayer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
)

const (
	// DefaultTokenURL is where client credentials are exchanged for a token
	// for an organization at *.commercelayer.io.
	DefaultTokenURL = "https://auth.commercelayer.io/oauth/token"
	// MaxPageSize is the documented maximum of page[size].
	MaxPageSize = 25
	// DefaultPageSize is the documented page[size] when none is sent.
	DefaultPageSize = 10
	// MediaType is JSON:API's media type: Accept on every call (else 406),
	// Content-Type on writes (else 415).
	MediaType = "application/vnd.api+json"
	// maxIDLength bounds ids the client sends; Commerce Layer's are 10 characters.
	maxIDLength = 64
	// maxOffset bounds a page token: a larger offset was never issued.
	maxOffset = 1_000_000_000
)

// Config is the providers.commercelayer block of the configuration. Set
// either access_token (a ready token; it cannot be renewed, so a 401 is
// final) or client_id and client_secret (tokens are fetched from token_url
// and renewed after a 401). token_url and scope are only used with client
// credentials.
type Config struct {
	// BaseURL is the organization's API base, https://{organization}.commercelayer.io/api;
	// the client appends /customers. The organization URL without /api
	// (what users paste from the dashboard) means the same.
	BaseURL string `yaml:"base_url"`
	// AccessToken is a ready bearer token.
	AccessToken string `yaml:"access_token"` // security: secret; never logged or printed (see String)
	// ClientID and ClientSecret are an integration's client credentials.
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"` // security: secret; never logged or printed (see String)
	// TokenURL defaults to DefaultTokenURL for a base_url at
	// *.commercelayer.io and to /oauth/token beside the base_url's /api
	// elsewhere (see tokenURLFor).
	TokenURL string `yaml:"token_url"`
	// Scope is optional (e.g. market:id:xyz).
	Scope    string `yaml:"scope"`
	Simulate bool   `yaml:"simulate"`
}

// Quota is Commerce Layer's documented limit for uncacheable reads (live):
// 50 per 10 s burst and 200 per minute. A bucket of 2.5/s with bursts of 15
// stays under both with headroom (15+25 = 40 per 10 s, 15+150 = 165 per minute).
func (c Config) Quota() rest.Quota { return rest.Quota{Rate: 2.5, Burst: 15} }

// Validate checks the configuration, naming the offending key.
func (c Config) Validate() error {
	if err := rest.CheckBaseURL(ds.CommerceLayer, c.BaseURL, true); err != nil {
		return err
	}
	hasToken := c.AccessToken != ""
	hasClient := c.ClientID != "" || c.ClientSecret != ""
	switch {
	case !hasToken && !hasClient:
		return errors.New("commercelayer: set access_token or client_id and client_secret")
	case hasToken && hasClient:
		return errors.New("commercelayer: set access_token or client_id and client_secret, not both")
	case hasClient && c.ClientID == "":
		return errors.New("commercelayer: client_id is required with client_secret")
	case hasClient && c.ClientSecret == "":
		return errors.New("commercelayer: client_secret is required with client_id")
	}
	for _, kv := range [][2]string{{"access_token", c.AccessToken}, {"client_id", c.ClientID}, {"client_secret", c.ClientSecret}} {
		if err := rest.CheckHeaderValue(ds.CommerceLayer, kv[0], kv[1]); err != nil {
			return err
		}
	}
	if c.TokenURL != "" {
		if _, err := rest.ParseBaseURL(ds.CommerceLayer, c.TokenURL); err != nil {
			return fmt.Errorf("commercelayer: token_url %q must be an absolute http(s) URL", c.TokenURL)
		}
	}
	return nil
}

// String describes the configuration without its secrets.
// security: %v, %s and %+v of a Config never print access_token or client_secret.
func (c Config) String() string {
	auth := "client_credentials"
	if c.AccessToken != "" {
		auth = "access_token"
	}
	return fmt.Sprintf("commercelayer.Config{base_url: %q, auth: %s, client_id: %q, token_url: %q, scope: %q, simulate: %t}",
		c.BaseURL, auth, c.ClientID, c.TokenURL, c.Scope, c.Simulate)
}

// GoString is String, so %#v does not print the secrets either.
func (c Config) GoString() string { return c.String() }

// LogValue keeps the secrets out of slog output.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Client is the Commerce Layer customer provider.
type Client struct {
	rc     *rest.Client
	tokens *tokenSource // nil with a static access token
}

var (
	_ ds.CustomerProvider = (*Client)(nil)
	_ ds.Credentialed     = (*Client)(nil)
	_ ds.CustomerWriter   = (*Client)(nil)
)

// New builds a client; a nil hc is replaced by a client with a 30 s timeout.
func New(cfg Config, hc *http.Client) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	base, err := rest.ParseBaseURL(ds.CommerceLayer, apiBase(cfg.BaseURL))
	if err != nil {
		return nil, err
	}
	c := &Client{}
	o := rest.Options{
		Provider: ds.CommerceLayer, BaseURL: base.String(), HTTP: hc,
		Credential: []string{"access_token", cfg.AccessToken}, // security: only its hash is kept (CredentialID)
		Secrets:    []string{cfg.AccessToken, cfg.ClientSecret},
		Authorize: func(ctx context.Context, r *http.Request) error {
			tok := cfg.AccessToken
			if c.tokens != nil {
				var err error
				if tok, err = c.tokens.token(ctx); err != nil {
					return err
				}
			}
			r.Header.Set("Authorization", "Bearer "+tok) // security: the token goes only to base_url
			return nil
		},
		ErrorMessage: errorMessage,
		Accept:       MediaType,
		ContentType:  MediaType,
	}
	tokenURL := cfg.TokenURL
	if cfg.AccessToken == "" {
		if tokenURL == "" {
			tokenURL = tokenURLFor(base)
		}
		o.Credential = []string{"client_credentials", tokenURL, cfg.ClientID, cfg.ClientSecret, cfg.Scope}
	}
	if c.rc, err = rest.NewClient(o); err != nil {
		return nil, err
	}
	if cfg.AccessToken == "" {
		c.tokens = &tokenSource{url: tokenURL, hc: c.rc.HTTP, secrets: c.rc.Secrets, req: tokenRequest{
			GrantType: "client_credentials", ClientID: cfg.ClientID,
			ClientSecret: cfg.ClientSecret, // security: sent only to the token endpoint
			Scope:        cfg.Scope,
		}}
		c.rc.Reauthorize = c.tokens.drop
	}
	return c, nil
}

// apiBase is base with the /api suffix every Commerce Layer API path
// starts with, added when missing.
func apiBase(base string) string {
	b := strings.TrimRight(strings.TrimSpace(base), "/")
	if i := strings.IndexAny(b, "?#"); i >= 0 {
		return base // ParseBaseURL says what is wrong with it
	}
	if strings.HasSuffix(b, "/api") {
		return b
	}
	return b + "/api"
}

// tokenURLFor is the token endpoint when token_url is not set. The docs name
// two: https://auth.commercelayer.io/oauth/token (current) and
// https://{organization}.commercelayer.io/oauth/token (older). An
// organization at *.commercelayer.io uses the current one; a base_url
// anywhere else is not Commerce Layer's cloud, whose auth host cannot issue
// tokens for it, so its tokens come from beside its /api, the older form.
func tokenURLFor(base *url.URL) string {
	if h := strings.ToLower(base.Hostname()); h == "commercelayer.io" || strings.HasSuffix(h, ".commercelayer.io") {
		return DefaultTokenURL
	}
	u := url.URL{Scheme: base.Scheme, Host: base.Host, Path: strings.TrimSuffix(strings.TrimRight(base.Path, "/"), "/api") + "/oauth/token"}
	return u.String()
}

// ID is ds.CommerceLayer.
func (c *Client) ID() ds.ProviderID { return ds.CommerceLayer }

// CredentialID is rest's hash of base URL and credential; never the secret.
func (c *Client) CredentialID() string { return c.rc.CredentialID() }
