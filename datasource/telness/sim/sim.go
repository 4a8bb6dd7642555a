// Package sim simulates the Telness Tech Connect API's Customers resource
// for tests and `go run .`: GET /customers (search, limit 1..1000 default 100,
// opaque cursor; nextCursor omitted on the last page), GET /customers/{id},
// POST /customers and PUT /customers/{id}/billing with X-Idempotency-Key
// (24 h; same key and body replays, a modified body is 409), X-Api-Key auth
// and the assumed error body {"error":{"code":"…","message":"…"}}. Unknown,
// repeated or malformed query parameters are a 400.
package sim

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/simkit"
	"github.com/federated-customers/gateway/datasource/telness"
)

const (
	// APIKey is the key the simulator accepts.
	APIKey = "telness-sim-3f9c2a7e5b1d"
	// MaxLimit and DefaultLimit are the list's limit bounds and default.
	MaxLimit     = 1000
	DefaultLimit = 100
	// IdempotencyTTL is how long an X-Idempotency-Key is remembered.
	IdempotencyTTL = 24 * time.Hour
	// maxIdempotencyKey is the documented maximum key length.
	maxIdempotencyKey = 256
	maxBodyBytes      = 1 << 20
)

// cursorSecret signs the simulator's cursors so a made-up one is a 400.
var cursorSecret = []byte("telness-sim/cursor/v1")

// Sim is the simulated Connect API.
type Sim struct {
	kit *simkit.Kit
	h   http.Handler

	mu        sync.Mutex
	customers []*customer // native order: the demo people's order, then created ones
	byID      map[string]*customer
	idem      map[string]idemEntry
	created   int
	// now is the clock (tests may move it).
	now func() time.Time
}

type idemEntry struct {
	fingerprint string
	status      int
	body        []byte
	at          time.Time
}

// New renders the Telness customers of people.
func New(people []demo.Person) *Sim {
	s := &Sim{
		byID: map[string]*customer{},
		idem: map[string]idemEntry{},
		now:  time.Now,
	}
	for _, p := range people {
		id, ok := p.IDs[ds.Telness]
		if !ok {
			continue
		}
		c := render(p, id)
		s.customers = append(s.customers, c)
		s.byID[id] = c
	}
	s.kit = simkit.New(writeError)
	s.h = s.kit.Wrap(http.HandlerFunc(s.serve))
	return s
}

// Kit returns the request counter and fault injector.
func (s *Sim) Kit() *simkit.Kit { return s.kit }

// ClientConfig is a client configuration for this simulator served at baseURL.
func (s *Sim) ClientConfig(baseURL string) telness.Config {
	return telness.Config{BaseURL: baseURL, APIKey: APIKey}
}

// ServeHTTP serves the API through the kit.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.h.ServeHTTP(w, r) }

// SetClock replaces the simulator's clock (for idempotency-expiry tests).
func (s *Sim) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// Len is the number of customers the simulator holds.
func (s *Sim) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.customers)
}

// errorCodes are the (assumed) error.code values by status.
func errorCode(status int) string {
	switch status {
	case 400:
		return "VALIDATION_ERROR"
	case 401:
		return "UNAUTHORIZED"
	case 403:
		return "FORBIDDEN"
	case 404:
		return "NOT_FOUND"
	case 405:
		return "METHOD_NOT_ALLOWED"
	case 406:
		return "NOT_ACCEPTABLE"
	case 409:
		return "CONFLICT"
	case 413:
		return "PAYLOAD_TOO_LARGE"
	case 415:
		return "UNSUPPORTED_MEDIA_TYPE"
	case 429:
		return "RATE_LIMITED"
	}
	if status >= 500 {
		return "INTERNAL_ERROR"
	}
	return "ERROR"
}

// writeError writes {"error":{"code":"…","message":"…"}}.
func writeError(w http.ResponseWriter, status int, message string) {
	if message == "" {
		message = http.StatusText(status)
	}
	simkit.WriteJSON(w, status, "application/json", map[string]any{
		"error": map[string]string{"code": errorCode(status), "message": message},
	})
}

