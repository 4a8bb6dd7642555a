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
	"unicode"

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
		hc = rest.DefaultHTTPClient()
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
			tokenURL = tokenURLFor(u)
		}
		c.tokens = &tokenSource{url: tokenURL, hc: hc, secrets: c.rc.Secrets, req: tokenRequest{
			GrantType: "client_credentials", ClientID: cfg.ClientID,
			ClientSecret: cfg.ClientSecret, // security: sent only to the token endpoint
			Scope:        cfg.Scope,
		}}
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

// CredentialID is a short hash of base URL and credential; never the secret.
func (c *Client) CredentialID() string { return c.credID }

// sortParam is the sort value for o, with id as the tie-breaker so that
// pages of equal keys are stable: created_at,id or -created_at,-id.
func sortParam(o ds.Order) string {
	k := Caps.Sort[o.Field]
	if o.Descending {
		return "-" + k + ",-id"
	}
	return k + ",id"
}

// listResponse is the JSON:API collection envelope. Only data is required;
// meta and links are read liberally by readPagination, so a shape the docs
// do not show costs the count or the hint, never the page.
type listResponse struct {
	Data  []ds.Record[resource] `json:"data"`
	Meta  json.RawMessage       `json:"meta"`
	Links json.RawMessage       `json:"links"`
}

// pagination is what a list response says about what follows it.
type pagination struct {
	links       bool // a non-empty links object was sent
	next        bool // links.next is a link: a non-empty URL or a JSON:API link object {"href": …}
	recordCount int  // meta.record_count, -1 when absent or not a count
	pageCount   int  // meta.page_count, -1 when absent or not a count
}

// readPagination reads links.next and meta's counts. The docs show the
// counts as JSON numbers; numeric strings are read too, and anything else
// is as if absent.
func readPagination(resp *listResponse) pagination {
	p := pagination{recordCount: -1, pageCount: -1}
	var links map[string]json.RawMessage
	if json.Unmarshal(resp.Links, &links) == nil && len(links) > 0 {
		p.links = true
		p.next = isLink(links["next"])
	}
	var meta map[string]json.RawMessage
	if json.Unmarshal(resp.Meta, &meta) == nil {
		p.recordCount, p.pageCount = count(meta["record_count"]), count(meta["page_count"])
	}
	return p
}

func isLink(raw json.RawMessage) bool {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s != ""
	}
	var obj struct {
		Href string `json:"href"`
	}
	return json.Unmarshal(raw, &obj) == nil && obj.Href != ""
}

// count is a non-negative integer sent as a JSON number or a numeric string; -1 otherwise.
func count(raw json.RawMessage) int {
	if n, ok := ds.WholeNumber(raw, true, maxOffset*MaxPageSize); ok {
		return n
	}
	return -1
}

// more reports whether records follow page number (of size), which held got
// records. The docs: stop when links.next is absent or when page[number] >=
// meta.page_count; an empty page (past the end) is the end whatever its
// links say, so a vendor that always sends next cannot make a walk endless.
// Without links the counts decide, and with neither a full page may have
// more (the walk then ends on the empty page after it).
func (p pagination) more(number, size, got int) bool {
	switch {
	case got == 0:
		return false
	case p.pageCount >= 0 && number >= p.pageCount:
		return false
	case p.links:
		return p.next
	case p.pageCount >= 0:
		return true
	case p.recordCount >= 0:
		return number*size < p.recordCount
	}
	return got >= size
}

