package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/federated-customers/gateway/datasource/simkit"
)

const (
	maxLimit     = 100
	defaultLimit = 10
	maxIDLength  = 40
	maxBodyBytes = 1 << 20
)

func (s *Sim) serve(w http.ResponseWriter, r *http.Request) {
	if !authorized(r.Header.Get("Authorization")) {
		writeErr(w, http.StatusUnauthorized, "unauthorized", "unauthorized", "",
			"Authorization failed: a valid secret API key is required as a Bearer token.")
		return
	}
	if !acceptsJSON(r.Header.Values("Accept")) {
		writeErr(w, http.StatusNotAcceptable, "not_acceptable", "not_acceptable", "",
			"The requested media type is not supported; accept application/json.")
		return
	}
	// Digital River documents Content-Type: application/json on every
	// request, not only on those with a body: the simulator holds the
	// client to it.
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		badRequest(w, "Every request must carry Content-Type: application/json.")
		return
	}
	segs, ok := segments(r.URL)
	if !ok || len(segs) == 0 || segs[0] != "customers" {
		notFound(w, "", "The requested resource %s was not found.", r.URL.Path)
		return
	}
	switch len(segs) {
	case 1:
		switch r.Method {
		case http.MethodGet:
			s.list(w, r)
		case http.MethodPost:
			s.create(w, r)
		default:
			methodNotAllowed(w, r, "GET, POST")
		}
		return
	case 2, 4:
		id := segs[1]
		if id == "" || (len(segs) == 4 && (segs[2] != "sources" || segs[3] == "")) {
			break
		}
		if utf8.RuneCountInString(id) > maxIDLength {
			badParam(w, "id", "Customer ID must be at most %d characters.", maxIDLength)
			return
		}
		if len(segs) == 2 {
			switch r.Method {
			case http.MethodGet:
				s.get(w, id)
			case http.MethodPost:
				s.update(w, r, id)
			case http.MethodDelete:
				s.delete(w, id)
			default:
				methodNotAllowed(w, r, "GET, POST, DELETE")
			}
			return
		}
		sid := segs[3]
		if !uuidRE.MatchString(sid) {
			badParam(w, "sourceId", "Source ID '%s' is not a valid UUID.", sid)
			return
		}
		switch r.Method {
		case http.MethodPost:
			s.attach(w, id, sid)
		case http.MethodDelete:
			s.detach(w, id, sid)
		default:
			methodNotAllowed(w, r, "POST, DELETE")
		}
		return
	}
	notFound(w, "", "The requested resource %s was not found.", r.URL.Path)
}

func authorized(h string) bool {
	scheme, token, ok := strings.Cut(h, " ")
	return ok && strings.EqualFold(scheme, "Bearer") && token == APIKey
}

// acceptsJSON: no Accept header, or one naming application/json, application/* or */*.
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
			if mt == "application/json" || mt == "application/*" || mt == "*/*" {
				return true
			}
		}
	}
	return false
}

func segments(u *url.URL) ([]string, bool) {
	parts := strings.Split(strings.TrimPrefix(u.EscapedPath(), "/"), "/")
	for i, p := range parts {
		v, err := url.PathUnescape(p)
		if err != nil {
			return nil, false
		}
		parts[i] = v
	}
	return parts, true
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	writeErr(w, http.StatusMethodNotAllowed, "method_not_allowed", "method_not_allowed", "",
		fmt.Sprintf("Method %s is not allowed on %s.", r.Method, r.URL.Path))
}

// --- list ---

// timeParams are the createdTime/updatedTime filters: an ISO string (eq) or
// the deepObject form createdTime[gte]=….
var timeParamRE = regexp.MustCompile(`^(createdTime|updatedTime)(?:\[(eq|gt|gte|lt|lte)\])?$`)

type timeCond struct {
	field, op string
	t         time.Time
}

func (c timeCond) match(cu *customer) bool {
	v := cu.created
	if c.field == "updatedTime" {
		v = cu.updated
	}
	switch c.op {
	case "gt":
		return v.After(c.t)
	case "gte":
		return !v.Before(c.t)
	case "lt":
		return v.Before(c.t)
	case "lte":
		return !v.After(c.t)
	}
	return v.Equal(c.t)
}

