// Package sim simulates Commerce Layer's customers resource over the demo
// world: GET/POST /api/customers, GET/PATCH/DELETE /api/customers/{id} and
// the client-credentials token endpoint POST /oauth/token. It is as strict as
// the docs: Accept application/vnd.api+json (406), Content-Type on writes
// (415), page[size] 1..25 and page[number] >= 1 (400 INVALID_PAGE_VALUE),
// known sort fields (400 INVALID_SORT_CRITERIA), known Ransack filters
// (400 FILTER_NOT_ALLOWED), links.next absent on the last page, string
// statuses in error bodies, 401 for a missing, unknown or expired token.
package sim

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"mime"
	"net/http"
	"net/url"
	"sort"
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
	ClientSecret = "cl_sim_secret_0a1b2c3d4e5f6a7b8c9d"
	// AccessToken is a static token that never expires (the access_token form).
	AccessToken = "cl_sim_static_token_5e4d3c2b1a"
	// TokenLifetime is the documented lifetime of issued tokens.
	TokenLifetime = 2 * time.Hour
)

const timeLayout = "2006-01-02T15:04:05.000Z"

// Sim is the Commerce Layer simulator.
type Sim struct {
	kit *simkit.Kit
	h   http.Handler

	mu          sync.Mutex
	customers   map[string]*customer
	tokens      map[string]bool
	tokenCalls  int
	issued      int
	created     int
	base        string // scheme://host of the last request, for links
	now         func() time.Time
	tokenStatus int // when non-zero, the token endpoint answers with it
}

type customer struct {
	id               string
	email            string
	status           string
	orders           int
	created, updated time.Time
	reference        *string
	referenceOrigin  *string
	metadata         map[string]any
}

// New renders the demo people known at Commerce Layer.
func New(people []demo.Person) *Sim {
	s := &Sim{
		customers: map[string]*customer{},
		tokens:    map[string]bool{},
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
			email:    strings.ToLower(p.Email),
			status:   []string{"prospect", "acquired", "repeat", "repeat"}[orders],
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
	s.h = s.kit.Wrap(http.HandlerFunc(s.serve))
	return s
}

// Kit returns the request counter and fault injector.
func (s *Sim) Kit() *simkit.Kit { return s.kit }

// ServeHTTP serves the simulated API. The token endpoint lives on another
// host at Commerce Layer (auth.commercelayer.io), so it bypasses the kit:
// its calls are counted by TokenCalls and injected faults never hit it
// (FailTokens does that).
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/oauth/token" {
		s.token(w, r)
		return
	}
	s.h.ServeHTTP(w, r)
}

// ClientConfig is the client-credentials configuration for a simulator served
// at serverURL (the API under /api, the token endpoint at /oauth/token).
func (s *Sim) ClientConfig(serverURL string) commercelayer.Config {
	return commercelayer.Config{BaseURL: serverURL + "/api", ClientID: ClientID, ClientSecret: ClientSecret,
		TokenURL: serverURL + "/oauth/token"}
}

// TokenConfig is the static access_token configuration.
func (s *Sim) TokenConfig(serverURL string) commercelayer.Config {
	return commercelayer.Config{BaseURL: serverURL + "/api", AccessToken: AccessToken}
}

// ExpireTokens makes every issued token invalid (the static one stays valid).
func (s *Sim) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]bool{}
}

// TokenCalls is how many token requests the simulator answered.
func (s *Sim) TokenCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenCalls
}

// FailTokens makes the token endpoint answer status (0 restores it).
func (s *Sim) FailTokens(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenStatus = status
}

// apiError is one entry of the documented error body.
type apiError struct {
	Title  string         `json:"title"`
	Detail string         `json:"detail"`
	Code   string         `json:"code"`
	Status string         `json:"status"` // a string, as CL sends it
	Source map[string]any `json:"source,omitempty"`
	Meta   map[string]any `json:"meta,omitempty"`
}

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
}