func (s *Sim) serve(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("X-Api-Key")
	if key == "" || subtle.ConstantTimeCompare([]byte(key), []byte(APIKey)) != 1 {
		writeError(w, http.StatusUnauthorized, "Missing or invalid API key")
		return
	}
	if !acceptsJSON(r.Header.Values("Accept")) {
		writeError(w, http.StatusNotAcceptable, "This API only produces application/json")
		return
	}
	segs, ok := splitPath(r.URL.EscapedPath())
	if !ok || len(segs) == 0 || segs[0] != "customers" || len(segs) > 3 || (len(segs) == 3 && segs[2] != "billing") {
		writeError(w, http.StatusNotFound, "No such resource")
		return
	}
	switch {
	case len(segs) == 1:
		switch r.Method {
		case http.MethodGet:
			if checkQuery(w, r, "limit", "cursor", "search") {
				s.list(w, r)
			}
		case http.MethodPost:
			if checkQuery(w, r) {
				s.write(w, r, s.create)
			}
		default:
			methodNotAllowed(w, "GET, POST")
		}
	case len(segs) == 2:
		if r.Method != http.MethodGet {
			methodNotAllowed(w, "GET")
			return
		}
		if checkQuery(w, r) {
			s.get(w, segs[1])
		}
	default:
		if r.Method != http.MethodPut {
			methodNotAllowed(w, "PUT")
			return
		}
		id := segs[1]
		if checkQuery(w, r) {
			s.write(w, r, func(body []byte) (int, any, string) { return s.updateBilling(id, body) })
		}
	}
}

// checkQuery answers 400 (and false) for a query that is malformed, names a
// parameter the endpoint does not document, or repeats one. The docs do not
// say how the API treats unknown or repeated parameters; the simulator
// refuses them so that a client sending an undocumented name (offset, q,
// page, email...) or relying on which repeat wins fails here first.
func checkQuery(w http.ResponseWriter, r *http.Request, allowed ...string) bool {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeError(w, http.StatusBadRequest, "The query string is malformed")
		return false
	}
	for k, vs := range q {
		switch {
		case !slices.Contains(allowed, k):
			writeError(w, http.StatusBadRequest, "Unknown query parameter "+strconv.Quote(k))
			return false
		case len(vs) > 1:
			writeError(w, http.StatusBadRequest, "Query parameter "+strconv.Quote(k)+" is given more than once")
			return false
		}
	}
	return true
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, "Method not allowed; use "+allow)
}

// splitPath splits an escaped path into unescaped segments; "" segments
// (a trailing or double slash) are not paths of this API.
func splitPath(p string) ([]string, bool) {
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return nil, true
	}
	parts := strings.Split(p, "/")
	for i, part := range parts {
		u, err := url.PathUnescape(part)
		if err != nil || u == "" {
			return nil, false
		}
		parts[i] = u
	}
	return parts, true
}

func acceptsJSON(values []string) bool {
	if len(values) == 0 {
		return true
	}
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			switch mt {
			case "application/json", "application/*", "*/*":
				return true
			}
		}
	}
	return false
}

// list is GET /customers.
func (s *Sim) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := DefaultLimit
	if vs, ok := q["limit"]; ok {
		n, err := strictInt(vs[0])
		if err != nil || n < 1 || n > MaxLimit {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit must be an integer between 1 and %d", MaxLimit))
			return
		}
		limit = n
	}
	search := strings.ToLower(strings.TrimSpace(q.Get("search")))
	offset := 0
	if vs, ok := q["cursor"]; ok {
		n, err := decodeCursor(vs[0], search)
		if err != nil {
			writeError(w, http.StatusBadRequest, "cursor is invalid: pass nextCursor from a previous response unchanged")
			return
		}
		offset = n
	}

	s.mu.Lock()
	var hits []*customer
	for _, c := range s.customers {
		if search == "" || c.matches(search) {
			hits = append(hits, c)
		}
	}
	resp := listResponse{Items: []*customer{}}
	if offset < len(hits) {
		end := min(offset+limit, len(hits))
		resp.Items = hits[offset:end]
		if end < len(hits) {
			resp.Pagination.NextCursor = encodeCursor(end, search)
		}
	}
	body, err := json.Marshal(resp)
	s.mu.Unlock()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "Could not encode the response")
		return
	}
	writeBody(w, http.StatusOK, body)
}