func (s *Sim) list(w http.ResponseWriter, r *http.Request) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		badRequest(w, "The query string is malformed.")
		return
	}
	var conds []timeCond
	for k, vs := range q {
		switch k {
		case "limit", "startingAfter", "endingBefore", "email", "ids", "requestToBeForgotten":
		default:
			m := timeParamRE.FindStringSubmatch(k)
			if m == nil {
				badParam(w, k, "Unknown parameter '%s'.", k)
				return
			}
			t, err := time.Parse(time.RFC3339, vs[0])
			if err != nil {
				badParam(w, k, "%s must be an ISO-8601 date-time.", k)
				return
			}
			conds = append(conds, timeCond{field: m[1], op: m[2], t: t})
		}
		if len(vs) != 1 {
			badParam(w, k, "Parameter '%s' must be given once.", k)
			return
		}
	}
	limit := defaultLimit
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > maxLimit {
			badParam(w, "limit", "The limit must be an integer between 1 and %d.", maxLimit)
			return
		}
		limit = n
	}
	if q.Has("startingAfter") && q.Has("endingBefore") {
		badRequest(w, "startingAfter and endingBefore cannot be used together.")
		return
	}
	for _, k := range []string{"startingAfter", "endingBefore"} {
		if v := q.Get(k); q.Has(k) && (v == "" || utf8.RuneCountInString(v) > maxIDLength) {
			badParam(w, k, "%s must be a customer ID of 1 to %d characters.", k, maxIDLength)
			return
		}
	}
	email, hasEmail := q.Get("email"), q.Has("email")
	if hasEmail && email == "" {
		writeErr(w, http.StatusBadRequest, "bad_request", "invalid_string_empty", "email", "email must not be empty.")
		return
	}
	var ids map[string]bool
	if q.Has("ids") {
		ids = map[string]bool{}
		for _, id := range splitIDs(r.URL.RawQuery) {
			if id == "" || utf8.RuneCountInString(id) > maxIDLength {
				badParam(w, "ids", "Each ID in ids must be 1 to %d characters.", maxIDLength)
				return
			}
			ids[id] = true
		}
	}
	var rtbf *bool
	if q.Has("requestToBeForgotten") {
		b, err := strconv.ParseBool(q.Get("requestToBeForgotten"))
		if err != nil || (q.Get("requestToBeForgotten") != "true" && q.Get("requestToBeForgotten") != "false") {
			badParam(w, "requestToBeForgotten", "requestToBeForgotten must be true or false.")
			return
		}
		rtbf = &b
	}
	match := func(c *customer) bool {
		if hasEmail && c.email != email { // exact and case-sensitive; emails are stored as sent
			return false
		}
		if ids != nil && !ids[c.id] {
			return false
		}
		if rtbf != nil && c.requestToBeForgotten != *rtbf {
			return false
		}
		for _, tc := range conds {
			if !tc.match(c) {
				return false
			}
		}
		return true
	}

	s.mu.Lock()
	all := s.ordered()
	var page []*customer
	hasMore := false
	switch {
	case q.Has("startingAfter"):
		i := indexOf(all, q.Get("startingAfter"))
		if i < 0 {
			s.mu.Unlock()
			badParam(w, "startingAfter", "startingAfter '%s' does not refer to an existing customer.", q.Get("startingAfter"))
			return
		}
		page, hasMore = take(all[i+1:], match, limit)
	case q.Has("endingBefore"):
		i := indexOf(all, q.Get("endingBefore"))
		if i < 0 {
			s.mu.Unlock()
			badParam(w, "endingBefore", "endingBefore '%s' does not refer to an existing customer.", q.Get("endingBefore"))
			return
		}
		var before []*customer
		for _, c := range all[:i] {
			if match(c) {
				before = append(before, c)
			}
		}
		// the limit items right before the cursor, in native order;
		// hasMore says whether more exist further back.
		hasMore = len(before) > limit
		page = before[max(0, len(before)-limit):]
	default:
		page, hasMore = take(all, match, limit)
	}
	out := wireList{HasMore: hasMore, Data: make([]wireCustomer, 0, len(page))}
	for _, c := range page {
		out.Data = append(out.Data, s.render(c))
	}
	s.mu.Unlock()
	simkit.WriteJSON(w, http.StatusOK, "application/json", out)
}