// WriteError writes CL's error body for status (the simkit fault writer).
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
		// CL sends the average-limit headers and never Retry-After.
		w.Header().Set("X-Ratelimit-Limit", "100")
		w.Header().Set("X-Ratelimit-Interval", "60")
		w.Header().Set("X-Ratelimit-Remaining", "0")
	}
	simkit.WriteJSON(w, status, commercelayer.MediaType, map[string]any{"errors": errs})
}

func badParam(w http.ResponseWriter, code, detail string) {
	writeErrors(w, http.StatusBadRequest, apiError{Title: "Bad request", Detail: detail, Code: code})
}

func (s *Sim) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/")
	if !ok {
		WriteError(w, http.StatusNotFound, "The requested resource was not found.")
		return
	}
	seg := strings.Split(rest, "/")
	if seg[0] != "customers" || len(seg) > 2 || (len(seg) == 2 && seg[1] == "") {
		WriteError(w, http.StatusNotFound, "The requested resource was not found.")
		return
	}
	if !acceptsJSONAPI(r.Header.Get("Accept")) {
		WriteError(w, http.StatusNotAcceptable, "The Accept header must be application/vnd.api+json.")
		return
	}
	if !s.authorized(r) {
		WriteError(w, http.StatusUnauthorized, "The access token is missing, expired or invalid.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.base = "http://" + r.Host
	if len(seg) == 1 {
		switch r.Method {
		case http.MethodGet:
			s.list(w, r)
		case http.MethodPost:
			s.create(w, r)
		default:
			w.Header().Set("Allow", "GET, POST")
			WriteError(w, http.StatusMethodNotAllowed, "Method not allowed.")
		}
		return
	}
	id := seg[1]
	switch r.Method {
	case http.MethodGet:
		c, ok := s.customers[id]
		if !ok {
			notFound(w)
			return
		}
		simkit.WriteJSON(w, http.StatusOK, commercelayer.MediaType, map[string]any{"data": s.render(c)})
	case http.MethodPatch:
		s.update(w, r, id)
	case http.MethodDelete:
		if _, ok := s.customers[id]; !ok {
			notFound(w)
			return
		}
		delete(s.customers, id)
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, PATCH, DELETE")
		WriteError(w, http.StatusMethodNotAllowed, "Method not allowed.")
	}
}

func notFound(w http.ResponseWriter) {
	WriteError(w, http.StatusNotFound, "The requested resource was not found. Please double-check the resource id.")
}

// acceptsJSONAPI: the Accept header must name the JSON:API media type.
func acceptsJSONAPI(h string) bool {
	for _, part := range strings.Split(h, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && mt == commercelayer.MediaType {
			return true
		}
	}
	return false
}

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
	return s.tokens[tok]
}