type listResponse struct {
	Items      []*customer `json:"items"`
	Pagination struct {
		NextCursor string `json:"nextCursor,omitempty"`
	} `json:"pagination"`
}

// strictInt accepts only plain decimal digits.
func strictInt(v string) (int, error) {
	if v == "" || len(v) > 9 || strings.TrimLeft(v, "0123456789") != "" {
		return 0, errors.New("not an integer")
	}
	return strconv.Atoi(v)
}

// encodeCursor is base64url("o:<offset>:<checksum>"); the checksum binds
// the offset to the search it was issued for.
func encodeCursor(offset int, search string) string {
	o := strconv.Itoa(offset)
	return base64.RawURLEncoding.EncodeToString([]byte("o:" + o + ":" + cursorMAC(o, search)))
}

func decodeCursor(tok, search string) (int, error) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, err
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != 3 || parts[0] != "o" {
		return 0, errors.New("malformed")
	}
	if !hmac.Equal([]byte(parts[2]), []byte(cursorMAC(parts[1], search))) {
		return 0, errors.New("bad checksum")
	}
	return strictInt(parts[1])
}

func cursorMAC(offset, search string) string {
	m := hmac.New(sha256.New, cursorSecret)
	m.Write([]byte(offset + "\x00" + search))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// get is GET /customers/{customerId}.
func (s *Sim) get(w http.ResponseWriter, id string) {
	s.mu.Lock()
	c, ok := s.byID[id]
	var body []byte
	var err error
	if ok {
		body, err = json.Marshal(c)
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "Customer "+strconv.Quote(id)+" not found")
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "Could not encode the response")
		return
	}
	writeBody(w, http.StatusOK, body)
}

// write runs a write handler under X-Idempotency-Key: a stored success for
// the same key and the identical request is replayed; the same key with a
// different request is 409. Only successes are stored (a rejected request
// may be corrected and sent again under its key).
func (s *Sim) write(w http.ResponseWriter, r *http.Request, do func(body []byte) (int, any, string)) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "Could not read the request body")
		return
	}
	if len(body) > maxBodyBytes {
		writeError(w, http.StatusRequestEntityTooLarge, "Request body too large")
		return
	}
	key, hasKey := r.Header.Get(telness.IdempotencyHeader), len(r.Header.Values(telness.IdempotencyHeader)) > 0
	if hasKey && (key == "" || len(key) > maxIdempotencyKey) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("X-Idempotency-Key must be 1 to %d characters", maxIdempotencyKey))
		return
	}
	sum := sha256.Sum256([]byte(r.Method + " " + r.URL.EscapedPath() + "\n" + string(body)))
	fp := hex.EncodeToString(sum[:])

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, e := range s.idem {
		if now.Sub(e.at) >= IdempotencyTTL {
			delete(s.idem, k)
		}
	}
	if hasKey {
		if e, ok := s.idem[key]; ok {
			if e.fingerprint != fp {
				writeError(w, http.StatusConflict, "X-Idempotency-Key was already used with a different request")
				return
			}
			w.Header().Set("Idempotent-Replayed", "true")
			writeBody(w, e.status, e.body)
			return
		}
	}
	status, v, msg := do(body)
	if status >= 300 {
		writeError(w, status, msg)
		return
	}
	out, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "Could not encode the response")
		return
	}
	if hasKey {
		s.idem[key] = idemEntry{fingerprint: fp, status: status, body: out, at: now}
	}
	writeBody(w, status, out)
}

func writeBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
	_, _ = w.Write([]byte("\n"))
}

// createRequest is the documented body of POST /customers.
type createRequest struct {
	CustomerType        string         `json:"customerType"`
	Name                string         `json:"name"`
	Contact             *contact       `json:"contact"`
	Billing             *billing       `json:"billing"`
	UserIDs             []string       `json:"userIds"`
	ContactPersonUserID *string        `json:"contactPersonUserId"`
	Identity            string         `json:"identity"`
	PreferredLocale     string         `json:"preferredLocale"`
	Shipping            *shipping      `json:"shipping"`
	Metadata            map[string]any `json:"metadata"`
}

func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON body")
	}
	return nil
}

