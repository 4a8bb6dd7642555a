package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/federated-customers/gateway/datasource/commercelayer"
	"github.com/federated-customers/gateway/datasource/simkit"
)

const maxBody = 1 << 20

// serveAPI routes /api/customers and /api/customers/{id}.
func (s *Sim) serveAPI(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, APIPath+"/")
	if !ok {
		WriteError(w, http.StatusNotFound, "The requested resource was not found.")
		return
	}
	rest = strings.TrimSuffix(rest, "/") // Rails routes ignore a trailing slash
	seg := strings.Split(rest, "/")
	if seg[0] != "customers" || len(seg) > 2 || (len(seg) == 2 && seg[1] == "") {
		WriteError(w, http.StatusNotFound, "The requested resource was not found.")
		return
	}
	if !acceptsJSONAPI(r.Header.Values("Accept")) {
		WriteError(w, http.StatusNotAcceptable, "The Accept header must be "+commercelayer.MediaType+".")
		return
	}
	if !s.authorized(r) {
		WriteError(w, http.StatusUnauthorized, "The access token is missing, expired or invalid.")
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	base := scheme + "://" + r.Host
	if len(seg) == 1 {
		switch r.Method {
		case http.MethodGet:
			s.list(w, r, base)
		case http.MethodPost:
			s.create(w, r, base)
		default:
			w.Header().Set("Allow", "GET, POST")
			WriteError(w, http.StatusMethodNotAllowed, "Method not allowed.")
		}
		return
	}
	id := seg[1]
	switch r.Method {
	case http.MethodGet:
		s.get(w, r, base, id)
	case http.MethodPatch:
		s.update(w, r, base, id)
	case http.MethodDelete:
		s.mu.Lock()
		_, ok := s.customers[id]
		delete(s.customers, id)
		s.mu.Unlock()
		if !ok {
			notFound(w)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, PATCH, DELETE")
		WriteError(w, http.StatusMethodNotAllowed, "Method not allowed.")
	}
}

// acceptsJSONAPI: some Accept value must be the JSON:API media type without
// parameters (JSON:API answers 406 when every instance carries parameters).
func acceptsJSONAPI(values []string) bool {
	for _, h := range values {
		for _, part := range strings.Split(h, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err == nil && mt == commercelayer.MediaType && len(params) == 0 {
				return true
			}
		}
	}
	return false
}

// viewParams reads fields[customers] and include, writing a 400 on error.
func viewParams(w http.ResponseWriter, q url.Values, base string) (view, bool) {
	v := view{base: base}
	for key, vals := range q {
		switch {
		case key == "fields[customers]":
			v.fields = map[string]bool{}
			for _, f := range strings.Split(vals[0], ",") {
				if !contains(attributeNames, f) && !contains(relationships, f) {
					badParam(w, "INVALID_FIELD", "Invalid field", fmt.Sprintf("%s is not a valid field for customers.", f))
					return v, false
				}
				v.fields[f] = true
			}
		case strings.HasPrefix(key, "fields["):
			badParam(w, "INVALID_RESOURCE", "Invalid resource", fmt.Sprintf("%s is not a valid resource.", strings.TrimSuffix(strings.TrimPrefix(key, "fields["), "]")))
			return v, false
		case key == "include":
			v.include = map[string]bool{}
			for _, path := range strings.Split(vals[0], ",") {
				rel, _, _ := strings.Cut(path, ".")
				if !contains(relationships, rel) || path != rel {
					// the simulator has no related records, so no nested paths either
					badParam(w, "INVALID_INCLUDE", "Invalid include", fmt.Sprintf("%s is not a valid includable relationship of customers", path))
					return v, false
				}
				v.include[rel] = true
			}
		}
	}
	return v, true
}

// document writes {"data": …} (plus included when asked) with status.
func document(w http.ResponseWriter, status int, data any, v view, extra map[string]any) {
	doc := map[string]any{"data": data}
	if v.include != nil {
		doc["included"] = []any{}
	}
	for k, x := range extra {
		doc[k] = x
	}
	simkit.WriteJSON(w, status, commercelayer.MediaType, doc)
}

func (s *Sim) get(w http.ResponseWriter, r *http.Request, base, id string) {
	q := r.URL.Query()
	for key := range q {
		if key != "include" && !strings.HasPrefix(key, "fields[") {
			badParam(w, "PARAM_NOT_ALLOWED", "Param not allowed", fmt.Sprintf("%s is not allowed.", key))
			return
		}
	}
	v, ok := viewParams(w, q, base)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.customers[id]
	if !ok {
		notFound(w)
		return
	}
	document(w, http.StatusOK, s.render(c, v), v, nil)
}

// --- the list: page, sort, Ransack filters ---

// attrKind is how an attribute compares in sorts and filters.
type attrKind int

const (
	kindString attrKind = iota
	kindTime
	kindInt
)

type attr struct {
	kind attrKind
	get  func(c *customer) *string // nil for null
}

func strPtr(s string) *string { return &s }

// attrs are the sortable and filterable attributes.
var attrs = map[string]attr{
	"id":                   {kindString, func(c *customer) *string { return &c.id }},
	"email":                {kindString, func(c *customer) *string { return &c.email }},
	"status":               {kindString, func(c *customer) *string { return &c.status }},
	"total_orders_count":   {kindInt, func(c *customer) *string { return strPtr(strconv.Itoa(c.orders)) }},
	"created_at":           {kindTime, func(c *customer) *string { return strPtr(c.created.Format(timeLayout)) }},
	"updated_at":           {kindTime, func(c *customer) *string { return strPtr(c.updated.Format(timeLayout)) }},
	"reference":            {kindString, func(c *customer) *string { return c.reference }},
	"reference_origin":     {kindString, func(c *customer) *string { return c.referenceOrigin }},
	"anonymization_status": {kindString, func(c *customer) *string { return nil }},
}

// compare orders two non-null values of kind k (nulls sort first).
func compare(k attrKind, a, b *string) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	switch k {
	case kindInt:
		x, _ := strconv.Atoi(*a)
		y, _ := strconv.Atoi(*b)
		return x - y
	case kindTime:
		x, _ := time.Parse(time.RFC3339Nano, *a)
		y, _ := time.Parse(time.RFC3339Nano, *b)
		return x.Compare(y)
	}
	return strings.Compare(*a, *b)
}