// token is POST /oauth/token with grant_type=client_credentials, as a form
// or a JSON body.
func (s *Sim) token(w http.ResponseWriter, r *http.Request) {
	oauthErr := func(status int, code, desc string) {
		simkit.WriteJSON(w, status, "application/json", map[string]string{"error": code, "error_description": desc})
	}
	if r.Method != http.MethodPost {
		oauthErr(http.StatusMethodNotAllowed, "invalid_request", "use POST")
		return
	}
	s.mu.Lock()
	s.tokenCalls++
	failWith := s.tokenStatus
	s.mu.Unlock()
	if failWith != 0 {
		oauthErr(failWith, "server_error", "the token endpoint failed")
		return
	}
	var in struct {
		GrantType    string `json:"grant_type"`
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		Scope        string `json:"scope"`
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil {
			oauthErr(http.StatusBadRequest, "invalid_request", "the body is not JSON")
			return
		}
	case "application/x-www-form-urlencoded":
		r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
		if err := r.ParseForm(); err != nil {
			oauthErr(http.StatusBadRequest, "invalid_request", "the body is not a form")
			return
		}
		in.GrantType, in.ClientID, in.ClientSecret, in.Scope = r.PostForm.Get("grant_type"),
			r.PostForm.Get("client_id"), r.PostForm.Get("client_secret"), r.PostForm.Get("scope")
	default:
		oauthErr(http.StatusUnsupportedMediaType, "invalid_request", "send JSON or a form")
		return
	}
	if in.GrantType != "client_credentials" {
		oauthErr(http.StatusBadRequest, "unsupported_grant_type", "only client_credentials is supported")
		return
	}
	if in.ClientID != ClientID || in.ClientSecret != ClientSecret {
		oauthErr(http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
		return
	}
	s.mu.Lock()
	s.issued++
	tok := fmt.Sprintf("cl_sim_issued_%06d", s.issued)
	s.tokens[tok] = true
	now := s.now()
	s.mu.Unlock()
	simkit.WriteJSON(w, http.StatusOK, "application/json", map[string]any{
		"access_token": tok, "token_type": "bearer", "expires_in": int(TokenLifetime.Seconds()),
		"scope": in.Scope, "created_at": now.Unix(),
	})
}

// render is the resource object of c.
func (s *Sim) render(c *customer) map[string]any {
	self := s.base + "/api/customers/" + c.id
	rels := map[string]any{}
	for _, rel := range []string{"customer_group", "customer_addresses", "customer_payment_sources", "orders", "tags"} {
		rels[rel] = map[string]any{"links": map[string]string{
			"self": self + "/relationships/" + rel, "related": self + "/" + rel}}
	}
	return map[string]any{
		"id":    c.id,
		"type":  "customers",
		"links": map[string]string{"self": self},
		"attributes": map[string]any{
			"email":                c.email,
			"status":               c.status,
			"has_password":         false,
			"total_orders_count":   c.orders,
			"created_at":           c.created.Format(timeLayout),
			"updated_at":           c.updated.Format(timeLayout),
			"reference":            c.reference,
			"reference_origin":     c.referenceOrigin,
			"metadata":             c.metadata,
			"anonymization_status": nil,
		},
		"relationships": rels,
		"meta":          map[string]any{"mode": "test", "organization_id": "xRRkjDFafe"},
	}
}

// sortable are the sort fields the simulator supports, by attribute.
var sortable = map[string]func(a, b *customer) int{
	"id":                 func(a, b *customer) int { return strings.Compare(a.id, b.id) },
	"email":              func(a, b *customer) int { return strings.Compare(a.email, b.email) },
	"created_at":         func(a, b *customer) int { return a.created.Compare(b.created) },
	"updated_at":         func(a, b *customer) int { return a.updated.Compare(b.updated) },
	"status":             func(a, b *customer) int { return strings.Compare(a.status, b.status) },
	"total_orders_count": func(a, b *customer) int { return a.orders - b.orders },
	"reference":          func(a, b *customer) int { return strings.Compare(deref(a.reference), deref(b.reference)) },
	"reference_origin":   func(a, b *customer) int { return strings.Compare(deref(a.referenceOrigin), deref(b.referenceOrigin)) },
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// filters are the Ransack predicates the simulator supports.
var filters = map[string]func(c *customer, v string) bool{
	"email_eq":            func(c *customer, v string) bool { return c.email == v },
	"email_cont":          func(c *customer, v string) bool { return strings.Contains(c.email, strings.ToLower(v)) }, // ILIKE
	"id_eq":               func(c *customer, v string) bool { return c.id == v },
	"id_in":               func(c *customer, v string) bool { return contains(strings.Split(v, ","), c.id) },
	"id_gt":               func(c *customer, v string) bool { return c.id > v },
	"status_eq":           func(c *customer, v string) bool { return c.status == v },
	"status_in":           func(c *customer, v string) bool { return contains(strings.Split(v, ","), c.status) },
	"reference_eq":        func(c *customer, v string) bool { return deref(c.reference) == v },
	"reference_origin_eq": func(c *customer, v string) bool { return deref(c.referenceOrigin) == v },
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// list is GET /api/customers. Default order is created_at then id.
func (s *Sim) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	number, size := 1, 10
	var preds []func(*customer) bool
	order := []string{"created_at", "id"}
	for key, vs := range q {
		v := vs[0]
		switch {
		case key == "page[number]":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				badParam(w, "INVALID_PAGE_VALUE", fmt.Sprintf("%q is not a valid page number", v))
				return
			}
			number = n
		case key == "page[size]":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > commercelayer.MaxPageSize {
				badParam(w, "INVALID_PAGE_VALUE", fmt.Sprintf("%q is not a valid page size: it must be between 1 and %d", v, commercelayer.MaxPageSize))
				return
			}
			size = n
		case key == "sort":
			order = nil
			for _, f := range strings.Split(v, ",") {
				if _, ok := sortable[strings.TrimPrefix(f, "-")]; !ok {
					badParam(w, "INVALID_SORT_CRITERIA", fmt.Sprintf("%q is not a valid sort criteria", f))
					return
				}
				order = append(order, f)
			}
		case strings.HasPrefix(key, "filter[q][") && strings.HasSuffix(key, "]"):
			name := strings.TrimSuffix(strings.TrimPrefix(key, "filter[q]["), "]")
			f, ok := filters[name]
			if !ok {
				badParam(w, "FILTER_NOT_ALLOWED", fmt.Sprintf("filter %q is not allowed", name))
				return
			}
			preds = append(preds, func(c *customer) bool { return f(c, v) })
		case key == "include" || strings.HasPrefix(key, "fields["):
			// accepted; the simulator renders every attribute and no includes
		default:
			badParam(w, "PARAM_NOT_ALLOWED", fmt.Sprintf("parameter %q is not allowed", key))
			return
		}
	}
	var all []*customer
	for _, c := range s.customers {
		ok := true
		for _, p := range preds {
			ok = ok && p(c)
		}
		if ok {
			all = append(all, c)
		}
	}
	sort.Slice(all, func(i, j int) bool {
		for _, f := range order {
			d := sortable[strings.TrimPrefix(f, "-")](all[i], all[j])
			if strings.HasPrefix(f, "-") {
				d = -d
			}
			if d != 0 {
				return d < 0
			}
		}
		return all[i].id < all[j].id
	})
	pages := (len(all) + size - 1) / size
	from := min((number-1)*size, len(all))
	to := min(from+size, len(all))
	data := make([]map[string]any, 0, to-from)
	for _, c := range all[from:to] {
		data = append(data, s.render(c))
	}
	link := func(n int) string {
		lq := url.Values{}
		for k, vs := range q {
			lq[k] = vs
		}
		lq.Set("page[number]", strconv.Itoa(n))
		lq.Set("page[size]", strconv.Itoa(size))
		return s.base + "/api/customers?" + lq.Encode()
	}
	links := map[string]string{"first": link(1), "last": link(max(pages, 1))}
	if number < pages {
		links["next"] = link(number + 1)
	}
	if number > 1 {
		links["prev"] = link(number - 1)
	}
	simkit.WriteJSON(w, http.StatusOK, commercelayer.MediaType, map[string]any{
		"data":  data,
		"meta":  map[string]int{"record_count": len(all), "page_count": pages},
		"links": links,
	})
}

type writeDoc struct {
	Data *struct {
		Type       string         `json:"type"`
		ID         *string        `json:"id"`
		Attributes map[string]any `json:"attributes"`
	} `json:"data"`
}

// readWrite checks the Content-Type and decodes a write document.
func readWrite(w http.ResponseWriter, r *http.Request) (*writeDoc, bool) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != commercelayer.MediaType {
		WriteError(w, http.StatusUnsupportedMediaType, "The Content-Type header must be application/vnd.api+json.")
		return nil, false
	}
	var doc writeDoc
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&doc); err != nil || doc.Data == nil {
		badParam(w, "BAD_REQUEST", "The body must be a JSON:API document with a data object.")
		return nil, false
	}
	if doc.Data.Type != "customers" {
		writeErrors(w, http.StatusConflict, apiError{Title: "Type mismatch", Detail: "data.type must be customers", Code: "TYPE_MISMATCH"})
		return nil, false
	}
	return &doc, true
}