// create is POST /customers (called with s.mu held).
func (s *Sim) create(body []byte) (int, any, string) {
	var in createRequest
	if err := decodeStrict(body, &in); err != nil {
		return 400, nil, "Invalid request body: " + err.Error()
	}
	switch in.CustomerType {
	case "CONSUMER", "BUSINESS":
	case "":
		return 400, nil, "customerType is required (CONSUMER or BUSINESS)"
	default:
		return 400, nil, "customerType must be CONSUMER or BUSINESS"
	}
	if strings.TrimSpace(in.Name) == "" {
		return 400, nil, "name is required"
	}
	if in.Contact != nil {
		if msg := in.Contact.check(); msg != "" {
			return 400, nil, msg
		}
	}
	if in.PreferredLocale != "" && !isLocale(in.PreferredLocale) {
		return 400, nil, "preferredLocale must be a BCP-47 tag such as en-US"
	}
	if in.Billing != nil {
		if msg := in.Billing.check(); msg != "" {
			return 400, nil, msg
		}
	}
	if in.Shipping != nil && in.Shipping.Address != nil {
		if msg := in.Shipping.Address.check("shipping.address"); msg != "" {
			return 400, nil, msg
		}
	}
	if len(in.UserIDs) > 0 {
		return 400, nil, "userIds: no such user"
	}
	if in.ContactPersonUserID != nil {
		return 400, nil, "contactPersonUserId: no such user"
	}
	s.created++
	id := createdID(s.created)
	now := s.now().UTC().Truncate(time.Second).Format(time.RFC3339)
	c := &customer{
		CustomerID:      id,
		CustomerType:    in.CustomerType,
		Name:            in.Name,
		Contact:         contact{},
		Identity:        in.Identity,
		PreferredLocale: in.PreferredLocale,
		HumanReadableID: humanID(id),
		Billing:         in.Billing,
		Users:           []user{},
		Shipping:        in.Shipping,
		Metadata:        in.Metadata,
		CreatedAt:       now,
		UpdatedAt:       now,
	}
	if in.Contact != nil {
		c.Contact = *in.Contact
	}
	if c.Metadata == nil {
		c.Metadata = map[string]any{}
	}
	s.customers = append(s.customers, c)
	s.byID[id] = c
	return http.StatusCreated, c, ""
}

// billingRequest is the body of PUT /customers/{id}/billing.
type billingRequest struct {
	Method                  string   `json:"method"`
	Email                   string   `json:"email"`
	Address                 *address `json:"address"`
	Currency                string   `json:"currency"`
	DefaultPaymentProfileID *string  `json:"defaultPaymentProfileId"`
	AutoPay                 bool     `json:"autoPay"`
}

// updateBilling is PUT /customers/{id}/billing (called with s.mu held).
func (s *Sim) updateBilling(id string, body []byte) (int, any, string) {
	c, ok := s.byID[id]
	if !ok {
		return 404, nil, "Customer " + strconv.Quote(id) + " not found"
	}
	var in billingRequest
	if err := decodeStrict(body, &in); err != nil {
		return 400, nil, "Invalid request body: " + err.Error()
	}
	b := &billing{Method: in.Method, Currency: in.Currency, Email: in.Email, Address: in.Address,
		DefaultPaymentProfileID: in.DefaultPaymentProfileID, AutoPay: in.AutoPay}
	if b.Method == "" {
		return 400, nil, "method is required"
	}
	if msg := b.check(); msg != "" {
		return 400, nil, msg
	}
	c.Billing = b
	c.UpdatedAt = s.now().UTC().Truncate(time.Second).Format(time.RFC3339)
	return http.StatusOK, c, ""
}

func createdID(n int) string {
	sum := sha256.Sum256([]byte("telness-sim/created/" + strconv.Itoa(n)))
	h := hex.EncodeToString(sum[:16])
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

func isLocale(s string) bool {
	if len(s) > 35 {
		return false
	}
	for i, part := range strings.Split(s, "-") {
		if part == "" || len(part) > 8 || (i == 0 && (len(part) < 2 || len(part) > 3)) {
			return false
		}
		for _, r := range part {
			if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || i > 0 && '0' <= r && r <= '9') {
				return false
			}
		}
	}
	return true
}

// Emails is every customer's id and email as stored (tests' ground truth).
func (s *Sim) Emails() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.customers))
	for _, c := range s.customers {
		out[c.CustomerID] = c.Contact.Email
	}
	return out
}
