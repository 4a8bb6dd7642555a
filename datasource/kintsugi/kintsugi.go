// Package kintsugi is the client of the Kintsugi tax platform's Customers API
// (https://docs.trykintsugi.com, OpenAPI "Tax Platform"): a page/size
// paginated customer list with an exact total, single-record lookups (no bulk
// id filter), create and update (no delete).
package kintsugi

import (
	"errors"
	"net/http"
	"strings"
	"unicode"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
)

const (
	// DefaultBaseURL is the documented base; the paths (/v1/customers) sit at its root.
	DefaultBaseURL = "https://api.trykintsugi.com"
	// MaxSize is the documented maximum of the list's size parameter.
	MaxSize = 100
	// DefaultSize is the list's documented default page size.
	DefaultSize = 50
	// maxBatch is what one GetCustomers call should get: Kintsugi has no bulk
	// id filter, so this is only the dataloader's cap; lookups are single GETs.
	maxBatch = 100
	// lookupConcurrency bounds the single GETs of one GetCustomers call.
	lookupConcurrency = 8
	// HeaderAPIKey and HeaderOrganization are the two documented auth headers.
	HeaderAPIKey       = "X-API-KEY"
	HeaderOrganization = "x-organization-id"

	customersPath = "/v1/customers"
)

// Config is the providers.kintsugi block of the configuration.
type Config struct {
	// BaseURL defaults to DefaultBaseURL when empty.
	BaseURL string `yaml:"base_url"`
	// APIKey is sent as X-API-KEY.
	APIKey string `yaml:"api_key"`
	// OrganizationID (orgn_…) is sent as x-organization-id.
	OrganizationID string `yaml:"organization_id"`
	Simulate       bool   `yaml:"simulate"`
}

// Validate checks the configuration, naming the offending key.
func (c Config) Validate() error {
	if strings.TrimSpace(c.APIKey) == "" {
		return errors.New("kintsugi: api_key is required")
	}
	if !headerSafe(c.APIKey) {
		return errors.New("kintsugi: api_key must not contain whitespace or control characters")
	}
	if strings.TrimSpace(c.OrganizationID) == "" {
		return errors.New("kintsugi: organization_id is required")
	}
	if !headerSafe(c.OrganizationID) {
		return errors.New("kintsugi: organization_id must not contain whitespace or control characters")
	}
	if c.BaseURL != "" {
		if _, err := rest.ParseBaseURL(ds.Kintsugi, c.BaseURL); err != nil {
			return err
		}
	}
	return nil
}

// Quota is Kintsugi's documented limit, 10,000 requests per minute, as a
// bucket that stays under it in any minute with headroom: 150/s with bursts
// of 300 (<= 9,300 per minute).
func (c Config) Quota() rest.Quota { return rest.Quota{Rate: 150, Burst: 300} }

func headerSafe(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
}

// Client is the Kintsugi customer provider.
type Client struct {
	rc *rest.Client
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
	key, org := cfg.APIKey, cfg.OrganizationID
	rc, err := rest.NewClient(rest.Options{
		Provider: ds.Kintsugi, BaseURL: cfg.BaseURL, DefaultBaseURL: DefaultBaseURL, HTTP: hc,
		Credential:   []string{org, key},
		Secrets:      []string{key, org}, // the organization id is sent as a credential header too
		Header:       http.Header{HeaderAPIKey: {key}, HeaderOrganization: {org}},
		ErrorMessage: ErrorMessage,
	})
	if err != nil {
		return nil, err
	}
	return &Client{rc: rc}, nil
}

// ID is ds.Kintsugi.
func (c *Client) ID() ds.ProviderID { return ds.Kintsugi }

// CredentialID is rest's hash of base URL, organization and key; never the key itself.
func (c *Client) CredentialID() string { return c.rc.CredentialID() }

// MaxBatch is the dataloader's cap: Kintsugi has no bulk id filter, so
// GetCustomers makes one GET per id with bounded concurrency.
func (c *Client) MaxBatch() int { return maxBatch }

// BulkLookup is false: the API has no bulk id filter, so lookups cost a call per id.
func (c *Client) BulkLookup() bool { return false }

// CanFilter: every federated filter can be served. Country is native and
// exact; search and email go out as search_query, which searches name "and
// other details" and so returns a superset the caller post-filters.
func (c *Client) CanFilter(ds.Filter) error { return nil }

// NativeSearch: filter.search is narrowed by search_query, documented only
// as a search of name and other details (case, not accents, in practice).
func (c *Client) NativeSearch() bool { return true }

// CanOrder: no federated order can be served natively. Kintsugi's customer
// schema has no created_at/updated_at (order_by's example names created_at,
// but records do not carry it), and how order_by sorts name or email
// (collation, case, descending syntax) is not documented.
func (c *Client) CanOrder(o ds.Order) error {
	return ds.ProviderErrorf(ds.Kintsugi, ds.CodeUnsupportedByProvider,
		"%s cannot order customers by %s: its customer records have no created_at/updated_at and the order_by semantics for name and email are not documented",
		ds.Kintsugi, o.Field)
}

func unreadable(what string) error {
	p := ds.Kintsugi
	return &ds.Error{Code: ds.CodeProviderUnavailable, Provider: &p, Message: "the provider sent a response this gateway cannot read: " + what}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// NextIsExact is true: a next page token is issued only when page < pages says records follow.
func (c *Client) NextIsExact() bool { return true }

// OffsetToken and TokenOffset make the client a ds.OffsetPager: its tokens
// are absolute offsets, so it pages backward by arithmetic.
func (c *Client) OffsetToken(n int) string { return ds.OffsetToken(n) }

// TokenOffset reads a token this client issued.
func (c *Client) TokenOffset(token string) (int, error) { return parseToken(token) }