// splitIDs is the ids parameter of a raw query read as documented (form,
// explode=false): split on its literal commas, each part then decoded, so an
// encoded comma (%2C) belongs to an id and separates nothing. The caller has
// checked that ids occurs once and the query parses.
func splitIDs(rawQuery string) []string {
	for _, kv := range strings.Split(rawQuery, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if k, err := url.QueryUnescape(k); err != nil || k != "ids" {
			continue
		}
		var out []string
		for _, part := range strings.Split(v, ",") {
			id, _ := url.QueryUnescape(part) // ParseQuery decoded the whole value already
			out = append(out, id)
		}
		return out
	}
	return nil
}

// ordered is the native order: createdTime descending (newest first), ties
// by id descending. Call with s.mu held.
func (s *Sim) ordered() []*customer {
	all := make([]*customer, 0, len(s.customers))
	for _, c := range s.customers {
		all = append(all, c)
	}
	sort.Slice(all, func(i, j int) bool {
		if !all[i].created.Equal(all[j].created) {
			return all[i].created.After(all[j].created)
		}
		return all[i].id > all[j].id
	})
	return all
}

func indexOf(all []*customer, id string) int {
	for i, c := range all {
		if c.id == id {
			return i
		}
	}
	return -1
}

func take(cs []*customer, match func(*customer) bool, limit int) ([]*customer, bool) {
	var out []*customer
	for _, c := range cs {
		if !match(c) {
			continue
		}
		if len(out) == limit {
			return out, true
		}
		out = append(out, c)
	}
	return out, false
}

// --- single customer ---

func (s *Sim) get(w http.ResponseWriter, id string) {
	s.mu.Lock()
	c := s.customers[id]
	var out wireCustomer
	if c != nil {
		out = s.render(c)
	}
	s.mu.Unlock()
	if c == nil {
		customerNotFound(w, id)
		return
	}
	simkit.WriteJSON(w, http.StatusOK, "application/json", out)
}

func customerNotFound(w http.ResponseWriter, id string) {
	notFound(w, "id", "Customer '%s' not found.", id)
}

// customerFields are the writable fields shared by create and update.
type customerFields struct {
	Email           *string         `json:"email"`
	Shipping        *wireShipping   `json:"shipping"`
	DefaultSourceID *string         `json:"defaultSourceId"`
	Locale          *string         `json:"locale"`
	Type            *string         `json:"type"`
	Enabled         *bool           `json:"enabled"`
	Metadata        json.RawMessage `json:"metadata"`
}

type createRequest struct {
	ID *string `json:"id"`
	customerFields
}

type updateRequest struct {
	RequestToBeForgotten *bool `json:"requestToBeForgotten"`
	customerFields
}

var (
	localeRE  = regexp.MustCompile(`^[a-z]{2}_[A-Z]{2}$`)
	countryRE = regexp.MustCompile(`^[A-Z]{2}$`)
)

// readJSON decodes a required JSON body strictly (unknown fields are a 400).
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		badRequest(w, "The request body must be JSON with Content-Type: application/json.")
		return false
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil || len(b) > maxBodyBytes {
		badRequest(w, "The request body could not be read or is too large.")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field != "" {
			badParam(w, ute.Field, "Invalid value for '%s'.", ute.Field)
			return false
		}
		badRequest(w, "The request body is not a valid JSON object for this endpoint: %s", strings.TrimPrefix(err.Error(), "json: "))
		return false
	}
	if dec.More() {
		badRequest(w, "The request body must hold one JSON object.")
		return false
	}
	return true
}