// validation is a 422 naming the attribute.
func validation(w http.ResponseWriter, attr, detail, kind string) {
	writeErrors(w, http.StatusUnprocessableEntity, apiError{Title: detail, Detail: attr + " - " + detail, Code: "VALIDATION_ERROR",
		Source: map[string]any{"pointer": "/data/attributes/" + attr}, Meta: map[string]any{"error": kind}})
}

// apply sets writable attributes; false after writing a 4xx.
func (s *Sim) apply(w http.ResponseWriter, c *customer, attrs map[string]any, creating bool) bool {
	for k, v := range attrs {
		switch k {
		case "email":
			e, ok := v.(string)
			e = strings.ToLower(strings.TrimSpace(e))
			if !ok || !strings.Contains(e, "@") || strings.HasPrefix(e, "@") || strings.HasSuffix(e, "@") {
				validation(w, "email", "is invalid", "invalid")
				return false
			}
			for _, o := range s.customers {
				if o.email == e && o.id != c.id {
					validation(w, "email", "has already been taken", "taken")
					return false
				}
			}
			c.email = e
		case "metadata":
			m, ok := v.(map[string]any)
			if !ok {
				validation(w, "metadata", "must be an object", "invalid")
				return false
			}
			c.metadata = m
		case "reference", "reference_origin":
			str, ok := v.(string)
			if !ok && v != nil {
				validation(w, k, "must be a string", "invalid")
				return false
			}
			var p *string
			if ok {
				p = &str
			}
			if k == "reference" {
				c.reference = p
			} else {
				c.referenceOrigin = p
			}
		case "password", "customer_group", "_add_tags", "_remove_tags", "_request_anonymization", "_cancel_anonymization":
			// accepted and not rendered
		default:
			badParam(w, "PARAM_NOT_ALLOWED", fmt.Sprintf("attribute %q is not allowed", k))
			return false
		}
	}
	if creating && c.email == "" {
		validation(w, "email", "can't be blank", "blank")
		return false
	}
	return true
}