// predicates are the Ransack predicates the simulator evaluates, longest
// first so that not_eq is found before eq.
var predicates = []string{"does_not_match", "not_null", "not_cont", "not_eq", "not_in", "present", "blank", "null",
	"matches", "cont", "start", "end", "gteq", "lteq", "eq", "in", "gt", "lt"}

// filter is one filter[q][…] condition.
type filter func(c *customer) bool

// parseFilter reads a Ransack key name (email_or_reference_cont): the
// attributes it names and its predicate; ok is false when an attribute or
// the predicate is not allowed.
func parseFilter(name string) (as []attr, pred string, ok bool) {
	var rest string
	for _, p := range predicates {
		if r, found := strings.CutSuffix(name, "_"+p); found {
			pred, rest = p, r
			break
		}
	}
	if pred == "" || rest == "" {
		return nil, "", false
	}
	for _, a := range strings.Split(rest, "_or_") {
		at, known := attrs[a]
		if !known {
			return nil, "", false
		}
		as = append(as, at)
	}
	return as, pred, true
}

// buildFilter is the condition "any of as satisfies pred with value".
func buildFilter(as []attr, pred, value string) (filter, error) {
	var fs []func(c *customer) bool
	for _, at := range as {
		g, err := predicate(at, pred, value)
		if err != nil {
			return nil, err
		}
		fs = append(fs, g)
	}
	return func(c *customer) bool {
		for _, g := range fs {
			if g(c) {
				return true
			}
		}
		return false
	}, nil
}

