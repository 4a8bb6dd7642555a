package rest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
)

// Options is what a vendor package says about its client: where it is
// (configured and documented base URL), who the gateway is there
// (Credential, Secrets) and the vendor's dialect (auth, error body, media
// type). NewClient is the one way to turn them into a Client, so every
// vendor validates, defaults and names its credential alike.
type Options struct {
	Provider ds.ProviderID
	// Validate is the vendor's Config.Validate, run before anything else.
	Validate func() error
	// BaseURL is the configured base; "" takes DefaultBaseURL.
	BaseURL string
	// DefaultBaseURL is the vendor's documented base; "" when it has none
	// (BaseURL is then required).
	DefaultBaseURL string
	// HTTP is the client calls go through; nil is DefaultHTTPClient().
	HTTP *http.Client
	// Credential is what identifies the configured credential, in a fixed
	// order (a kind, keys, tokens, login parts). Only its hash is kept
	// (CredentialID).
	Credential []string
	// Secrets are scrubbed from every error and log line; more can be
	// added at run time (Client.Secrets.Add, for fetched tokens).
	Secrets []string
	// Header is the static credential headers (an API key), set on every
	// request; Authorize is for credentials that need code (a token fetched
	// first, a signature).
	Header http.Header

	Authorize    func(ctx context.Context, r *http.Request) error
	Reauthorize  func()
	ErrorMessage func(status int, body []byte) string
	// Accept and ContentType default to application/json.
	Accept, ContentType string
	BaseBackoff         time.Duration
	Log                 *slog.Logger
}

// NewClient checks and parses the base URL once (after its default), fills
// in the defaults and computes the credential id.
func NewClient(o Options) (*Client, error) {
	if o.Validate != nil {
		if err := o.Validate(); err != nil {
			return nil, err
		}
	}
	base := o.BaseURL
	if base == "" {
		base = o.DefaultBaseURL
	}
	if strings.TrimSpace(base) == "" {
		return nil, fmt.Errorf("%s: base_url is required", o.Provider.Key())
	}
	u, err := ParseBaseURL(o.Provider, base)
	if err != nil {
		return nil, err
	}
	hc := o.HTTP
	if hc == nil {
		hc = DefaultHTTPClient()
	}
	accept, ct := o.Accept, o.ContentType
	if accept == "" {
		accept = "application/json"
	}
	if ct == "" {
		ct = "application/json"
	}
	return &Client{
		Provider:     o.Provider,
		BaseURL:      u,
		HTTP:         hc,
		Header:       o.Header,
		Authorize:    o.Authorize,
		Reauthorize:  o.Reauthorize,
		ErrorMessage: o.ErrorMessage,
		Accept:       accept,
		ContentType:  ct,
		BaseBackoff:  o.BaseBackoff,
		Log:          o.Log,
		Secrets:      NewSecrets(o.Secrets...),
		credID:       credentialID(o.Provider, u, o.Credential),
	}, nil
}

// Unauthorized is a client for the same vendor, base URL and secrets that
// sends no credentials (a login endpoint); a secret either learns is
// scrubbed by both.
func (c *Client) Unauthorized() *Client {
	return &Client{
		Provider: c.Provider, BaseURL: c.BaseURL, HTTP: c.HTTP, ErrorMessage: c.ErrorMessage,
		Accept: c.Accept, ContentType: c.ContentType, Retries: c.Retries, BaseBackoff: c.BaseBackoff,
		Log: c.Log, Secrets: c.Secrets, credID: c.credID,
	}
}

// CredentialID names the configured credential: the cache and the
// idempotency store key a vendor's records by it, so it only has to be
// stable for one configuration and differ for another key, account or
// base URL. It never reveals the secret.
func (c *Client) CredentialID() string { return c.credID }

// credentialID is the one recipe: SHA-256 over the provider's key, the
// base URL as parsed after its default (without a trailing slash, so the
// two spellings are one identity) and the credential's parts, each
// length-prefixed so no two part lists hash alike; the first 8 bytes, hex.
func credentialID(p ds.ProviderID, base *url.URL, parts []string) string {
	h := sha256.New()
	var n [8]byte
	for _, s := range append([]string{p.Key(), strings.TrimRight(base.String(), "/")}, parts...) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil)[:8]) // security: a truncated one-way hash is all that leaves; never a secret
}

// ParseBaseURL checks a configured base URL.
func ParseBaseURL(p ds.ProviderID, s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s: base_url %q must be an absolute http(s) URL", p.Key(), s)
	}
	return u, nil
}
