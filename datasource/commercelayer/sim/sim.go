// Package sim simulates Commerce Layer's customers resource over the demo
// world: GET/POST /api/customers and GET/PATCH/DELETE /api/customers/{id},
// plus the client-credentials token endpoint POST /oauth/token (a JSON body,
// as documented; a form is 400 invalid_request). It is as
// strict as the docs (and the decisions recorded in shared/providers.md):
//   - Authorization: Bearer with the static AccessToken or a token the
//     token endpoint issued and that has not expired (else 401 UNAUTHORIZED);
//   - Accept: application/vnd.api+json on every call (else 406), the same
//     Content-Type on writes (else 415);
//   - page[size] 1..25 and page[number] >= 1 (else 400 INVALID_PAGE_VALUE), a
//     page past the end is 200 with data: [], links.next is absent on the
//     last page, meta has record_count and page_count;
//   - sort on the documented attributes with a '-' prefix for descending
//     (else 400 INVALID_SORT_CRITERIA); Ransack filter[q][attr_predicate]
//     on the filterable attributes (else 400 FILTER_NOT_ALLOWED), blank
//     values ignored as Ransack does; any other parameter is 400
//     PARAM_NOT_ALLOWED;
//   - error bodies {"errors":[{title, detail, code, status}]} with status a
//     string; 429 carries X-Ratelimit-Limit/Interval/Remaining and no
//     Retry-After;
//   - PATCH needs data.id equal to the URL id (else 400 KEY_NOT_INCLUDED_IN_URL),
//     validation failures are 422 VALIDATION_ERROR with source.pointer.
//
// Ids are 10-character alphanumeric strings. The default order is
// created_at, then id.
package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/commercelayer"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/simkit"
)

// Credentials the simulator accepts.
const (
	ClientID     = "cl_sim_client_9f8e7d6c5b4a"
	ClientSecret = "cl_sim_secret_0a1b2c3d4e5f6a7b8c9d" // security: a simulator credential, not a real one
	// AccessToken is a static token that never expires (the access_token form).
	AccessToken = "cl_sim_static_token_5e4d3c2b1a" // security: a simulator credential, not a real one
	// TokenLifetime is the documented lifetime of issued tokens.
	TokenLifetime = 2 * time.Hour
	// TokenPath is where the simulator serves the token endpoint.
	TokenPath = "/oauth/token"
	// APIPath is the documented base path of the API.
	APIPath = "/api"
)

const (
	timeLayout     = "2006-01-02T15:04:05.000Z"
	organizationID = "xRRkjDFafe"
	// The average limit of uncacheable reads in test mode, sent on a 429.
	rateLimit, rateInterval = "100", "60"
)

// Sim is the Commerce Layer simulator.
type Sim struct {
	kit     *simkit.Kit // the API under /api
	authKit *simkit.Kit // the token endpoint (another host at Commerce Layer)
	api     http.Handler
	auth    http.Handler

	mu        sync.Mutex
	customers map[string]*customer
	tokens    map[string]time.Time // issued token → expiry
	issued    int
	created   int
	now       func() time.Time
}

type customer struct {
	id               string
	email            string
	status           string
	orders           int
	hasPassword      bool
	created, updated time.Time
	reference        *string
	referenceOrigin  *string
	metadata         map[string]any
}

// New renders the demo people known at Commerce Layer: email as given (some
// in upper case, as customers type them: see storedEmail),
// status and total_orders_count from the person's index, reference and
// reference_origin naming the person's id at the next provider that knows
// them (demo.Person.Other) by its config key.
func New(people []demo.Person) *Sim {
	s := &Sim{
		customers: map[string]*customer{},
		tokens:    map[string]time.Time{},
		now:       func() time.Time { return time.Now().UTC().Truncate(time.Millisecond) },
	}
	for _, p := range people {
		id, ok := p.IDs[ds.CommerceLayer]
		if !ok {
			continue
		}
		orders := p.Index % 4
		c := &customer{
			id:       id,
			email:    storedEmail(p),
			status:   statusFor(orders),
			orders:   orders,
			created:  p.CreatedAt.UTC().Truncate(time.Millisecond),
			updated:  p.UpdatedAt.UTC().Truncate(time.Millisecond),
			metadata: map[string]any{},
		}
		if q, other, ok := p.Other(ds.CommerceLayer); ok {
			origin := q.Key()
			c.reference, c.referenceOrigin = &other, &origin
		}
		s.customers[id] = c
	}
	s.kit = simkit.New(WriteError)
	s.authKit = simkit.New(writeOAuthError)
	s.api = s.kit.Wrap(http.HandlerFunc(s.serveAPI))
	s.auth = s.authKit.Wrap(http.HandlerFunc(s.serveToken))
	return s
}