// predicate is pred applied to attribute at with value, as Ransack does it
// on Postgres: _eq is exact, _cont/_start/_end a case-insensitive LIKE,
// _in a comma-separated list.
func predicate(at attr, pred, value string) (func(c *customer) bool, error) {
	check := func(v string) error {
		switch at.kind {
		case kindInt:
			if _, err := strconv.Atoi(v); err != nil {
				return fmt.Errorf("%q is not an integer", v)
			}
		case kindTime:
			if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
				return fmt.Errorf("%q is not a time", v)
			}
		}
		return nil
	}
	boolean := func() (bool, error) {
		switch strings.ToLower(value) {
		case "true", "1", "t":
			return true, nil
		case "false", "0", "f":
			return false, nil
		}
		return false, fmt.Errorf("%q is not a boolean", value)
	}
	lower := strings.ToLower(value)
	switch pred {
	case "eq", "not_eq", "gt", "gteq", "lt", "lteq":
		if err := check(value); err != nil {
			return nil, err
		}
		return func(c *customer) bool {
			v := at.get(c)
			if v == nil {
				return false
			}
			d := compare(at.kind, v, &value)
			switch pred {
			case "eq":
				return d == 0
			case "not_eq":
				return d != 0
			case "gt":
				return d > 0
			case "gteq":
				return d >= 0
			case "lt":
				return d < 0
			}
			return d <= 0
		}, nil
	case "in", "not_in":
		var list []string
		for _, x := range strings.Split(value, ",") {
			if x = strings.TrimSpace(x); x != "" {
				if err := check(x); err != nil {
					return nil, err
				}
				list = append(list, x)
			}
		}
		return func(c *customer) bool {
			v := at.get(c)
			if v == nil {
				return false
			}
			in := false
			for i := range list {
				if compare(at.kind, v, &list[i]) == 0 {
					in = true
					break
				}
			}
			return in == (pred == "in")
		}, nil
	case "cont", "not_cont", "start", "end":
		return func(c *customer) bool {
			v := at.get(c)
			if v == nil {
				return false
			}
			s := strings.ToLower(*v)
			switch pred {
			case "cont":
				return strings.Contains(s, lower)
			case "not_cont":
				return !strings.Contains(s, lower)
			case "start":
				return strings.HasPrefix(s, lower)
			}
			return strings.HasSuffix(s, lower)
		}, nil
	case "matches", "does_not_match":
		// LIKE, as the docs say: % any run, _ any one character, \ escapes;
		// case-sensitive.
		re, err := likeRegexp(value)
		if err != nil {
			return nil, err
		}
		return func(c *customer) bool {
			v := at.get(c)
			return v != nil && re.MatchString(*v) == (pred == "matches")
		}, nil
	case "null", "not_null", "present", "blank":
		want, err := boolean()
		if err != nil {
			return nil, err
		}
		return func(c *customer) bool {
			v := at.get(c)
			var is bool
			switch pred {
			case "null":
				is = v == nil
			case "not_null":
				is = v != nil
			case "present":
				is = v != nil && strings.TrimSpace(*v) != ""
			default:
				is = v == nil || strings.TrimSpace(*v) == ""
			}
			return is == want
		}, nil
	}
	return nil, fmt.Errorf("%s is not a supported predicate", pred)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// list is GET /api/customers.
