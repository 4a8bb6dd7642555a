// Package telness is the client of the Telness Tech Connect API's Customers
// resource (https://docs.telnesstech.com/api-reference/customers): a customer
// list paged by an opaque nextCursor with a free-text search, single-customer
// lookups, and customer creation with X-Idempotency-Key. The API documents no
// customer update or delete (only PUT /customers/{id}/billing), no error body
// and no host: base_url is required and the error body is read defensively.
package telness

import (
	"errors"
	"net/http"
	"strings"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
)

const (
	// MaxLimit is the documented maximum of the list's limit (1 <= limit <= 1000).
	MaxLimit = 1000
	// DefaultLimit is what the client asks for when the caller gives no limit
	// (the API's own default is undocumented).
	DefaultLimit = 100
	// MaxTokenLength is the longest nextCursor the client replays; a longer
	// token cannot have come from this client and is refused without a call.
	MaxTokenLength = 1024
	// MaxIdempotencyKeyLength is the documented limit of X-Idempotency-Key.
	MaxIdempotencyKeyLength = 256
	// IdempotencyHeader carries the idempotency key of a write.
	IdempotencyHeader = "X-Idempotency-Key"
	// maxBatch is how many ids one GetCustomers call takes (they are fetched one by one).
	maxBatch = 100
	// lookupConcurrency bounds the parallel GET /customers/{id} of one GetCustomers.
	lookupConcurrency = 8
	// maxIDLength bounds a customer id the client puts in a path.
	maxIDLength = 256
)

// Config is the providers.telness block of the configuration.
type Config struct {
	// BaseURL is required: the Connect API's host is not documented.
	BaseURL string `yaml:"base_url"`
	// APIKey is sent as X-Api-Key.
	APIKey   string `yaml:"api_key"`
	Simulate bool   `yaml:"simulate"`
}

// Validate checks the configuration, naming the offending key.
func (c Config) Validate() error {
	if strings.TrimSpace(c.BaseURL) == "" {
		return errors.New("telness: base_url is required (the Connect API host is not documented)")
	}
	if err := rest.CheckBaseURL(ds.Telness, c.BaseURL, true); err != nil {
		return err
	}
	return rest.RequireHeaderValue(ds.Telness, "api_key", c.APIKey)
}

// Client is the Telness customer provider.
type Client struct {
	rc *rest.Client
	// newKey makes the idempotency key of one logical write.
	newKey func() string
}

var (
	_ ds.CustomerProvider = (*Client)(nil)
	_ ds.Credentialed     = (*Client)(nil)
	_ ds.CustomerWriter   = (*Client)(nil)
)

// New builds a client; a nil hc is replaced by a client with a 30 s timeout.
func New(cfg Config, hc *http.Client) (*Client, error) {
	key := cfg.APIKey
	rc, err := rest.NewClient(rest.Options{
		Provider: ds.Telness, Validate: cfg.Validate, BaseURL: cfg.BaseURL, HTTP: hc,
		Credential: []string{key}, Secrets: []string{key},
		Header:       http.Header{"X-Api-Key": {key}},
		ErrorMessage: errorMessage,
	})
	if err != nil {
		return nil, err
	}
	return &Client{rc: rc, newKey: randomKey}, nil
}

// ID is ds.Telness.
func (c *Client) ID() ds.ProviderID { return ds.Telness }

// CredentialID is rest's hash of base URL and key; never the key itself.
func (c *Client) CredentialID() string { return c.rc.CredentialID() }

// scanThreshold is how many ids make a list scan cheaper than single GETs;
// a scan reads at most one page per scanThreshold ids.
const scanThreshold = 4
