// Package digitalriver is the client of the Digital River API's Customers
// resource (https://docs.digitalriver.com/digital-river-api-reference): a
// cursor-paginated customer list (startingAfter = the id to start after),
// bulk lookup by ids, full CRUD and payment-source attach/detach.
package digitalriver

import (
	"context"
	"net/http"
	"strings"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
)

const (
	// DefaultBaseURL is the documented base; paths sit at its root (/customers).
	DefaultBaseURL = "https://api.digitalriver.com"
	// MaxLimit is the documented maximum of the list's limit parameter.
	MaxLimit = 100
	// DefaultLimit is the list's documented default page size.
	DefaultLimit = 10
	// MaxIDLength is the longest customer id Digital River accepts (longer is a 400).
	MaxIDLength = 40
	// maxBatch is how many ids one bulk lookup (ids=a,b,c) carries: one full page.
	maxBatch = MaxLimit
)

// Config is the providers.digitalriver block of the configuration.
type Config struct {
	// BaseURL defaults to DefaultBaseURL when empty.
	BaseURL string `yaml:"base_url"`
	// APIKey is the confidential (secret) key; it also selects test or live mode.
	APIKey   string `yaml:"api_key"`
	Simulate bool   `yaml:"simulate"`
}

// Quota is Digital River's documented limit, 250 requests per second live
// and 25 with a test key (sk_test_…), as a bucket that stays under it in
// any second with headroom for requests that arrive bunched (a token taken
// now may be sent a little later than the next one): 200/s with bursts of
// 25 live (<= 225 in any second), 18/s with bursts of 1 in test (<= 19).
func (c Config) Quota() rest.Quota {
	if strings.HasPrefix(c.APIKey, "sk_test_") {
		return rest.Quota{Rate: 18, Burst: 1}
	}
	return rest.Quota{Rate: 200, Burst: 25}
}

// Validate checks the configuration, naming the offending key.
func (c Config) Validate() error {
	if err := rest.RequireHeaderValue(ds.DigitalRiver, "api_key", c.APIKey); err != nil {
		return err
	}
	return rest.CheckBaseURL(ds.DigitalRiver, c.BaseURL, false)
}

// Client is the Digital River customer provider.
type Client struct {
	rc *rest.Client
}

var (
	_ ds.CustomerProvider = (*Client)(nil)
	_ ds.Credentialed     = (*Client)(nil)
	_ ds.CustomerWriter   = (*Client)(nil)
	_ ds.SourceAttacher   = (*Client)(nil)
)

// New builds a client; a nil hc is replaced by a client with a 30 s timeout.
func New(cfg Config, hc *http.Client) (*Client, error) {
	key := cfg.APIKey
	rc, err := rest.NewClient(rest.Options{
		Provider: ds.DigitalRiver, Validate: cfg.Validate, BaseURL: cfg.BaseURL, DefaultBaseURL: DefaultBaseURL, HTTP: hc,
		Credential: []string{key}, Secrets: []string{key},
		Header: http.Header{"Authorization": {"Bearer " + key}},
		Authorize: func(_ context.Context, r *http.Request) error {
			finish(r)
			return nil
		},
		ErrorMessage: errorMessage,
	})
	if err != nil {
		return nil, err
	}
	return &Client{rc: rc}, nil
}

// ID is ds.DigitalRiver.
func (c *Client) ID() ds.ProviderID { return ds.DigitalRiver }

// CredentialID is rest's hash of base URL and key; never the key itself.
func (c *Client) CredentialID() string { return c.rc.CredentialID() }

// FetchedAlone reports an id GetCustomers looks up with a call of its
// own: a comma cannot be expressed in the comma-separated ids filter.
func FetchedAlone(id string) bool { return strings.Contains(id, ",") }

// ListBefore reads backward with endingBefore (Caps.Backward is ds.BackwardNative). The
// position (token, skip) is "skip records after the customer token"; the
// records between the token and the position are read first
// (startingAfter=token, limit=skip, when skip > 0), then endingBefore the
// first of them (or the token's own record, looked up, when there are none)
// asks for the rest, one extra to learn the position before the first
// returned. That read is capped at MaxLimit like every list call (a caller's
// limit can be a little over it); only a short page is the start of the list.
func (c *Client) ListBefore(ctx context.Context, _ ds.Filter, token string, skip, limit int) ([]*ds.Customer, []ds.Position, ds.Position, bool, error) {
	var zero ds.Position
	if limit <= 0 {
		return nil, nil, zero, false, nil
	}
	// list reads one page of at most n (<= MaxLimit) records; a
	// startingAfter/endingBefore id came from the caller's cursor, so a
	// vendor 4xx on it is the caller's bad input.
	list := func(n int, key, id string) ([]*ds.Customer, error) {
		q := listQuery(n)
		if id != "" {
			q.Set(key, id)
		}
		items, _, err := c.listPage(ctx, q, n, token != "")
		return items, err
	}
	if token != "" {
		if err := checkID(token); err != nil {
			return nil, nil, zero, false, ds.Errorf(ds.CodeBadUserInput, "invalid page token for %s: %s", ds.DigitalRiver, err)
		}
	}
	// The records between the token and the position (skip <= MaxLimit: a
	// position's skip never exceeds one page).
	var tail []*ds.Customer
	if skip > 0 {
		items, err := list(min(skip, MaxLimit), "startingAfter", token)
		if err != nil {
			return nil, nil, zero, false, err
		}
		tail = items[:min(len(items), skip)]
	}
	if len(tail) >= limit {
		out := tail[len(tail)-limit:]
		start := ds.Position{Provider: ds.DigitalRiver, Token: token, Skip: skip - limit}
		return out, afterEach(out), start, token == "" && start.Skip == 0, nil
	}
	if token == "" {
		return tail, afterEach(tail), ds.Position{Provider: ds.DigitalRiver}, true, nil
	}
	// The records before the first of the tail include the token's own; with
	// no tail, the token's record is looked up to anchor on.
	collected := tail
	if len(collected) == 0 {
		self, err := c.GetCustomers(ctx, []string{token})
		if err != nil {
			return nil, nil, zero, false, err
		}
		if len(self) == 0 {
			return nil, nil, ds.Position{Provider: ds.DigitalRiver}, true, nil // the record is gone: nothing to anchor on
		}
		collected = self
	}
	// Then the records before the first collected, one extra to learn the
	// position before the first returned.
	n := min(limit-len(collected)+1, MaxLimit)
	earlier, err := list(n, "endingBefore", collected[0].ProviderID)
	if err != nil {
		return nil, nil, zero, false, err
	}
	all := append(earlier, collected...)
	if len(earlier) < n {
		return all, afterEach(all), ds.Position{Provider: ds.DigitalRiver}, true, nil // a short page: the start of the list
	}
	// A full page: its first record is the one before those returned.
	keep := min(limit, len(all)-1)
	start := ds.Position{Provider: ds.DigitalRiver, Token: all[len(all)-keep-1].ProviderID}
	all = all[len(all)-keep:]
	return all, afterEach(all), start, false, nil
}

// afterEach is the position right after each record: startingAfter its id.
func afterEach(cs []*ds.Customer) []ds.Position {
	out := make([]ds.Position, len(cs))
	for i, c := range cs {
		out[i] = ds.Position{Provider: ds.DigitalRiver, Token: c.ProviderID}
	}
	return out
}