// statusFor is the documented status for a number of orders.
func statusFor(orders int) string {
	switch {
	case orders == 0:
		return "prospect"
	case orders == 1:
		return "acquired"
	}
	return "repeat"
}

// Kit returns the API's request counter and fault injector. Token requests
// are not counted there (see AuthKit): at Commerce Layer they go to another
// host, and the gateway counts only API calls.
func (s *Sim) Kit() *simkit.Kit { return s.kit }

// AuthKit returns the token endpoint's request counter and fault injector.
func (s *Sim) AuthKit() *simkit.Kit { return s.authKit }

// ServeHTTP serves the token endpoint at TokenPath and the API under APIPath.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == TokenPath {
		s.auth.ServeHTTP(w, r)
		return
	}
	s.api.ServeHTTP(w, r)
}

// ClientConfig is the client-credentials configuration for a simulator
// served at baseURL (e.g. an httptest.Server URL): the API under /api, the
// token endpoint at /oauth/token.
func (s *Sim) ClientConfig(baseURL string) commercelayer.Config {
	base := strings.TrimRight(baseURL, "/")
	return commercelayer.Config{BaseURL: base + APIPath, ClientID: ClientID, ClientSecret: ClientSecret,
		TokenURL: base + TokenPath}
}

// ClientConfigToken is the static access_token configuration for a
// simulator served at baseURL.
func (s *Sim) ClientConfigToken(baseURL string) commercelayer.Config {
	return commercelayer.Config{BaseURL: strings.TrimRight(baseURL, "/") + APIPath, AccessToken: AccessToken}
}

// ExpireTokens makes every issued token invalid, as if their two hours had
// passed; the static AccessToken stays valid.
func (s *Sim) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]time.Time{}
}

// authorized reports whether r carries a valid bearer token.
func (s *Sim) authorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return false
	}
	if tok == AccessToken {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[tok]
	return ok && s.now().Before(exp)
}

// --- wire format ---

// relationships are the customer's documented relationships; the to-one ones
// render data: null when included, the others data: [].
var relationships = []string{"customer_group", "customer_addresses", "customer_payment_sources",
	"customer_subscriptions", "orders", "order_subscriptions", "returns", "sku_lists", "attachments",
	"events", "tags", "jwt_customer", "jwt_markets", "jwt_stock_locations", "event_stores"}

var toOne = map[string]bool{"customer_group": true, "jwt_customer": true}

// attributeNames are the attributes a customer renders (for fields[customers]).
var attributeNames = []string{"email", "status", "has_password", "total_orders_count", "shopper_reference",
	"profile_id", "tax_exemption_code", "created_at", "updated_at", "reference", "reference_origin",
	"jwt_custom_claim", "metadata", "anonymization_info", "anonymization_status"}

// view says how a resource is rendered: links base, sparse fields, includes.
type view struct {
	base    string          // scheme://host
	fields  map[string]bool // nil: every attribute and relationship
	include map[string]bool
}

func (v view) wants(name string) bool { return v.fields == nil || v.fields[name] }

// render is the resource object of c; call with s.mu held.
func (s *Sim) render(c *customer, v view) map[string]any {
	self := v.base + APIPath + "/customers/" + c.id
	all := map[string]any{
		"email":                c.email,
		"status":               c.status,
		"has_password":         c.hasPassword,
		"total_orders_count":   c.orders,
		"shopper_reference":    nil,
		"profile_id":           nil,
		"tax_exemption_code":   nil,
		"created_at":           c.created.Format(timeLayout),
		"updated_at":           c.updated.Format(timeLayout),
		"reference":            c.reference,
		"reference_origin":     c.referenceOrigin,
		"jwt_custom_claim":     map[string]any{},
		"metadata":             c.metadata,
		"anonymization_info":   nil,
		"anonymization_status": nil,
	}
	attrs := map[string]any{}
	for k, val := range all {
		if v.wants(k) {
			attrs[k] = val
		}
	}
	rels := map[string]any{}
	for _, rel := range relationships {
		if !v.wants(rel) {
			continue
		}
		r := map[string]any{"links": map[string]string{
			"self": self + "/relationships/" + rel, "related": self + "/" + rel}}
		if v.include[rel] {
			if toOne[rel] {
				r["data"] = nil
			} else {
				r["data"] = []any{}
			}
		}
		rels[rel] = r
	}
	trace := sha256.Sum256([]byte(c.id + c.updated.Format(timeLayout)))
	return map[string]any{
		"id":            c.id,
		"type":          "customers",
		"links":         map[string]string{"self": self},
		"attributes":    attrs,
		"relationships": rels,
		"meta":          map[string]any{"mode": "test", "organization_id": organizationID, "trace_id": hex.EncodeToString(trace[:])},
	}
}