// ListCustomers returns customers from the absolute offset in req.Token (a
// decimal; "" is 0). Commerce Layer pages by number, so the client asks for
// the page of size L (the capped limit) that holds the offset,
// page[number] = offset/L + 1, and returns its items from the offset on: at
// most L items, fewer when the offset is not on a page boundary. The list has
// ended when the response has no links.next or page[number] >= page_count
// (see pagination.more).
func (c *Client) ListCustomers(ctx context.Context, req ds.ListRequest[ds.Filter]) (ds.Page[*ds.Customer], error) {
	var page ds.Page[*ds.Customer]
	offset, err := parseOffset(req.Token)
	if err != nil {
		return page, err
	}
	if err := Caps.CanFilter(req.Filter); err != nil {
		return page, err
	}
	q := url.Values{}
	if req.Order != nil {
		if err := Caps.CanOrder(*req.Order); err != nil {
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
	if _, err := c.rc.Do(ctx, rest.Request{Method: http.MethodGet, Path: "/customers", Query: q, List: true}, &resp); err != nil {
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
	p := readPagination(&resp)
	if p.more(number, size, len(resp.Data)) {
		// The next page starts at number*size in Commerce Layer's numbering,
		// which is always past the offset, so a walk cannot stand still.
		page.Next = strconv.Itoa(number * size)
	}
	if p.recordCount >= 0 {
		total := p.recordCount
		page.ListLen = &total
		if exact {
			page.Total = &total
		}
	}
	return page, nil
}

// pushFilter adds the Ransack form of f to q and reports whether Commerce
// Layer's answer is then exactly f (so meta.record_count is the exact total).
//   - email: filter[q][email_matches] (LIKE, as documented) with every cased
//     letter of the address a one-character wildcard: a superset of the
//     address in any case, whatever case Commerce Layer stores and however
//     LIKE treats case there (nothing documents either; email_eq is exact,
//     so the caller's spelling would miss DAAN@… for daan@…). The caller
//     post-filters exactly, and the vendor's count is not the filter's.
//   - search: filter[q][email_cont] with the lower-cased value. Ransack's
//     _cont is a case-insensitive LIKE and a customer has no name, so this
//     matches what Filter.Match does; the docs do not say _cont ignores
//     case, so the value is lower-cased like the stored emails. The count is
//     still not reported as exact, since Unicode case folding at the vendor
//     may differ from Go's.
//
// An empty email is not sent (Ransack ignores blank values, returning
// everyone); the caller's post-filter then applies it.
func pushFilter(q url.Values, f ds.Filter) (exact bool) {
	exact = true
	if e := f.Email; e != nil {
		if *e == "" {
			exact = false
		} else {
			q.Set("filter[q][email_matches]", anyCaseLike(*e))
			exact = false
		}
	}
	if s := f.Search; s != nil && *s != "" {
		q.Set("filter[q][email_cont]", strings.ToLower(*s))
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
// MaxPageSize ids per call. Ids Commerce Layer cannot hold (empty, too long,
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
		if _, err := c.rc.Do(ctx, rest.Request{Method: http.MethodGet, Path: "/customers", Query: q, List: true}, &resp); err != nil {
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

// errorMessage reads the documented error body
// {"errors":[{"title","detail","code","status":"404","source":{"pointer"},"meta"}]}
// liberally: errors may be one object rather than an array, an entry of
// another shape is skipped rather than costing the others, and an
// OAuth-style {"error","error_description"} (what a token-checking layer in
// front of the API may send with a 401) is read too. It joins the errors'
// details (else titles, else codes), naming the attribute of a validation
// error when the detail does not; "" when the body has none. Never the
// whole body.
func errorMessage(_ int, body []byte) string {
	var env map[string]json.RawMessage
	if json.Unmarshal(body, &env) != nil {
		return ""
	}
	var items []json.RawMessage
	if json.Unmarshal(env["errors"], &items) != nil {
		items = []json.RawMessage{env["errors"]}
	}
	var msgs []string
	for _, raw := range items {
		var x map[string]json.RawMessage
		if json.Unmarshal(raw, &x) != nil {
			continue
		}
		m := str(x["detail"])
		if m == "" {
			m = str(x["title"])
		}
		if m == "" {
			m = str(x["code"])
		}
		if m == "" {
			continue
		}
		var src map[string]json.RawMessage
		if json.Unmarshal(x["source"], &src) == nil {
			if attr := strings.TrimPrefix(str(src["pointer"]), "/data/attributes/"); attr != "" && !strings.HasPrefix(m, attr) {
				m = attr + ": " + m
			}
		}
		msgs = append(msgs, m)
	}
	if len(msgs) == 0 {
		if m := str(env["error_description"]); m != "" {
			return m
		}
		return str(env["error"])
	}
	return strings.Join(msgs, "; ")
}

// str is raw as a trimmed string when it is a JSON string, else "".
func str(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return strings.TrimSpace(s)
}

func unreadable(what string) error {
	p := ds.CommerceLayer
	return &ds.Error{Code: ds.CodeProviderUnavailable, Provider: &p,
		Message: "the provider sent a response this gateway cannot read", Err: errors.New("commercelayer: " + what)}
}

// anyCaseLike is a LIKE pattern matching s in any letter case: each letter
// that has case becomes _, and LIKE's own %, _ and \ are escaped.
func anyCaseLike(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.ToUpper(r) != unicode.ToLower(r):
			b.WriteByte('_')
		case r == '%' || r == '_' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
