// Package commercelayer is the client of Commerce Layer's customers resource
// (JSON:API, https://docs.commercelayer.io/core): page[number]/page[size]
// pagination (size at most 25), Ransack filters (filter[q][attr_predicate]),
// sort, bulk lookup with filter[q][id_in], and create/update/delete. Tokens
// come from a static access_token or from OAuth2 client credentials.
package commercelayer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
)

const (
	// DefaultTokenURL is where client credentials are exchanged for a token.
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
	// TokenURL defaults to DefaultTokenURL.
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
	if strings.TrimSpace(c.BaseURL) == "" {
		return errors.New("commercelayer: base_url is required")
	}
	if _, err := rest.ParseBaseURL(ds.CommerceLayer, c.BaseURL); err != nil {
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
		if strings.ContainsFunc(kv[1], func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
			return errors.New("commercelayer: " + kv[0] + " must not contain whitespace or control characters")
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
	credID string
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
	cfg.BaseURL = apiBase(cfg.BaseURL)
	u, err := rest.ParseBaseURL(ds.CommerceLayer, cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	c := &Client{rc: &rest.Client{
		Provider:     ds.CommerceLayer,
		BaseURL:      u,
		HTTP:         hc,
		ErrorMessage: errorMessage,
		Secrets:      rest.NewSecrets(cfg.AccessToken, cfg.ClientSecret),
		Accept:       MediaType,
		ContentType:  MediaType,
	}}
	credential := cfg.AccessToken // security: only its hash leaves this function (CredentialID)
	if cfg.AccessToken == "" {
		tokenURL := cfg.TokenURL
		if tokenURL == "" {
			tokenURL = DefaultTokenURL
		}
		cc := &clientcredentials.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret, // security: sent only to the token endpoint
			TokenURL:     tokenURL,
			// Commerce Layer reads client_id and client_secret from the body.
			AuthStyle: oauth2.AuthStyleInParams,
		}
		if cfg.Scope != "" {
			cc.Scopes = []string{cfg.Scope}
		}
		c.tokens = &tokenSource{cfg: cc, hc: hc, secrets: c.rc.Secrets}
		c.rc.Reauthorize = c.tokens.drop
		credential = tokenURL + "\x00" + cfg.ClientID + "\x00" + cfg.ClientSecret + "\x00" + cfg.Scope
	}
	static := cfg.AccessToken
	c.rc.Authorize = func(ctx context.Context, r *http.Request) error {
		tok := static
		if c.tokens != nil {
			var err error
			if tok, err = c.tokens.token(ctx); err != nil {
				return err
			}
		}
		r.Header.Set("Authorization", "Bearer "+tok) // security: the token goes only to base_url
		return nil
	}
	sum := sha256.Sum256([]byte(strings.TrimRight(cfg.BaseURL, "/") + "\x00" + credential))
	c.credID = hex.EncodeToString(sum[:8])
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

// ID is ds.CommerceLayer.
func (c *Client) ID() ds.ProviderID { return ds.CommerceLayer }

// CredentialID is a short hash of base URL and credential; never the secret.
func (c *Client) CredentialID() string { return c.credID }

// MaxBatch is the bulk lookup size: one full page of filter[q][id_in].
func (c *Client) MaxBatch() int { return MaxPageSize }

// BulkLookup is true: GetCustomers filters by many ids in one call.
func (c *Client) BulkLookup() bool { return true }

// CanFilter: email is pushed down as email_eq and search as email_cont (a
// Commerce Layer customer has no name, so "name or email contains" can only
// ever match the email). A customer carries no address of its own
// (customer_addresses are a separate resource), so a country filter cannot
// be applied at all.
func (c *Client) CanFilter(f ds.Filter) error {
	if len(f.Country) > 0 {
		return ds.ProviderErrorf(ds.CommerceLayer, ds.CodeUnsupportedByProvider,
			"%s customers carry no address, so they cannot be filtered by country", ds.CommerceLayer)
	}
	return nil
}

// sortKeys are the federated order fields Commerce Layer sorts natively.
var sortKeys = map[ds.OrderField]string{
	ds.OrderCreatedAt: "created_at",
	ds.OrderUpdatedAt: "updated_at",
	ds.OrderEmail:     "email",
}

// CanOrder: created_at, updated_at and email are sortable; customers have no name.
func (c *Client) CanOrder(o ds.Order) error {
	if _, ok := sortKeys[o.Field]; !ok {
		return ds.ProviderErrorf(ds.CommerceLayer, ds.CodeUnsupportedByProvider,
			"%s cannot order customers by %s: its customers have no such attribute", ds.CommerceLayer, o.Field)
	}
	return nil
}

// sortParam is the sort value for o, with id as the tie-breaker so that
// pages of equal keys are stable: created_at,id or -created_at,-id.
func sortParam(o ds.Order) string {
	k := sortKeys[o.Field]
	if o.Descending {
		return "-" + k + ",-id"
	}
	return k + ",id"
}

// listResponse is the JSON:API collection envelope.
type listResponse struct {
	Data  []ds.Record[resource] `json:"data"`
	Meta  *listMeta             `json:"meta"`
	Links struct {
		Next *string `json:"next"`
	} `json:"links"`
}

type listMeta struct {
	RecordCount *int `json:"record_count"`
	PageCount   *int `json:"page_count"`
}

// ListCustomers returns customers from the absolute offset in req.Token (a
// decimal; "" is 0). Commerce Layer pages by number, so the client asks for
// the page of size L (the capped limit) that holds the offset,
// page[number] = offset/L + 1, and returns its items from the offset on: at
// most L items, fewer when the offset is not on a page boundary. The list has
// ended when the response has no links.next.
func (c *Client) ListCustomers(ctx context.Context, req ds.ListRequest[ds.Filter]) (ds.Page[*ds.Customer], error) {
	var page ds.Page[*ds.Customer]
	offset, err := parseOffset(req.Token)
	if err != nil {
		return page, err
	}
	if err := c.CanFilter(req.Filter); err != nil {
		return page, err
	}
	q := url.Values{}
	if req.Order != nil {
		if err := c.CanOrder(*req.Order); err != nil {
			return page, err
		}
		q.Set("sort", sortParam(*req.Order))
	}
	size := clampLimit(req.Limit)
	number := offset/size + 1
	skip := offset % size
	q.Set("page[number]", strconv.Itoa(number))
	q.Set("page[size]", strconv.Itoa(size))
	exact := pushFilter(q, req.Filter)

	var resp listResponse
	if _, err := c.rc.Do(ctx, rest.Request{Method: http.MethodGet, Path: "/customers", Query: q}, &resp); err != nil {
		return page, err
	}
	if resp.Data == nil {
		return page, unreadable("a customer list without data")
	}
	items, err := mapCustomers(resp.Data)
	if err != nil {
		return page, err
	}
	if len(items) > size {
		items = items[:size] // never more than page[size]; a vendor that sends more is cut
	}
	if skip < len(items) {
		page.Items = items[skip:]
	}
	if resp.Links.Next != nil && *resp.Links.Next != "" {
		// The next page starts at number*size in Commerce Layer's numbering,
		// which is always past the offset, so a walk cannot stand still.
		page.Next = strconv.Itoa(number * size)
	}
	if exact && resp.Meta != nil && resp.Meta.RecordCount != nil && *resp.Meta.RecordCount >= 0 {
		total := *resp.Meta.RecordCount
		page.Total = &total
	}
	return page, nil
}

// pushFilter adds the Ransack form of f to q and reports whether Commerce
// Layer's answer is then exactly f (so meta.record_count is the exact total).
//   - email: filter[q][email_eq] with the lower-cased address. Commerce Layer
//     stores emails lower-cased, so this is the federated case-insensitive
//     exact match.
//   - search: filter[q][email_cont]. Ransack's _cont is a case-insensitive
//     LIKE and a customer has no name, so this matches what Filter.Match
//     does; the count is still not reported as exact, since Unicode case
//     folding at the vendor may differ from Go's.
//
// An empty email is not sent (Ransack ignores blank values, returning
// everyone); the caller's post-filter then applies it.
func pushFilter(q url.Values, f ds.Filter) (exact bool) {
	exact = true
	if e := f.Email; e != nil {
		if *e == "" {
			exact = false
		} else {
			q.Set("filter[q][email_eq]", strings.ToLower(*e))
		}
	}
	if s := f.Search; s != nil && *s != "" {
		q.Set("filter[q][email_cont]", *s)
		exact = false
	}
	return exact
}

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultPageSize
	case n > MaxPageSize:
		return MaxPageSize
	}
	return n
}

// parseOffset reads a page token: a non-negative decimal this client issued.
func parseOffset(tok string) (int, error) {
	if tok == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(tok)
	if err != nil || n < 0 || n > maxOffset || strconv.Itoa(n) != tok {
		return 0, ds.Errorf(ds.CodeBadUserInput, "invalid page token for %s", ds.CommerceLayer)
	}
	return n, nil
}

// GetCustomers looks ids up with filter[q][id_in]=a,b,c and page[size]=25,
// MaxBatch ids per call. Ids Commerce Layer cannot hold (empty, too long,
// with a comma, a path or query character, whitespace or control
// characters) are absent without a call.
func (c *Client) GetCustomers(ctx context.Context, ids []string) ([]*ds.Customer, error) {
	want := map[string]bool{}
	var list []string
	for _, id := range ids {
		if want[id] || !validID(id) {
			continue
		}
		want[id] = true
		list = append(list, id)
	}
	var out []*ds.Customer
	for i := 0; i < len(list); i += MaxPageSize {
		chunk := list[i:min(i+MaxPageSize, len(list))]
		q := url.Values{}
		q.Set("filter[q][id_in]", strings.Join(chunk, ","))
		q.Set("page[size]", strconv.Itoa(MaxPageSize))
		var resp listResponse
		if _, err := c.rc.Do(ctx, rest.Request{Method: http.MethodGet, Path: "/customers", Query: q}, &resp); err != nil {
			return nil, err
		}
		if resp.Data == nil {
			return nil, unreadable("a customer list without data")
		}
		items, err := mapCustomers(resp.Data)
		if err != nil {
			return nil, err
		}
		for _, cu := range items {
			if want[cu.ProviderID] {
				out = append(out, cu)
				delete(want, cu.ProviderID) // a record sent twice is returned once
			}
		}
	}
	return out, nil
}

func validID(id string) bool {
	return id != "" && len(id) <= maxIDLength && id != "." && id != ".." && !strings.ContainsAny(id, ",/?#%") &&
		!strings.ContainsFunc(id, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
}

func badCustomerID(id string) error {
	if len(id) > 48 {
		id = id[:48] + "…"
	}
	return ds.Errorf(ds.CodeBadUserInput, "%q is not a valid %s customer id", id, ds.CommerceLayer)
}

// clErrors is the documented error body:
// {"errors":[{"title","detail","code","status":"404","source":{"pointer"},"meta"}]}.
type clErrors struct {
	Errors []struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
		Code   string `json:"code"`
		Source *struct {
			Pointer string `json:"pointer"`
		} `json:"source"`
	} `json:"errors"`
}

// errorMessage joins the errors' details (else titles, else codes), naming
// the attribute of a validation error when the detail does not; "" when the
// body has none. Never the whole body.
func errorMessage(_ int, body []byte) string {
	var e clErrors
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	var msgs []string
	for _, x := range e.Errors {
		m := strings.TrimSpace(x.Detail)
		if m == "" {
			m = strings.TrimSpace(x.Title)
		}
		if m == "" {
			m = strings.TrimSpace(x.Code)
		}
		if m == "" {
			continue
		}
		if x.Source != nil && x.Source.Pointer != "" {
			attr := strings.TrimPrefix(x.Source.Pointer, "/data/attributes/")
			if attr != "" && !strings.HasPrefix(m, attr) {
				m = attr + ": " + m
			}
		}
		msgs = append(msgs, m)
	}
	return strings.Join(msgs, "; ")
}

func unreadable(what string) error {
	p := ds.CommerceLayer
	return &ds.Error{Code: ds.CodeProviderUnavailable, Provider: &p,
		Message: "the provider sent a response this gateway cannot read", Err: errors.New("commercelayer: " + what)}
}

// NextIsExact is true: a next page token is issued only when links.next, from page_count says records follow.
func (c *Client) NextIsExact() bool { return true }

// OffsetToken and TokenOffset make the client a ds.OffsetPager: its tokens
// are absolute offsets, so it pages backward by arithmetic.
func (c *Client) OffsetToken(n int) string { return ds.OffsetToken(n) }

// TokenOffset reads a token this client issued.
func (c *Client) TokenOffset(token string) (int, error) { return parseOffset(token) }