func (s *Sim) create(w http.ResponseWriter, r *http.Request) {
	doc, ok := readWrite(w, r)
	if !ok {
		return
	}
	now := s.now()
	c := &customer{id: s.newID(), status: "prospect", created: now, updated: now, metadata: map[string]any{}}
	if !s.apply(w, c, doc.Data.Attributes, true) {
		return
	}
	s.customers[c.id] = c
	simkit.WriteJSON(w, http.StatusCreated, commercelayer.MediaType, map[string]any{"data": s.render(c)})
}

func (s *Sim) update(w http.ResponseWriter, r *http.Request, id string) {
	doc, ok := readWrite(w, r)
	if !ok {
		return
	}
	if doc.Data.ID == nil || *doc.Data.ID != id {
		badParam(w, "KEY_NOT_INCLUDED_IN_URL", "The data.id of the body must match the id in the URL.")
		return
	}
	c, ok := s.customers[id]
	if !ok {
		notFound(w)
		return
	}
	next := *c
	if !s.apply(w, &next, doc.Data.Attributes, false) {
		return
	}
	next.updated = s.now()
	*c = next
	simkit.WriteJSON(w, http.StatusOK, commercelayer.MediaType, map[string]any{"data": s.render(c)})
}

// newID is a fresh 10-character alphanumeric id, deterministic per simulator.
func (s *Sim) newID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
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