func (s *Sim) list(w http.ResponseWriter, r *http.Request, base string) {
	q := r.URL.Query()
	number, size := 1, commercelayer.DefaultPageSize
	var preds []filter
	order := []string{"created_at", "id"}
	for key, vs := range q {
		v := vs[0]
		switch {
		case key == "page[number]":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				badParam(w, "INVALID_PAGE_VALUE", "Invalid page value", fmt.Sprintf("%s is not a valid value for number page parameter.", v))
				return
			}
			number = n
		case key == "page[size]":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > commercelayer.MaxPageSize {
				badParam(w, "INVALID_PAGE_VALUE", "Invalid page value",
					fmt.Sprintf("%s is not a valid value for size page parameter: it must be between 1 and %d.", v, commercelayer.MaxPageSize))
				return
			}
			size = n
		case key == "sort":
			order = nil
			for _, f := range strings.Split(v, ",") {
				if _, ok := attrs[strings.TrimPrefix(f, "-")]; !ok {
					badParam(w, "INVALID_SORT_CRITERIA", "Invalid sort criteria", fmt.Sprintf("%s is not a valid sort criteria for customers", f))
					return
				}
				order = append(order, f)
			}
		case strings.HasPrefix(key, "filter["):
			name, ok := strings.CutPrefix(key, "filter[q][")
			name, ok2 := strings.CutSuffix(name, "]")
			as, pred, allowed := parseFilter(name)
			if !ok || !ok2 || !allowed {
				badParam(w, "FILTER_NOT_ALLOWED", "Filter not allowed", fmt.Sprintf("%s is not allowed.", strings.TrimPrefix(key, "filter")))
				return
			}
			if strings.TrimSpace(v) == "" {
				continue // Ransack ignores blank values
			}
			f, err := buildFilter(as, pred, v)
			if err != nil {
				badParam(w, "INVALID_FILTER_VALUE", "Invalid filter value", fmt.Sprintf("%s is not a valid value for %s: %v", v, name, err))
				return
			}
			preds = append(preds, f)
		case key == "include" || strings.HasPrefix(key, "fields["):
			// read by viewParams
		default:
			badParam(w, "PARAM_NOT_ALLOWED", "Param not allowed", fmt.Sprintf("%s is not allowed.", key))
			return
		}
	}
	view, ok := viewParams(w, q, base)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
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
			name := strings.TrimPrefix(f, "-")
			at := attrs[name]
			d := compare(at.kind, at.get(all[i]), at.get(all[j]))
			if f != name {
				d = -d
			}
			if d != 0 {
				return d < 0
			}
		}
		return all[i].id < all[j].id
	})
	pages := (len(all) + size - 1) / size
	from := len(all)
	if number <= pages { // (number-1)*size could overflow for a huge number
		from = (number - 1) * size
	}
	to := min(from+size, len(all))
	data := make([]map[string]any, 0, to-from)
	for _, c := range all[from:to] {
		data = append(data, s.render(c, view))
	}
	link := func(n int) string {
		lq := url.Values{}
		for k, vs := range q {
			lq[k] = vs
		}
		lq.Set("page[number]", strconv.Itoa(n))
		lq.Set("page[size]", strconv.Itoa(size))
		return base + APIPath + "/customers?" + lq.Encode()
	}
	links := map[string]string{"first": link(1), "last": link(max(pages, 1))}
	if number < pages {
		links["next"] = link(number + 1)
	}
	if number > 1 && number <= pages+1 {
		links["prev"] = link(number - 1)
	}
	document(w, http.StatusOK, data, view, map[string]any{
		"meta":  map[string]int{"record_count": len(all), "page_count": pages},
		"links": links,
	})
}

// --- writes ---

type writeDoc struct {
	Data *struct {
		Type       string          `json:"type"`
		ID         *string         `json:"id"`
		Attributes map[string]any  `json:"attributes"`
		Rels       json.RawMessage `json:"relationships"`
	} `json:"data"`
}

// readWrite checks the Content-Type and decodes a write document, writing
// the error itself when it returns false.
func readWrite(w http.ResponseWriter, r *http.Request) (*writeDoc, bool) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != commercelayer.MediaType || len(params) > 0 {
		WriteError(w, http.StatusUnsupportedMediaType, "The Content-Type header must be "+commercelayer.MediaType+".")
		return nil, false
	}
	var doc writeDoc
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	if err := dec.Decode(&doc); err != nil {
		badParam(w, "INVALID_DATA_FORMAT", "Invalid data format", "The request body is not a valid JSON:API document.")
		return nil, false
	}
	if doc.Data == nil {
		badParam(w, "PARAM_MISSING", "Missing parameter", "The required parameter, data, is missing.")
		return nil, false
	}
	if doc.Data.Type != "customers" {
		badParam(w, "INVALID_RESOURCE", "Invalid resource", fmt.Sprintf("%s is not a valid resource.", doc.Data.Type))
		return nil, false
	}
	return &doc, true
}