// validate checks the writable fields and returns the decoded metadata
// (nil when absent). It writes the error and returns ok=false on failure.
func validate(w http.ResponseWriter, f *customerFields) (meta map[string]any, ok bool) {
	if f.Email != nil {
		if a, err := mail.ParseAddress(*f.Email); err != nil || a.Address != *f.Email {
			badParam(w, "email", "'%s' is not a valid email address.", *f.Email)
			return nil, false
		}
	}
	if f.Type != nil && *f.Type != "individual" && *f.Type != "business" {
		badParam(w, "type", "type must be one of individual, business.")
		return nil, false
	}
	if f.Locale != nil && !localeRE.MatchString(*f.Locale) {
		badParam(w, "locale", "'%s' is not a valid locale; use a language and country code such as en_US.", *f.Locale)
		return nil, false
	}
	if sh := f.Shipping; sh != nil {
		if sh.Email != "" {
			if a, err := mail.ParseAddress(sh.Email); err != nil || a.Address != sh.Email {
				badParam(w, "shipping.email", "'%s' is not a valid email address.", sh.Email)
				return nil, false
			}
		}
		if sh.Address != nil && sh.Address.Country != "" && !countryRE.MatchString(sh.Address.Country) {
			badParam(w, "shipping.address.country", "country must be an ISO 3166-1 alpha-2 code such as US.")
			return nil, false
		}
	}
	if f.DefaultSourceID != nil && !uuidRE.MatchString(*f.DefaultSourceID) {
		badParam(w, "defaultSourceId", "Source ID '%s' is not a valid UUID.", *f.DefaultSourceID)
		return nil, false
	}
	if len(f.Metadata) > 0 && string(f.Metadata) != "null" {
		dec := json.NewDecoder(bytes.NewReader(f.Metadata))
		dec.UseNumber()
		if err := dec.Decode(&meta); err != nil || meta == nil {
			badParam(w, "metadata", "metadata must be an object.")
			return nil, false
		}
		for k, v := range meta {
			switch x := v.(type) {
			case string, bool:
			case json.Number:
				n, err := x.Int64()
				if err != nil {
					badParam(w, "metadata", "metadata value of '%s' must be a string, boolean or integer.", k)
					return nil, false
				}
				meta[k] = n
			default:
				badParam(w, "metadata", "metadata value of '%s' must be a string, boolean or integer.", k)
				return nil, false
			}
		}
	}
	return meta, true
}

// apply sets the validated fields on c. Shipping and metadata are replaced as
// whole objects. Call with s.mu held.
func (s *Sim) apply(c *customer, f *customerFields, meta map[string]any) {
	// Emails are kept as sent: the docs do not say Digital River folds their case.
	if f.Email != nil {
		c.email = *f.Email
	}
	if f.Shipping != nil {
		sh := *f.Shipping
		if sh.Address != nil {
			a := *sh.Address
			sh.Address = &a
		}
		c.shipping = &sh
	}
	if f.Locale != nil {
		c.locale = *f.Locale
	}
	if f.Type != nil {
		c.typ = *f.Type
	}
	if f.Enabled != nil {
		c.enabled = *f.Enabled
	}
	if len(f.Metadata) > 0 {
		c.metadata = meta
	}
}

func (s *Sim) create(w http.ResponseWriter, r *http.Request) {
	var req createRequest
	if !readJSON(w, r, &req) {
		return
	}
	if req.ID != nil {
		if *req.ID == "" || utf8.RuneCountInString(*req.ID) > maxIDLength || strings.ContainsFunc(*req.ID, func(r rune) bool {
			return unicode.IsControl(r) || r == '/' || r == ','
		}) {
			badParam(w, "id", "Customer ID must be 1 to %d characters with no '/' or ','.", maxIDLength)
			return
		}
	}
	meta, ok := validate(w, &req.customerFields)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := ""
	if req.ID != nil {
		id = *req.ID
		if s.customers[id] != nil {
			writeErr(w, http.StatusConflict, "conflict", "conflict", "id", fmt.Sprintf("Customer '%s' already exists.", id))
			return
		}
	} else {
		for id == "" || s.customers[id] != nil {
			s.nextID++
			id = fmt.Sprintf("59%08d", s.nextID)
		}
	}
	if dsid := req.DefaultSourceID; dsid != nil {
		if src := s.sources[*dsid]; src == nil || src.customerID != "" {
			badParam(w, "defaultSourceId", "Source '%s' is not a chargeable source that can be attached.", *dsid)
			return
		}
	}
	now := s.now()
	c := &customer{id: id, created: now, updated: now, typ: "individual", enabled: true}
	s.apply(c, &req.customerFields, meta)
	if req.DefaultSourceID != nil {
		s.attachLocked(c, *req.DefaultSourceID)
		c.defaultSourceID = *req.DefaultSourceID
	}
	s.customers[id] = c
	simkit.WriteJSON(w, http.StatusCreated, "application/json", s.render(c))
}

