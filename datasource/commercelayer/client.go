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
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/sync/singleflight"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
)

const (
	// DefaultTokenURL is where client credentials are exchanged for a token.
	DefaultTokenURL = "https://auth.commercelayer.io/oauth/token"
	// MaxPageSize is the documented maximum of page[size].
	MaxPageSize = 25
	// DefaultPageSize is page[size] when none is sent.
	DefaultPageSize = 10
	// MediaType is JSON:API's media type: Accept on every call (else 406),
	// Content-Type on writes (else 415).
	MediaType = "application/vnd.api+json"
	// maxIDLength bounds ids the client sends; CL ids are 10 characters.
	maxIDLength = 64
	// maxOffset bounds a page token: a larger offset was never issued.
	maxOffset = 1_000_000_000
	// tokenSlack renews a token this long before it expires.
	tokenSlack = time.Minute
)

// Config is the providers.commercelayer block of the configuration.
type Config struct {
	// BaseURL is the organization's API base, ending in /api.
	BaseURL string `yaml:"base_url"`
	// AccessToken is a ready bearer token (it cannot be renewed).
	AccessToken string `yaml:"access_token"`
	// ClientID and ClientSecret are an integration's client credentials.
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
	// TokenURL defaults to DefaultTokenURL.
	TokenURL string `yaml:"token_url"`
	// Scope is optional (e.g. market:id:xyz).
	Scope    string `yaml:"scope"`
	Simulate bool   `yaml:"simulate"`
}

// Validate checks the configuration, naming the offending key.
func (c Config) Validate() error {
	if strings.TrimSpace(c.BaseURL) == "" {
		return errors.New("commercelayer: base_url is required (https://<organization>.commercelayer.io/api)")
	}
	if _, err := rest.ParseBaseURL(ds.CommerceLayer, c.BaseURL); err != nil {
		return err
	}
	hasToken := c.AccessToken != ""
	hasClient := c.ClientID != "" || c.ClientSecret != ""
	switch {
	case hasToken && hasClient:
		return errors.New("commercelayer: set either access_token or client_id and client_secret, not both")
	case !hasToken && !hasClient:
		return errors.New("commercelayer: set access_token, or client_id and client_secret")
	case hasClient && c.ClientID == "":
		return errors.New("commercelayer: client_id is required with client_secret")
	case hasClient && c.ClientSecret == "":
		return errors.New("commercelayer: client_secret is required with client_id")
	}
	for key, v := range map[string]string{"access_token": c.AccessToken, "client_id": c.ClientID, "client_secret": c.ClientSecret} {
		if strings.ContainsFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
			return errors.New("commercelayer: " + key + " must not contain whitespace or control characters")
		}
	}
	if c.TokenURL != "" {
		if _, err := rest.ParseBaseURL(ds.CommerceLayer, c.TokenURL); err != nil {
			return errors.New("commercelayer: token_url must be an absolute http(s) URL")
		}
	}
	return nil
}

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
		Accept:       MediaType,
		ContentType:  MediaType,
	}}
	secret := cfg.AccessToken // security: never logged; only its hash names the credential
	if cfg.AccessToken == "" {
		tokenURL := cfg.TokenURL
		if tokenURL == "" {
			tokenURL = DefaultTokenURL
		}
		cc := &clientcredentials.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, TokenURL: tokenURL,
			AuthStyle: oauth2.AuthStyleInParams} // CL reads client_id/client_secret from the body
		if cfg.Scope != "" {
			cc.Scopes = []string{cfg.Scope}
		}
		c.tokens = &tokenSource{cfg: cc, hc: hc}
		c.rc.Reauthorize = c.tokens.drop
		secret = cfg.ClientID + "\x00" + cfg.ClientSecret
	}
	c.rc.Authorize = func(ctx context.Context, r *http.Request) error {
		tok := cfg.AccessToken
		if c.tokens != nil {
			var err error
			if tok, err = c.tokens.token(ctx); err != nil {
				return err
			}
		}
		r.Header.Set("Authorization", "Bearer "+tok) // security: bearer token
		return nil
	}
	sum := sha256.Sum256([]byte(strings.TrimRight(cfg.BaseURL, "/") + "\x00" + secret))
	c.credID = hex.EncodeToString(sum[:8])
	return c, nil
}

// ID is ds.CommerceLayer.
func (c *Client) ID() ds.ProviderID { return ds.CommerceLayer }

// CredentialID is a short hash of base URL and credential; never the secret.
func (c *Client) CredentialID() string { return c.credID }

// MaxBatch is the bulk lookup size: one page of filter[q][id_in].
func (c *Client) MaxBatch() int { return MaxPageSize }

// CanFilter: email and search are pushed down exactly (email_eq, email_cont);
// a Commerce Layer customer has no address of its own (addresses are a
// separate resource), so a country filter cannot be applied at all.
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

// sortParam is the sort value for o, with id as a tie-breaker so pages are stable.
func sortParam(o ds.Order) string {
	k := sortKeys[o.Field]
	if o.Descending {
		return "-" + k + ",-id"
	}
	return k + ",id"
}

// listResponse is the JSON:API collection envelope.
type listResponse struct {
	Data  []json.RawMessage `json:"data"`
	Meta  *listMeta         `json:"meta"`
	Links struct {
		Next *string `json:"next"`
	} `json:"links"`
}

type listMeta struct {
	RecordCount *int `json:"record_count"`
	PageCount   *int `json:"page_count"`
}

