// Package digitalriver is the client of the Digital River API's Customers
// resource (https://docs.digitalriver.com/digital-river-api-reference): a
// cursor-paginated customer list (startingAfter = the id to start after),
// bulk lookup by ids, full CRUD and payment-source attach/detach.
package digitalriver

import (
	"context"
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
	if strings.TrimSpace(c.APIKey) == "" {
		return errors.New("digitalriver: api_key is required")
	}
	if strings.ContainsFunc(c.APIKey, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return errors.New("digitalriver: api_key must not contain whitespace or control characters")
	}
	if c.BaseURL != "" {
		if _, err := rest.ParseBaseURL(ds.DigitalRiver, c.BaseURL); err != nil {
			return err
		}
	}
	return nil
}

// Client is the Digital River customer provider.
type Client struct {
	rc     *rest.Client
	credID string
}

var (
	_ ds.CustomerProvider = (*Client)(nil)
	_ ds.Credentialed     = (*Client)(nil)
	_ ds.CustomerWriter   = (*Client)(nil)
	_ ds.SourceAttacher   = (*Client)(nil)
)

// New builds a client; a nil hc is replaced by a client with a 30 s timeout.
func New(cfg Config, hc *http.Client) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := rest.ParseBaseURL(ds.DigitalRiver, base)
	if err != nil {
		return nil, err
	}
	if hc == nil {
		hc = rest.DefaultHTTPClient()
	}
	key := cfg.APIKey
	sum := sha256.Sum256([]byte(strings.TrimRight(base, "/") + "\x00" + key))
	return &Client{
		credID: hex.EncodeToString(sum[:8]),
		rc: &rest.Client{
			Provider: ds.DigitalRiver,
			BaseURL:  u,
			HTTP:     hc,
			Authorize: func(_ context.Context, r *http.Request) error {
				r.Header.Set("Authorization", "Bearer "+key)
				finish(r)
				return nil
			},
			ErrorMessage: errorMessage,
			Secrets:      rest.NewSecrets(key),
			Accept:       "application/json",
			ContentType:  "application/json",
		},
	}, nil
}

// ID is ds.DigitalRiver.
func (c *Client) ID() ds.ProviderID { return ds.DigitalRiver }

// CredentialID is a short hash of base URL and key; never the key itself.
func (c *Client) CredentialID() string { return c.credID }

// FetchedAlone reports an id GetCustomers looks up with a call of its
// own: a comma cannot be expressed in the comma-separated ids filter.
func FetchedAlone(id string) bool { return strings.Contains(id, ",") }

// listResponse is the ListCustomersResponse envelope; it carries no total.
type listResponse struct {
	HasMore *bool                     `json:"hasMore"`
	Data    []ds.Record[wireCustomer] `json:"data"`
}

// listQuery is GET /customers' query for a limit. No filter is pushed down.
// Digital River's email parameter is an exact match, and its docs say
// neither that it ignores case nor that emails are stored lower-cased; the
// federated email filter ignores case, so any one spelling sent (the
// caller's, or lower case) could miss records stored in another. search and
// country have no native filter. The caller post-filters with Filter.Match.
func listQuery(limit int) url.Values {
	return url.Values{"limit": {strconv.Itoa(clampLimit(limit))}}
}

// finish completes every request as Digital River documents it, in the one
// hook rest.Client calls after building the request (Authorize):
//   - Content-Type: application/json on every request, as documented ("always
//     send"), not only on those rest.Client gives a body;
//   - ids in the documented form, explode=false style: the commas between the
//     ids literal (ids=a,b,c). url.Values encodes them as %2C, which a server
//     splitting on the delimiter reads as part of one id. An id holding a
//     comma is never in the list (GetCustomers fetches it alone), so every
//     %2C in the ids value is a separator.
func finish(r *http.Request) {
	if r.Header.Get("Content-Type") == "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if !strings.Contains(r.URL.RawQuery, "ids=") {
		return
	}
	parts := strings.Split(r.URL.RawQuery, "&")
	for i, p := range parts {
		if v, ok := strings.CutPrefix(p, "ids="); ok {
			parts[i] = "ids=" + strings.ReplaceAll(v, "%2C", ",")
		}
	}
	r.URL.RawQuery = strings.Join(parts, "&")
}

// listPage is one GET /customers of at most limit records (the limit q
// carries): the records and whether more follow. hasMore is in the documented
// envelope, but the spec marks it optional: without it, a full page may have
// more after it and a short one ends the list. A body with neither hasMore
// nor data is not a customer list. cursor marks q as carrying the caller's
// cursor (startingAfter/endingBefore).
func (c *Client) listPage(ctx context.Context, q url.Values, limit int, cursor bool) ([]*ds.Customer, bool, error) {
	var resp listResponse
	if _, err := c.rc.Do(ctx, rest.Request{Method: http.MethodGet, Path: "/customers", Query: q, CallerInput: cursor, List: true}, &resp); err != nil {
		return nil, false, cursorError(err, cursor)
	}
	if resp.HasMore == nil && resp.Data == nil {
		return nil, false, unreadable("a customer list with neither hasMore nor data")
	}
	items, err := mapCustomers(resp.Data)
	if err != nil {
		return nil, false, err
	}
	more := len(resp.Data) >= limit
	if resp.HasMore != nil {
		more = *resp.HasMore
	}
	return items, more, nil
}