func (s *Sim) update(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	exists := s.customers[id] != nil
	s.mu.Unlock()
	if !exists {
		customerNotFound(w, id)
		return
	}
	var req updateRequest
	if !readJSON(w, r, &req) {
		return
	}
	meta, ok := validate(w, &req.customerFields)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.customers[id]
	if c == nil {
		customerNotFound(w, id)
		return
	}
	if dsid := req.DefaultSourceID; dsid != nil {
		src := s.sources[*dsid]
		if src == nil || (src.customerID != "" && src.customerID != id) {
			badParam(w, "defaultSourceId", "Source '%s' is not a chargeable source of this customer.", *dsid)
			return
		}
	}
	s.apply(c, &req.customerFields, meta)
	if req.RequestToBeForgotten != nil {
		c.requestToBeForgotten = *req.RequestToBeForgotten
	}
	if req.DefaultSourceID != nil {
		s.attachLocked(c, *req.DefaultSourceID)
		c.defaultSourceID = *req.DefaultSourceID
	}
	c.updated = s.now()
	simkit.WriteJSON(w, http.StatusOK, "application/json", s.render(c))
}

func (s *Sim) delete(w http.ResponseWriter, id string) {
	s.mu.Lock()
	c := s.customers[id]
	if c != nil {
		for _, sid := range c.sourceIDs {
			if src := s.sources[sid]; src != nil {
				src.customerID = ""
			}
		}
		delete(s.customers, id)
	}
	s.mu.Unlock()
	if c == nil {
		customerNotFound(w, id)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// --- sources ---

// attachLocked attaches a free (or already attached) source to c; the first
// source becomes the default. Call with s.mu held.
func (s *Sim) attachLocked(c *customer, sid string) *source {
	src := s.sources[sid]
	if src.customerID == c.id {
		return src
	}
	src.customerID = c.id
	c.sourceIDs = append(c.sourceIDs, sid)
	if c.defaultSourceID == "" {
		c.defaultSourceID = sid
	}
	return src
}

func (s *Sim) attach(w http.ResponseWriter, id, sid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.customers[id]
	if c == nil {
		customerNotFound(w, id)
		return
	}
	src := s.sources[sid]
	if src == nil {
		notFound(w, "sourceId", "Source '%s' not found.", sid)
		return
	}
	if src.customerID != "" && src.customerID != id {
		writeErr(w, http.StatusConflict, "conflict", "conflict", "sourceId",
			fmt.Sprintf("Source '%s' is attached to another customer.", sid))
		return
	}
	s.attachLocked(c, sid)
	c.updated = s.now()
	simkit.WriteJSON(w, http.StatusOK, "application/json", renderSource(src))
}

func (s *Sim) detach(w http.ResponseWriter, id, sid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.customers[id]
	if c == nil {
		customerNotFound(w, id)
		return
	}
	i := -1
	for k, have := range c.sourceIDs {
		if have == sid {
			i = k
		}
	}
	if i < 0 {
		notFound(w, "sourceId", "Source '%s' is not attached to customer '%s'.", sid, id)
		return
	}
	c.sourceIDs = append(c.sourceIDs[:i:i], c.sourceIDs[i+1:]...)
	if src := s.sources[sid]; src != nil {
		src.customerID = ""
	}
	if c.defaultSourceID == sid {
		c.defaultSourceID = ""
		if len(c.sourceIDs) > 0 {
			c.defaultSourceID = c.sourceIDs[0]
		}
	}
	c.updated = s.now()
	w.WriteHeader(http.StatusNoContent)
}