// newID is a fresh 10-character alphanumeric id, deterministic per
// simulator; call with s.mu held.
func (s *Sim) newID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	for {
		s.created++
		h := fnv.New64a()
		fmt.Fprintf(h, "cl-new-%d", s.created)
		n := h.Sum64()
		b := make([]byte, 10)
		for i := range b {
			b[i] = alphabet[n%uint64(len(alphabet))]
			n /= uint64(len(alphabet))
		}
		if _, taken := s.customers[string(b)]; !taken {
			return string(b)
		}
	}
}

// --- errors ---

// apiError is one entry of the documented error body.
type apiError struct {
	Title  string         `json:"title"`
	Detail string         `json:"detail"`
	Code   string         `json:"code"`
	Status string         `json:"status"` // a string, as Commerce Layer sends it
	Source map[string]any `json:"source,omitempty"`
	Meta   map[string]any `json:"meta,omitempty"`
}

// defaultCodes are the code and title of each documented status.
var defaultCodes = map[int][2]string{
	400: {"BAD_REQUEST", "Bad request"},
	401: {"UNAUTHORIZED", "Unauthorized"},
	404: {"RECORD_NOT_FOUND", "Record not found"},
	405: {"METHOD_NOT_ALLOWED", "Method not allowed"},
	406: {"NOT_ACCEPTABLE", "Not acceptable"},
	409: {"RECORD_NOT_UNIQUE", "Record not unique"},
	415: {"UNSUPPORTED_MEDIA_TYPE", "Unsupported media type"},
	422: {"VALIDATION_ERROR", "Validation error"},
	423: {"LOCKED", "Locked"},
	429: {"TOO_MANY_REQUESTS", "Too many requests"},
	500: {"INTERNAL_SERVER_ERROR", "Internal server error"},
	502: {"BAD_GATEWAY", "Bad gateway"},
	503: {"SERVICE_UNAVAILABLE", "Service unavailable"},
	504: {"GATEWAY_TIMEOUT", "Gateway timeout"},
}

// WriteError writes Commerce Layer's error body for status with detail (the
// simkit error writer for injected faults).
func WriteError(w http.ResponseWriter, status int, detail string) {
	code, title := "ERROR", http.StatusText(status)
	if d, ok := defaultCodes[status]; ok {
		code, title = d[0], d[1]
	}
	writeErrors(w, status, apiError{Title: title, Detail: detail, Code: code})
}

func writeErrors(w http.ResponseWriter, status int, errs ...apiError) {
	for i := range errs {
		errs[i].Status = strconv.Itoa(status)
	}
	if status == http.StatusTooManyRequests && w.Header().Get("X-Ratelimit-Limit") == "" {
		// Commerce Layer sends the average limit's headers and no Retry-After.
		w.Header().Set("X-Ratelimit-Limit", rateLimit)
		w.Header().Set("X-Ratelimit-Interval", rateInterval)
		w.Header().Set("X-Ratelimit-Remaining", "0")
	}
	simkit.WriteJSON(w, status, commercelayer.MediaType, map[string]any{"errors": errs})
}

// badParam is a 400 with one of the documented query-error codes.
func badParam(w http.ResponseWriter, code, title, detail string) {
	writeErrors(w, http.StatusBadRequest, apiError{Title: title, Detail: detail, Code: code})
}

func notFound(w http.ResponseWriter) {
	WriteError(w, http.StatusNotFound, "The requested resource was not found. Please double-check the resource id.")
}

// validation is a 422 naming the attribute.
func validation(w http.ResponseWriter, attr, detail, kind string) {
	writeErrors(w, http.StatusUnprocessableEntity, apiError{Title: detail, Detail: attr + " - " + detail, Code: "VALIDATION_ERROR",
		Source: map[string]any{"pointer": "/data/attributes/" + attr}, Meta: map[string]any{"error": kind}})
}

// writeOAuthError writes an RFC 6749 error body (the token endpoint's fault writer).
func writeOAuthError(w http.ResponseWriter, status int, message string) {
	code := "invalid_request"
	switch {
	case status == http.StatusUnauthorized:
		code = "invalid_client"
	case status == http.StatusTooManyRequests:
		code = "too_many_requests"
	case status >= 500:
		code = "server_error"
	}
	simkit.WriteJSON(w, status, "application/json", map[string]string{"error": code, "error_description": message})
}

// Emails is every customer's id and email as stored (tests' ground truth).
func (s *Sim) Emails() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.customers))
	for id, c := range s.customers {
		out[id] = c.email
	}
	return out
}

// storedEmail is the person's email as a Commerce Layer customer holds it:
// every ninth person's in upper case. Nothing documents that Commerce Layer
// lower-cases emails, so the demo world has some that differ in case from
// the same person's records elsewhere.
func storedEmail(p demo.Person) string {
	if p.Index%9 == 4 {
		return strings.ToUpper(p.EmailAt(ds.CommerceLayer))
	}
	return p.EmailAt(ds.CommerceLayer)
}