// cursorError: the docs leave open how Digital River answers a cursor id it
// does not know. A 400 is the caller's bad input (CallerInput); a 404 on the
// list is too: the cursor's customer is gone, the list itself is not.
func cursorError(err error, cursor bool) error {
	var e *ds.Error
	if !cursor || !errors.As(err, &e) || e.Code != ds.CodeNotFound {
		return err
	}
	bad := *e
	bad.Code = ds.CodeBadUserInput
	bad.Message = "the page cursor names a customer the provider does not know: " + e.Message
	return &bad
}

// ListCustomers returns one page of GET /customers in native order. The
// token is the id of the customer to start after.
func (c *Client) ListCustomers(ctx context.Context, req ds.ListRequest[ds.Filter]) (ds.Page[*ds.Customer], error) {
	var page ds.Page[*ds.Customer]
	if req.Order != nil {
		return page, Caps.CanOrder(*req.Order)
	}
	if req.Token != "" {
		if err := checkID(req.Token); err != nil {
			return page, ds.Errorf(ds.CodeBadUserInput, "invalid page token for %s: %s", ds.DigitalRiver, err)
		}
	}
	limit := clampLimit(req.Limit)
	q := listQuery(limit)
	if req.Token != "" {
		q.Set("startingAfter", req.Token)
	}
	items, more, err := c.listPage(ctx, q, limit, req.Token != "")
	if err != nil {
		return page, err
	}
	page.Items = items
	if more {
		if len(items) == 0 {
			return page, unreadable("an empty customer page that claims more follow")
		}
		page.Next = items[len(items)-1].ProviderID
	}
	return page, nil
}

// GetCustomers looks ids up with the bulk ids filter (ids=a,b,c, limit=100),
// maxBatch ids per call. Ids Digital River cannot hold (empty, longer than
// 40 characters, control characters) are dropped without a call; an id with
// a comma cannot be expressed in the comma-separated list and is fetched alone.
func (c *Client) GetCustomers(ctx context.Context, ids []string) ([]*ds.Customer, error) {
	want := map[string]bool{}
	var bulk, single []string
	for _, id := range ids {
		if want[id] || checkID(id) != nil {
			continue
		}
		want[id] = true
		if FetchedAlone(id) {
			single = append(single, id)
		} else {
			bulk = append(bulk, id)
		}
	}
	var out []*ds.Customer
	for i := 0; i < len(bulk); i += maxBatch {
		chunk := bulk[i:min(i+maxBatch, len(bulk))]
		q := url.Values{}
		q.Set("ids", strings.Join(chunk, ","))
		q.Set("limit", strconv.Itoa(maxBatch))
		var resp listResponse
		if _, err := c.rc.Do(ctx, rest.Request{Method: http.MethodGet, Path: "/customers", Query: q, List: true}, &resp); err != nil {
			return nil, err
		}
		items, err := mapCustomers(resp.Data)
		if err != nil {
			return nil, err
		}
		for _, cu := range items {
			if want[cu.ProviderID] {
				out = append(out, cu)
			}
		}
	}
	for _, id := range single {
		if checkPathID(id) != nil {
			continue
		}
		raw, err := c.getRaw(ctx, id)
		if ds.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		cu, err := mapCustomer(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, cu)
	}
	return out, nil
}

// getRaw is GET /customers/{id}: the record as received.
func (c *Client) getRaw(ctx context.Context, id string) (json.RawMessage, error) {
	var raw json.RawMessage
	if _, err := c.rc.Do(ctx, rest.Request{Method: http.MethodGet, Path: "/customers/" + id}, &raw); err != nil {
		return nil, err
	}
	if len(raw) == 0 {
		return nil, unreadable("an empty customer")
	}
	return raw, nil
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

// checkID is what the client can know about a Digital River id without asking:
// non-empty, at most 40 characters, valid UTF-8 with no control characters.
func checkID(id string) error {
	switch {
	case id == "":
		return errors.New("empty")
	case !utf8.ValidString(id):
		return errors.New("not valid UTF-8")
	case utf8.RuneCountInString(id) > MaxIDLength:
		return fmt.Errorf("longer than %d characters", MaxIDLength)
	case strings.ContainsFunc(id, unicode.IsControl):
		return errors.New("contains control characters")
	}
	return nil
}

// checkPathID also refuses ids that cannot be one path segment.
func checkPathID(id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	if strings.Contains(id, "/") || id == "." || id == ".." {
		return errors.New("not usable as a path segment")
	}
	return nil
}

func badCustomerID(id string, err error) error {
	return ds.Errorf(ds.CodeBadUserInput, "%s is not a valid %s customer id: %s", quoteShort(id), ds.DigitalRiver, err)
}

func quoteShort(s string) string {
	if len(s) > 48 {
		s = s[:48] + "…"
	}
	return strconv.Quote(s)
}

func unreadable(what string) error {
	p := ds.DigitalRiver
	return &ds.Error{Code: ds.CodeProviderUnavailable, Provider: &p,
		Message: "the provider sent a response this gateway cannot read", Err: errors.New("digitalriver: " + what)}
}

// drErrors is the documented Errors body of every non-2xx response.
type drErrors struct {
	Type   string `json:"type"`
	Errors []struct {
		Code      string `json:"code"`
		Parameter string `json:"parameter"`
		Message   string `json:"message"`
	} `json:"errors"`
}

// errorMessage joins errors[].message; "" when the body has none.
func errorMessage(_ int, body []byte) string {
	var e drErrors
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	var msgs []string
	for _, x := range e.Errors {
		if m := strings.TrimSpace(x.Message); m != "" {
			msgs = append(msgs, m)
		}
	}
	return strings.Join(msgs, "; ")
}

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
