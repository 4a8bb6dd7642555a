// Package kintsugi is the client of the Kintsugi tax platform's Customers API
// (https://docs.trykintsugi.com, OpenAPI "Tax Platform"): a page/size
// paginated customer list with an exact total, single-record lookups (no bulk
// id filter), create and update (no delete).
package kintsugi

import (
	"net/http"

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
	if err := rest.RequireHeaderValue(ds.Kintsugi, "api_key", c.APIKey); err != nil {
		return err
	}
	if err := rest.RequireHeaderValue(ds.Kintsugi, "organization_id", c.OrganizationID); err != nil {
		return err
	}
	return rest.CheckBaseURL(ds.Kintsugi, c.BaseURL, false)
}

// Quota is Kintsugi's documented limit, 10,000 requests per minute, as a
// bucket that stays under it in any minute with headroom: 150/s with bursts
// of 300 (<= 9,300 per minute).
func (c Config) Quota() rest.Quota { return rest.Quota{Rate: 150, Burst: 300} }

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
	key, org := cfg.APIKey, cfg.OrganizationID
	rc, err := rest.NewClient(rest.Options{
		Provider: ds.Kintsugi, Validate: cfg.Validate, BaseURL: cfg.BaseURL, DefaultBaseURL: DefaultBaseURL, HTTP: hc,
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