// apply sets writable attributes on c (a copy); false after writing a 4xx.
// Call with s.mu held.
func (s *Sim) apply(w http.ResponseWriter, c *customer, attrs map[string]any, creating bool) bool {
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the first error is the same on every run
	for _, k := range keys {
		v := attrs[k]
		switch k {
		case "email":
			e, ok := v.(string)
			e = strings.TrimSpace(e) // stored as sent: nothing documents that Commerce Layer lower-cases emails
			local, domain, found := strings.Cut(e, "@")
			if !ok || !found || local == "" || !strings.Contains(domain, ".") || strings.ContainsAny(e, " \t\r\n") {
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
		case "password":
			if p, ok := v.(string); !ok || p == "" {
				validation(w, "password", "is invalid", "invalid")
				return false
			}
			c.hasPassword = true
		case "shopper_reference", "profile_id", "tax_exemption_code", "_add_tags", "_remove_tags",
			"_request_anonymization", "_cancel_anonymization":
			// accepted; the simulator does not keep them
		default:
			badParam(w, "PARAM_NOT_ALLOWED", "Param not allowed", fmt.Sprintf("%s is not allowed.", k))
			return false
		}
	}
	if creating && c.email == "" {
		validation(w, "email", "can't be blank", "blank")
		return false
	}
	return true
}

func (s *Sim) create(w http.ResponseWriter, r *http.Request, base string) {
	if len(r.URL.RawQuery) > 0 {
		badParam(w, "PARAM_NOT_ALLOWED", "Param not allowed", "Query parameters are not allowed on a create.")
		return
	}
	doc, ok := readWrite(w, r)
	if !ok {
		return
	}
	if doc.Data.ID != nil {
		badParam(w, "PARAM_NOT_ALLOWED", "Param not allowed", "id is not allowed.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	c := &customer{status: "prospect", created: now, updated: now, metadata: map[string]any{}}
	if !s.apply(w, c, doc.Data.Attributes, true) {
		return
	}
	c.id = s.newID()
	s.customers[c.id] = c
	document(w, http.StatusCreated, s.render(c, view{base: base}), view{}, nil)
}

func (s *Sim) update(w http.ResponseWriter, r *http.Request, base, id string) {
	doc, ok := readWrite(w, r)
	if !ok {
		return
	}
	if doc.Data.ID == nil || *doc.Data.ID != id {
		got := "nothing"
		if doc.Data.ID != nil {
			got = *doc.Data.ID
		}
		badParam(w, "KEY_NOT_INCLUDED_IN_URL", "Key is not included in URL",
			fmt.Sprintf("The URL does not support the key %s.", got))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
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
	document(w, http.StatusOK, s.render(c, view{base: base}), view{}, nil)
}

// --- the token endpoint ---

// serveToken is POST /oauth/token with grant_type=client_credentials and
// client_id, client_secret and an optional scope in a JSON body. The docs
// (and Commerce Layer's js-auth) send JSON only; whether the real endpoint
// also takes the RFC 6749 form is not documented, so the simulator refuses
// it (400 invalid_request) and a client relying on it is caught here.
func (s *Sim) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeOAuthError(w, http.StatusMethodNotAllowed, "Use POST.")
		return
	}
	var in struct {
		GrantType    string `json:"grant_type"`
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		Scope        string `json:"scope"`
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		writeOAuthError(w, http.StatusBadRequest, "Send the parameters as a JSON body (Content-Type: application/json).")
		return
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "The request body is not JSON.")
		return
	}
	if in.GrantType != "client_credentials" {
		simkit.WriteJSON(w, http.StatusBadRequest, "application/json", map[string]string{
			"error": "unsupported_grant_type", "error_description": "The authorization grant type is not supported."})
		return
	}
	if in.ClientID != ClientID || in.ClientSecret != ClientSecret {
		writeOAuthError(w, http.StatusUnauthorized, "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.")
		return
	}
	scope := in.Scope
	if scope == "" {
		scope = "market:all"
	}
	s.mu.Lock()
	s.issued++
	tok := fmt.Sprintf("cl_sim_issued_%06d_%s", s.issued, hashHex(fmt.Sprint(s.issued, scope))[:12])
	now := s.now()
	s.tokens[tok] = now.Add(TokenLifetime)
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	simkit.WriteJSON(w, http.StatusOK, "application/json", map[string]any{
		"access_token": tok, "token_type": "bearer", "expires_in": int(TokenLifetime.Seconds()),
		"scope": scope, "created_at": now.Unix(),
	})
}

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// likeRegexp compiles a SQL LIKE pattern (backslash escapes) to a regexp.
func likeRegexp(p string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^(?s)")
	esc := false
	for _, r := range p {
		switch {
		case esc:
			b.WriteString(regexp.QuoteMeta(string(r)))
			esc = false
		case r == '\\':
			esc = true
		case r == '%':
			b.WriteString(".*")
		case r == '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	if esc {
		return nil, fmt.Errorf("%q ends in an escape", p)
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}