// ListCustomers returns customers from the offset in req.Token (a decimal; ""
// is 0). Commerce Layer pages by number, so the client asks for the page that
// holds the offset and returns the items from the offset on. It picks the
// page size (between the asked limit and 25) that makes the offset a page
// boundary when it can, so a walk never re-reads records; the page may then
// hold a few more items than asked, which the walker keeps as positions.
func (c *Client) ListCustomers(ctx context.Context, req ds.ListRequest[ds.Filter]) (ds.Page[*ds.Customer], error) {
	var page ds.Page[*ds.Customer]
	offset, err := parseOffset(req.Token)
	if err != nil {
		return page, err
	}
	q := url.Values{}
	if req.Order != nil {
		if err := c.CanOrder(*req.Order); err != nil {
			return page, err
		}
		q.Set("sort", sortParam(*req.Order))
	}
	if err := c.CanFilter(req.Filter); err != nil {
		return page, err
	}
	size := pageSize(req.Limit, offset)
	number := offset/size + 1
	skip := offset % size
	q.Set("page[number]", strconv.Itoa(number))
	q.Set("page[size]", strconv.Itoa(size))
	if e := req.Filter.Email; e != nil {
		q.Set("filter[q][email_eq]", strings.ToLower(*e)) // CL stores emails lower-cased
	}
	if s := req.Filter.Search; s != nil && *s != "" {
		// A CL customer has no name, so "name or email contains" is exactly email_cont.
		q.Set("filter[q][email_cont]", *s)
	}
	var resp listResponse
	if _, err := c.rc.Do(ctx, rest.Request{Method: http.MethodGet, Path: "/customers", Query: q}, &resp); err != nil {
		return page, err
	}
	if resp.Meta == nil || resp.Meta.RecordCount == nil {
		return page, unreadable("a customer list without meta.record_count")
	}
	items, err := mapCustomers(resp.Data)
	if err != nil {
		return page, err
	}
	if skip < len(items) {
		page.Items = items[skip:]
	}
	if resp.Links.Next != nil && *resp.Links.Next != "" {
		if len(items) == 0 {
			return page, unreadable("an empty customer page with a next link")
		}
		page.Next = strconv.Itoa(offset - skip + len(items))
	}
	// Both pushed-down filters are exact, so record_count is the exact total.
	total := *resp.Meta.RecordCount
	page.Total = &total
	return page, nil
}

// pageSize is the page[size] for a request of limit items from offset.
func pageSize(limit, offset int) int {
	size := limit
	switch {
	case size <= 0:
		size = DefaultPageSize
	case size > MaxPageSize:
		size = MaxPageSize
	}
	for s := size; s <= MaxPageSize; s++ {
		if offset%s == 0 {
			return s
		}
	}
	return size
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

// GetCustomers looks ids up with filter[q][id_in], 25 per call. Ids Commerce
// Layer cannot hold (empty, with a comma, control characters, too long) are
// absent without a call.
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
	return out, nil
}

func validID(id string) bool {
	return id != "" && len(id) <= maxIDLength && !strings.ContainsAny(id, ",/?#%") &&
		!strings.ContainsFunc(id, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
}

// clErrors is the documented error body: {"errors":[{title, detail, code, status}]}.
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

// errorMessage joins the errors' details (or titles), naming the attribute of
// a validation error; "" when the body has none.
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
			continue
		}
		if x.Source != nil && x.Source.Pointer != "" {
			m = strings.TrimPrefix(x.Source.Pointer, "/data/attributes/") + " " + m
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

// tokenSource caches a client-credentials token. Concurrent callers share one
// token request (singleflight); each waits only as long as its own context.
type tokenSource struct {
	cfg   *clientcredentials.Config
	hc    *http.Client
	group singleflight.Group

	mu  sync.Mutex // guards tok; never held across a network call
	tok *oauth2.Token
}

func (t *tokenSource) cached() *oauth2.Token {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tok != nil && (t.tok.Expiry.IsZero() || time.Until(t.tok.Expiry) > tokenSlack) {
		return t.tok
	}
	return nil
}

// drop forgets the cached token after a 401 (rest.Client.Reauthorize).
func (t *tokenSource) drop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tok = nil
}

func (t *tokenSource) token(ctx context.Context) (string, error) {
	if tok := t.cached(); tok != nil {
		return tok.AccessToken, nil
	}
	ch := t.group.DoChan("token", func() (any, error) {
		// The shared fetch outlives any one caller's cancellation but not 30 s.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		fctx = context.WithValue(fctx, oauth2.HTTPClient, t.hc)
		tok, err := t.cfg.Token(fctx)
		if err != nil {
			return nil, tokenError(err)
		}
		t.mu.Lock()
		t.tok = tok
		t.mu.Unlock()
		return tok, nil
	})
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(*oauth2.Token).AccessToken, nil
	}
}

// tokenError maps a failed token request to the gateway's codes; the token
// endpoint's body is not passed on (it may echo the client id).
func tokenError(err error) error {
	p := ds.CommerceLayer
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		switch s := re.Response.StatusCode; {
		case s == http.StatusTooManyRequests:
			return &ds.Error{Code: ds.CodeProviderRateLimited, Provider: &p, Status: s,
				Message: "the provider is rate limiting token requests", Err: err}
		case s >= 500:
			return &ds.Error{Code: ds.CodeProviderUnavailable, Provider: &p, Status: s,
				Message: "the provider's token endpoint failed", Err: err}
		default:
			return &ds.Error{Code: ds.CodeUnauthenticated, Provider: &p, Status: s,
				Message: "the provider rejected the gateway's client credentials", Err: err}
		}
	}
	return &ds.Error{Code: ds.CodeUnauthenticated, Provider: &p,
		Message: "could not obtain an access token from the provider", Err: err}
}
