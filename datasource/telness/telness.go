// Package telness is the client of the Telness Tech Connect API's Customers
// resource (https://docs.telnesstech.com/api-reference/customers): a customer
// list paged by an opaque nextCursor with a free-text search, single-customer
// lookups, and customer creation with X-Idempotency-Key. The API documents no
// customer update or delete (only PUT /customers/{id}/billing), no error body
// and no host: base_url is required and the error body is read defensively.
package telness

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

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
	if _, err := rest.ParseBaseURL(ds.Telness, c.BaseURL); err != nil {
		return err
	}
	if strings.TrimSpace(c.APIKey) == "" {
		return errors.New("telness: api_key is required")
	}
	if strings.ContainsFunc(c.APIKey, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return errors.New("telness: api_key must not contain whitespace or control characters")
	}
	return nil
}

// Client is the Telness customer provider.
type Client struct {
	rc     *rest.Client
	credID string
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
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	u, err := rest.ParseBaseURL(ds.Telness, cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if hc == nil {
		hc = rest.DefaultHTTPClient()
	}
	key := cfg.APIKey
	sum := sha256.Sum256([]byte(strings.TrimRight(cfg.BaseURL, "/") + "\x00" + key))
	return &Client{
		credID: hex.EncodeToString(sum[:8]),
		newKey: randomKey,
		rc: &rest.Client{
			Provider: ds.Telness,
			BaseURL:  u,
			HTTP:     hc,
			Authorize: func(_ context.Context, r *http.Request) error {
				r.Header.Set("X-Api-Key", key)
				return nil
			},
			ErrorMessage: errorMessage,
			Secrets:      rest.NewSecrets(key),
			Accept:       "application/json",
			ContentType:  "application/json",
		},
	}, nil
}

// ID is ds.Telness.
func (c *Client) ID() ds.ProviderID { return ds.Telness }

// CredentialID is a short hash of base URL and key; never the key itself.
func (c *Client) CredentialID() string { return c.credID }

// listResponse is the documented envelope; it carries no total.
type listResponse struct {
	Items      customerItems `json:"items"`
	Pagination *struct {
		NextCursor *string `json:"nextCursor"`
	} `json:"pagination"`
}

// ListCustomers returns one page of GET /customers in native order. The
// token is Telness's opaque nextCursor, replayed unchanged.
func (c *Client) ListCustomers(ctx context.Context, req ds.ListRequest[ds.Filter]) (ds.Page[*ds.Customer], error) {
	var page ds.Page[*ds.Customer]
	if req.Order != nil {
		return page, Caps.CanOrder(*req.Order)
	}
	if req.Token != "" {
		if err := checkToken(req.Token); err != nil {
			return page, ds.Errorf(ds.CodeBadUserInput, "invalid page token for %s: %s", ds.Telness, err)
		}
	}
	q := url.Values{}
	q.Set("limit", strconv.Itoa(clampLimit(req.Limit)))
	if req.Token != "" {
		q.Set("cursor", req.Token)
	}
	// search is documented only as "a free text search string": whatever it
	// matches, the records matching the email (or the search) are among them,
	// and the caller post-filters with Filter.Match. When both are set the
	// email is the narrower of the two. country: no native filter, nothing sent.
	switch {
	case req.Filter.Email != nil && *req.Filter.Email != "":
		q.Set("search", *req.Filter.Email)
	case req.Filter.Search != nil && *req.Filter.Search != "":
		q.Set("search", *req.Filter.Search)
	}
	var resp listResponse
	// a cursor came from the caller's (gateway) cursor
	r, err := c.rc.Do(ctx, rest.Request{Method: http.MethodGet, Path: "/customers", Query: q, CallerInput: req.Token != "", List: true}, &resp)
	if err != nil {
		return page, err
	}
	if !resp.Items.present && !emptyEnvelope(r.Body) {
		return page, unreadable("a customer list without items")
	}
	if resp.Items.notArray {
		return page, unreadable("a customer list whose items are not an array")
	}
	items, err := mapCustomers(resp.Items.list)
	if err != nil {
		return page, err
	}
	page.Items = items
	// The list ends when nextCursor is absent, null or "", and also on an
	// empty page (a vendor that hands out a cursor with nothing before it
	// would otherwise be walked forever).
	if resp.Pagination != nil && resp.Pagination.NextCursor != nil && *resp.Pagination.NextCursor != "" && len(items) > 0 {
		next := *resp.Pagination.NextCursor
		if err := checkToken(next); err != nil {
			return page, unreadable("a nextCursor this gateway cannot carry: " + err.Error())
		}
		page.Next = next
	}
	return page, nil
}

// emptyEnvelope reports whether a list body without items is still the
// documented envelope: a JSON object with nothing but pagination (`{}`,
// `{"pagination":{}}`). The docs show items in their example but do not
// promise it is sent when there are none (a serializer omitting empty
// arrays drops it); that is an empty page, and so the end of the list. Any
// other object without items is not this API's envelope.
func emptyEnvelope(body []byte) bool {
	var env map[string]json.RawMessage
	if json.Unmarshal(body, &env) != nil || env == nil {
		return false
	}
	for k := range env {
		if k != "pagination" {
			return false
		}
	}
	return true
}

// GetCustomers fetches GET /customers/{customerId} one id at a time, at most
// eight at once (the API has no bulk lookup). A 404 means the id is absent;
// ids that cannot be a Telness id in a path are absent without a call.
func (c *Client) GetCustomers(ctx context.Context, ids []string) ([]*ds.Customer, error) {
	seen := map[string]bool{}
	var todo []string
	for _, id := range ids {
		if seen[id] || checkID(id) != nil {
			continue
		}
		seen[id] = true
		todo = append(todo, id)
	}
	if len(todo) > scanThreshold {
		// Telness has no bulk id filter but pages up to 1000: reading the
		// list costs far fewer calls than a GET per id. The scan is bounded;
		// ids it did not reach fall back to single GETs.
		got, rest, err := ds.LookupByScan(ctx, func(ctx context.Context, token string) (ds.Page[*ds.Customer], error) {
			return c.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Token: token, Limit: MaxLimit})
		}, todo, max(1, len(todo)/scanThreshold))
		if err != nil {
			return nil, err
		}
		if len(rest) == 0 {
			return got, nil
		}
		more, err := c.getEach(ctx, rest)
		return append(got, more...), err
	}
	return c.getEach(ctx, todo)
}

// scanThreshold is how many ids make a list scan cheaper than single GETs;
// a scan reads at most one page per scanThreshold ids.
const scanThreshold = 4

// getEach looks ids up one GET each, a few at a time.
func (c *Client) getEach(ctx context.Context, todo []string) ([]*ds.Customer, error) {
	found := make([]*ds.Customer, len(todo))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(lookupConcurrency)
	for i, id := range todo {
		g.Go(func() error {
			cu, err := c.getCustomer(gctx, id)
			if ds.IsNotFound(err) {
				return nil
			}
			if err != nil {
				return err
			}
			found[i] = cu
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := make([]*ds.Customer, 0, len(found))
	for _, cu := range found {
		if cu != nil {
			out = append(out, cu)
		}
	}
	return out, nil
}

func (c *Client) getCustomer(ctx context.Context, id string) (*ds.Customer, error) {
	var raw json.RawMessage
	if _, err := c.rc.Do(ctx, rest.Request{Method: http.MethodGet, Path: "/customers/" + id}, &raw); err != nil {
		return nil, err
	}
	return mapCustomer(raw)
}

// CreateCustomer is POST /customers with an X-Idempotency-Key, reused by the
// transport's retries so a retried create never makes two customers: the
// key derived from the caller's idempotency key (ds.WriteKey), so a repeat
// of the mutation (another request, another replica) is the same write at
// Telness too, else a fresh one. A create whose answer was still lost after
// the retries is UNCERTAIN: a repeat with the same key settles it.
func (c *Client) CreateCustomer(ctx context.Context, in ds.CustomerInput) (*ds.Customer, error) {
	key, ok := ds.WriteKey(ctx)
	if ok {
		key = "gw-" + key
	} else {
		key = c.newKey()
	}
	if key == "" || len(key) > MaxIdempotencyKeyLength {
		return nil, ds.ProviderErrorf(ds.Telness, ds.CodeInternal, "could not make an idempotency key for %s", ds.Telness)
	}
	h := http.Header{}
	h.Set(IdempotencyHeader, key)
	var raw json.RawMessage
	if _, err := c.rc.Do(ctx, rest.Request{Method: http.MethodPost, Path: "/customers", Body: createBody(in), Header: h, Idempotent: true}, &raw); err != nil {
		if ds.AnswerLost(err) {
			return nil, ds.WithOutcome(err, ds.OutcomeUncertain)
		}
		return nil, err
	}
	return mapCustomer(raw)
}

// UpdateCustomer is not in the Connect API: the only customer write after
// creation is PUT /customers/{id}/billing, which replaces the whole billing
// configuration (method, currency, payment profile, autopay) and cannot change
// name, email, phone, type, locale or metadata; sending it for an address or
// email change would reset billing settings the input does not carry.
func (c *Client) UpdateCustomer(context.Context, string, ds.CustomerInput) (*ds.Customer, error) {
	return nil, ds.ProviderErrorf(ds.Telness, ds.CodeUnsupportedByProvider,
		"%s cannot update customers: the Connect API has no customer update (only PUT /customers/{id}/billing, which replaces the billing configuration)", ds.Telness)
}

// DeleteCustomer is not in the Connect API.
func (c *Client) DeleteCustomer(context.Context, string) error {
	return ds.ProviderErrorf(ds.Telness, ds.CodeUnsupportedByProvider,
		"%s cannot delete customers: the Connect API has no customer delete", ds.Telness)
}

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}

// checkToken is all the client may know about an opaque cursor: it is not
// longer than MaxTokenLength bytes and has no control characters.
func checkToken(tok string) error {
	switch {
	case len(tok) > MaxTokenLength:
		return fmt.Errorf("longer than %d bytes", MaxTokenLength)
	case strings.ContainsFunc(tok, unicode.IsControl):
		return errors.New("contains control characters")
	}
	return nil
}

// checkID refuses ids that cannot be one path segment of GET /customers/{id}.
func checkID(id string) error {
	switch {
	case id == "" || id == "." || id == "..":
		return errors.New("empty")
	case len(id) > maxIDLength:
		return fmt.Errorf("longer than %d bytes", maxIDLength)
	case !utf8.ValidString(id):
		return errors.New("not valid UTF-8")
	case strings.ContainsFunc(id, unicode.IsControl) || strings.Contains(id, "/"):
		return errors.New("not usable as a path segment")
	}
	return nil
}

// randomKey is 32 hex characters from crypto/rand.
func randomKey() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return ""
	}
	return hex.EncodeToString(b[:])
}

func unreadable(what string) error {
	p := ds.Telness
	return &ds.Error{Code: ds.CodeProviderUnavailable, Provider: &p,
		Message: "the provider sent a response this gateway cannot read", Err: errors.New("telness: " + what)}
}

// errorMessage reads error.message of the (undocumented, assumed) body
// {"error":{"code":"…","message":"…"}}. Any other JSON, a non-JSON or an
// empty body gives "": the status alone then decides the error code.
func errorMessage(_ int, body []byte) string {
	var env struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &env) != nil || len(env.Error) == 0 {
		return ""
	}
	var e struct {
		Message json.RawMessage `json:"message"`
	}
	if json.Unmarshal(env.Error, &e) != nil || len(e.Message) == 0 {
		return ""
	}
	var msg string
	if json.Unmarshal(e.Message, &msg) != nil {
		return ""
	}
	msg = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, msg)
	return strings.TrimSpace(msg)
}
