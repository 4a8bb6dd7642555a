// Package sim simulates CareCloud's enterprise interface for tests and demo
// mode: login, customer source records (all, and one customer's) and the
// customer-source catalogue, rendered from the demo world, with CareCloud's
// error object, validation and bearer-token rules.
package sim

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	mrand "math/rand/v2"
	"mime"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/carecloud"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/simkit"
)

// BasePath is the documented base path of the enterprise interface.
const BasePath = "/webservice/rest-api/enterprise-interface/v1.0"

// Credentials the simulator accepts.
const (
	Token                     = "cc-sim-static-bearer-token"
	Login                     = "gateway"
	Password                  = "sim-password"
	UserExternalApplicationID = "gateway-app"
)

const (
	// MaxCount is the assumed maximum of count (the docs give none).
	MaxCount = 1000
	// MaxExternalIDs is the documented maxItems of external_ids[].
	MaxExternalIDs = 1000
	// DefaultTokenLifetime is CareCloud's default bearer token lifetime.
	DefaultTokenLifetime = 7 * time.Hour
	// DefaultTimeZone is the simulated project's time zone (CareCloud is Czech).
	DefaultTimeZone = "Europe/Prague"

	timeLayout = "2006-01-02 15:04:05"
)

// record is one customer source record.
type record struct {
	ID         string
	SourceID   string
	CustomerID string
	ExternalID string
	LastChange time.Time
}

// source is one catalogue entry.
type source struct {
	ID         string
	Name       string
	TextID     string
	State      int
	LastChange time.Time
}

// Sim is the CareCloud simulator; it is an http.Handler.
type Sim struct {
	kit *simkit.Kit
	h   http.Handler

	mu        sync.Mutex
	loc       *time.Location
	lifetime  time.Duration
	tokens    map[string]time.Time // issued login tokens and their expiry
	records   []record
	customers map[string]bool
	sources   []source
	seq       int
}

// New renders the demo world: for every person with a CareCloud id, one
// record per customer provider that knows them (person order, then provider
// enum order); the catalogue is demo.Systems.
func New(people []demo.Person) *Sim {
	loc, err := time.LoadLocation(DefaultTimeZone)
	if err != nil {
		loc = time.UTC
	}
	s := &Sim{
		loc:       loc,
		lifetime:  DefaultTokenLifetime,
		tokens:    map[string]time.Time{},
		customers: map[string]bool{},
	}
	catalogueTime := time.Date(2020, 12, 1, 7, 0, 0, 0, time.UTC)
	for _, p := range demo.CustomerProviders {
		sys := demo.Systems[p]
		s.sources = append(s.sources, source{ID: sys.ID, Name: sys.Name, TextID: sys.TextID, State: 1, LastChange: catalogueTime})
	}
	for _, person := range people {
		cc, ok := person.IDs[ds.CareCloud]
		if !ok {
			continue
		}
		s.customers[cc] = true
		for _, p := range demo.CustomerProviders {
			ext, ok := person.IDs[p]
			if !ok {
				continue
			}
			s.records = append(s.records, record{
				ID:         recordID(cc, p.Key()),
				SourceID:   demo.Systems[p].ID,
				CustomerID: cc,
				ExternalID: ext,
				LastChange: person.UpdatedAt,
			})
		}
	}
	s.kit = simkit.New(writeError)
	s.h = s.kit.Wrap(http.HandlerFunc(s.serve))
	return s
}

// recordID is a deterministic 26-hex customer_source_record_id.
func recordID(parts ...string) string {
	sum := sha256.Sum256([]byte("carecloud-record|" + strings.Join(parts, "|")))
	return hex.EncodeToString(sum[:13])
}

// Kit returns the simulator's call counter and fault injector.
func (s *Sim) Kit() *simkit.Kit { return s.kit }

// ServeHTTP serves the enterprise interface under BasePath.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.h.ServeHTTP(w, r) }

// ClientConfig is a bearer-token configuration for a server at baseURL.
func (s *Sim) ClientConfig(baseURL string) carecloud.Config {
	return carecloud.Config{BaseURL: strings.TrimRight(baseURL, "/") + BasePath, BearerToken: Token, Timezone: s.TimeZone()}
}

// LoginConfig is a login + password configuration for a server at baseURL.
func (s *Sim) LoginConfig(baseURL string) carecloud.Config {
	return carecloud.Config{BaseURL: strings.TrimRight(baseURL, "/") + BasePath, Login: Login, Password: Password,
		UserExternalApplicationID: UserExternalApplicationID, Timezone: s.TimeZone()}
}

// TimeZone is the IANA name of the simulated project's time zone.
func (s *Sim) TimeZone() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loc.String()
}

// SetTimeZone changes the project's time zone (all times are rendered in it).
func (s *Sim) SetTimeZone(loc *time.Location) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loc = loc
}

// SetTokenLifetime changes the lifetime of tokens issued from now on.
func (s *Sim) SetTokenLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lifetime = d
}

// ExpireTokens invalidates every token issued by the login endpoint (the
// static Token stays valid), as when their lifetime runs out.
func (s *Sim) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]time.Time{}
}

// AddSource adds a catalogue entry (state 1).
func (s *Sim) AddSource(id, name, textID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sources = append(s.sources, source{ID: id, Name: name, TextID: textID, State: 1, LastChange: time.Now().UTC().Truncate(time.Second)})
}

// ---- wire format ----

type wireRecord struct {
	CustomerSourceRecordID string `json:"customer_source_record_id"`
	CustomerSourceID       string `json:"customer_source_id"`
	CustomerID             string `json:"customer_id"`
	ExternalID             string `json:"external_id"`
	LastChange             string `json:"last_change"`
}

type wireSource struct {
	CustomerSourceID     string `json:"customer_source_id"`
	Name                 string `json:"name"`
	CustomerSourceTextID string `json:"customer_source_text_id"`
	State                int    `json:"state"`
	LastChange           string `json:"last_change"`
}

type invalidParam struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
	Value  any    `json:"value"`
}

type errorObject struct {
	Type      string `json:"type"`
	Exception string `json:"exception"`
	Title     string `json:"title"`
	Detail    string `json:"detail"`
	ErrorData any    `json:"error_data"`
}

var exceptions = map[int]string{
	400: "bad_request_exception",
	401: "unauthorized_exception",
	403: "interface_not_allowed_exception",
	404: "not_found_exception",
	405: "method_not_allowed_exception",
	406: "not_acceptable_exception",
	415: "unsupported_media_type_exception",
	500: "internal_server_error_exception",
}

// writeError is the simulator's error writer (also for injected faults).
// 429 and 503 have no documented body: they are sent empty.
func writeError(w http.ResponseWriter, status int, message string) {
	writeErrorData(w, status, message, []any{})
}

func writeErrorData(w http.ResponseWriter, status int, detail string, data any) {
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		w.WriteHeader(status)
		return
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	exc := exceptions[status]
	if exc == "" {
		exc = "exception"
	}
	simkit.WriteJSON(w, status, "application/json", map[string]any{"error": errorObject{
		Type: "about:blank", Exception: exc, Title: http.StatusText(status), Detail: detail, ErrorData: data,
	}})
}

func badRequest(w http.ResponseWriter, params []invalidParam) {
	writeErrorData(w, http.StatusBadRequest, "The request contains invalid parameters.", map[string]any{"invalid_params": params})
}

func notFound(w http.ResponseWriter, resource, id string) {
	writeErrorData(w, http.StatusNotFound, "The requested resource was not found.", map[string]any{"resource_name": resource, "resource_id": id})
}

func writeData(w http.ResponseWriter, status int, data any) {
	simkit.WriteJSON(w, status, "application/json", map[string]any{"data": data})
}

// ---- routing ----

func (s *Sim) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, BasePath)
	if !ok || !strings.HasPrefix(rest, "/") {
		notFound(w, "endpoint", r.URL.Path)
		return
	}
	if !acceptsJSON(r.Header.Get("Accept")) {
		writeError(w, http.StatusNotAcceptable, "This resource can only be represented as application/json.")
		return
	}
	seg := strings.Split(strings.TrimPrefix(rest, "/"), "/")
	switch {
	case rest == "/users/actions/login":
		if !method(w, r, http.MethodPost) {
			return
		}
		s.login(w, r)
		return
	}
	if !s.authorized(r) {
		writeError(w, http.StatusUnauthorized, "The bearer token is missing, invalid or expired.")
		return
	}
	switch {
	case rest == "/customer-source-records":
		if method(w, r, http.MethodGet) {
			s.listRecords(w, r, "")
		}
	case len(seg) == 3 && seg[0] == "customers" && seg[1] != "" && seg[2] == "customer-source-records":
		switch r.Method {
		case http.MethodGet:
			s.listRecords(w, r, seg[1])
		case http.MethodPost:
			s.createRecord(w, r, seg[1])
		default:
			method(w, r, http.MethodGet, http.MethodPost)
		}
	case rest == "/customer-sources":
		if method(w, r, http.MethodGet) {
			s.listSources(w, r)
		}
	case len(seg) == 2 && seg[0] == "customer-sources" && seg[1] != "":
		if method(w, r, http.MethodGet) {
			s.getSource(w, seg[1])
		}
	default:
		notFound(w, "endpoint", rest)
	}
}

func method(w http.ResponseWriter, r *http.Request, allowed ...string) bool {
	for _, m := range allowed {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	writeError(w, http.StatusMethodNotAllowed, "Method "+r.Method+" is not allowed on this resource.")
	return false
}

// acceptsJSON: no Accept, or one naming application/json, application/* or */*.
func acceptsJSON(h string) bool {
	if strings.TrimSpace(h) == "" {
		return true
	}
	for _, part := range strings.Split(h, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "application/json", "application/*", "*/*":
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
	if tok == Token {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	until, ok := s.tokens[tok]
	return ok && time.Now().Before(until)
}

// ---- handlers ----

func (s *Sim) login(w http.ResponseWriter, r *http.Request) {
	if !jsonBody(w, r) {
		return
	}
	var in struct {
		UserExternalApplicationID *string `json:"user_external_application_id"`
		Login                     *string `json:"login"`
		Password                  *string `json:"password"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&in); err != nil {
		writeErrorData(w, http.StatusBadRequest, "The request body is not valid JSON.", []any{})
		return
	}
	var params []invalidParam
	for _, f := range []struct {
		name string
		v    *string
	}{{"user_external_application_id", in.UserExternalApplicationID}, {"login", in.Login}, {"password", in.Password}} {
		if f.v == nil {
			params = append(params, invalidParam{Name: f.name, Reason: "required"})
		} else if *f.v == "" {
			params = append(params, invalidParam{Name: f.name, Reason: "empty", Value: ""})
		}
	}
	if len(params) > 0 {
		badRequest(w, params)
		return
	}
	if *in.UserExternalApplicationID != UserExternalApplicationID || *in.Login != Login || *in.Password != Password {
		writeError(w, http.StatusUnauthorized, "Invalid login, password or external application.")
		return
	}
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	tok := hex.EncodeToString(b)
	s.mu.Lock()
	until := time.Now().Add(s.lifetime)
	s.tokens[tok] = until
	validTo := until.In(s.loc).Format(timeLayout)
	s.mu.Unlock()
	writeData(w, http.StatusOK, map[string]any{
		"bearer_token": tok,
		"valid_to":     validTo,
		"user":         map[string]any{"user_id": recordID("user", Login), "login": Login, "first_name": "Gateway", "last_name": "Service"},
	})
}

func jsonBody(w http.ResponseWriter, r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "The request body must be application/json.")
		return false
	}
	return true
}

var (
	intRE       = regexp.MustCompile(`^-?[0-9]+$`)
	recordField = map[string]func(record) string{
		"customer_source_record_id": func(r record) string { return r.ID },
		"customer_source_id":        func(r record) string { return r.SourceID },
		"customer_id":               func(r record) string { return r.CustomerID },
		"external_id":               func(r record) string { return r.ExternalID },
		"last_change":               func(r record) string { return r.LastChange.UTC().Format(time.RFC3339) },
	}
	sourceField = map[string]func(source) string{
		"customer_source_id":      func(s source) string { return s.ID },
		"name":                    func(s source) string { return s.Name },
		"customer_source_text_id": func(s source) string { return s.TextID },
		"state":                   func(s source) string { return strconv.Itoa(s.State) },
		"last_change":             func(s source) string { return s.LastChange.UTC().Format(time.RFC3339) },
	}
)

// listParams are the validated count, offset and sort of a list call.
type listParams struct {
	count, offset int
	sortField     string
	desc          bool
}

// listQuery is what every list accepts; each endpoint adds its filters.
var (
	listQuery    = []string{"count", "offset", "sort_field", "sort_direction"}
	recordsQuery = append([]string{"customer_id", "customer_source_id", "external_id", "external_ids[]", "external_ids"}, listQuery...)
	// the per-customer list documents the same filters except customer_id
	customerRecordsQuery = append([]string{"customer_source_id", "external_id", "external_ids[]", "external_ids"}, listQuery...)
	sourcesQuery         = append([]string{"customer_source_text_id"}, listQuery...)
)

// unknownParams reports every query parameter the endpoint does not
// document. The docs do not say what CareCloud does with one; the simulator
// refuses it, so that a misspelt name (sort, order, limit, page) is not
// silently ignored here and mistaken for a working one.
func unknownParams(q map[string][]string, known []string, params *[]invalidParam) {
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		found := false
		for _, k := range known {
			found = found || k == name
		}
		if !found {
			*params = append(*params, invalidParam{Name: name, Reason: "not_allowed_value", Value: q[name][0]})
		}
	}
}

// parseList validates count, offset, sort_field and sort_direction.
func parseList(q map[string][]string, fields func(string) bool, params *[]invalidParam) listParams {
	lp := listParams{count: 100}
	intParam := func(name string, def, lo, hi int) int {
		vs, ok := q[name]
		if !ok {
			return def
		}
		v := vs[0]
		if !intRE.MatchString(v) {
			*params = append(*params, invalidParam{Name: name, Reason: "invalid_value_format", Value: v})
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			*params = append(*params, invalidParam{Name: name, Reason: "invalid_value_format", Value: v})
			return def
		}
		if n < lo || n > hi {
			*params = append(*params, invalidParam{Name: name, Reason: "not_allowed_value", Value: n})
			return def
		}
		return n
	}
	lp.count = intParam("count", 100, 1, MaxCount)
	lp.offset = intParam("offset", 0, 0, int(^uint(0)>>1))
	if vs, ok := q["sort_field"]; ok {
		if !fields(vs[0]) {
			*params = append(*params, invalidParam{Name: "sort_field", Reason: "not_allowed_value", Value: vs[0]})
		} else {
			lp.sortField = vs[0]
		}
	}
	if vs, ok := q["sort_direction"]; ok {
		switch vs[0] {
		case "ASC":
		case "DESC":
			lp.desc = true
		default:
			*params = append(*params, invalidParam{Name: "sort_direction", Reason: "not_allowed_value", Value: vs[0]})
		}
	}
	return lp
}

// window returns the indexes [offset, offset+count) of n items.
func window(n int, lp listParams) (int, int) {
	lo := min(lp.offset, n)
	hi := min(lo+lp.count, n)
	return lo, hi
}

func (s *Sim) listRecords(w http.ResponseWriter, r *http.Request, customerID string) {
	q := r.URL.Query()
	var params []invalidParam
	if customerID == "" {
		unknownParams(q, recordsQuery, &params)
	} else {
		unknownParams(q, customerRecordsQuery, &params)
	}
	lp := parseList(q, func(f string) bool { _, ok := recordField[f]; return ok }, &params)
	var externalIDs []string
	useExternal := false
	if vs, ok := q["external_ids"]; ok {
		// the array must be sent as external_ids[]=A&external_ids[]=B
		params = append(params, invalidParam{Name: "external_ids", Reason: "invalid_value_format", Value: vs[0]})
	}
	if vs, ok := q["external_ids[]"]; ok {
		useExternal = true
		externalIDs = vs
		if len(vs) > MaxExternalIDs {
			params = append(params, invalidParam{Name: "external_ids", Reason: "not_allowed_value", Value: len(vs)})
		}
	} else if v := q.Get("external_id"); v != "" {
		// deprecated; ignored when external_ids[] is sent
		useExternal = true
		externalIDs = []string{v}
	}
	if len(params) > 0 {
		badRequest(w, params)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if customerID != "" && !s.customers[customerID] {
		notFound(w, "customer", customerID)
		return
	}
	filterCustomer := customerID
	if filterCustomer == "" {
		filterCustomer = q.Get("customer_id")
	}
	filterSource := q.Get("customer_source_id")
	// The docs do not say whether a filter naming an id CareCloud does not
	// have is an empty list or a 400 not_found (the reason documented for "a
	// non-existing resource ID"): the simulator answers the 400.
	if filterCustomer != "" && !s.customers[filterCustomer] {
		params = append(params, invalidParam{Name: "customer_id", Reason: "not_found", Value: filterCustomer})
	}
	if filterSource != "" && !s.knownSource(filterSource) {
		params = append(params, invalidParam{Name: "customer_source_id", Reason: "not_found", Value: filterSource})
	}
	if len(params) > 0 {
		badRequest(w, params)
		return
	}
	want := map[string]bool{}
	for _, id := range externalIDs {
		want[id] = true
	}
	var match []record
	for _, rec := range s.records {
		if filterCustomer != "" && rec.CustomerID != filterCustomer {
			continue
		}
		if filterSource != "" && rec.SourceID != filterSource {
			continue
		}
		if useExternal && !want[rec.ExternalID] {
			continue
		}
		match = append(match, rec)
	}
	sortItems(match, lp, recordField[lp.sortField])
	lo, hi := window(len(match), lp)
	out := make([]wireRecord, 0, hi-lo)
	for _, rec := range match[lo:hi] {
		out = append(out, wireRecord{
			CustomerSourceRecordID: rec.ID, CustomerSourceID: rec.SourceID, CustomerID: rec.CustomerID,
			ExternalID: rec.ExternalID, LastChange: rec.LastChange.In(s.loc).Format(timeLayout),
		})
	}
	writeData(w, http.StatusOK, map[string]any{"customer_source_records": out, "total_items": len(match)})
}

// sortItems orders items by field (stable: ties keep insertion order).
// Without a field the docs promise no order at all, so the simulator gives a
// different one on every call: a client paging by offset must ask for one.
func sortItems[T any](items []T, lp listParams, field func(T) string) {
	if field == nil {
		mrand.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
		return
	}
	sort.SliceStable(items, func(i, j int) bool {
		if lp.desc {
			return field(items[i]) > field(items[j])
		}
		return field(items[i]) < field(items[j])
	})
}

// knownSource reports whether id is in the catalogue; s.mu is held.
func (s *Sim) knownSource(id string) bool {
	for _, src := range s.sources {
		if src.ID == id {
			return true
		}
	}
	return false
}

func (s *Sim) createRecord(w http.ResponseWriter, r *http.Request, customerID string) {
	if !jsonBody(w, r) {
		return
	}
	var in struct {
		Record *struct {
			CustomerSourceID *string `json:"customer_source_id"`
			ExternalID       *string `json:"external_id"`
		} `json:"customer_source_record"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&in); err != nil {
		writeErrorData(w, http.StatusBadRequest, "The request body is not valid JSON.", []any{})
		return
	}
	if in.Record == nil {
		badRequest(w, []invalidParam{{Name: "customer_source_record", Reason: "required"}})
		return
	}
	if in.Record.CustomerSourceID == nil || *in.Record.CustomerSourceID == "" {
		badRequest(w, []invalidParam{{Name: "customer_source_id", Reason: "required"}})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.customers[customerID] {
		notFound(w, "customer", customerID)
		return
	}
	srcID := *in.Record.CustomerSourceID
	known := false
	for _, src := range s.sources {
		known = known || (src.ID == srcID && src.State != 0)
	}
	if !known {
		badRequest(w, []invalidParam{{Name: "customer_source_id", Reason: "not_found", Value: srcID}})
		return
	}
	ext := ""
	if in.Record.ExternalID != nil {
		ext = *in.Record.ExternalID
	}
	for _, rec := range s.records {
		if rec.CustomerID == customerID && rec.SourceID == srcID && rec.ExternalID == ext {
			badRequest(w, []invalidParam{{Name: "external_id", Reason: "already_exists", Value: ext}})
			return
		}
	}
	s.seq++
	rec := record{ID: recordID(customerID, srcID, ext, strconv.Itoa(s.seq)), SourceID: srcID, CustomerID: customerID,
		ExternalID: ext, LastChange: time.Now().UTC().Truncate(time.Second)}
	s.records = append(s.records, rec)
	writeData(w, http.StatusCreated, map[string]any{"customer_source_record_id": rec.ID})
}

func (s *Sim) renderSource(src source) wireSource {
	return wireSource{CustomerSourceID: src.ID, Name: src.Name, CustomerSourceTextID: src.TextID, State: src.State,
		LastChange: src.LastChange.In(s.loc).Format(timeLayout)}
}

func (s *Sim) listSources(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var params []invalidParam
	unknownParams(q, sourcesQuery, &params)
	lp := parseList(q, func(f string) bool { _, ok := sourceField[f]; return ok }, &params)
	if len(params) > 0 {
		badRequest(w, params)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []source
	for _, src := range s.sources {
		if textID := q.Get("customer_source_text_id"); textID == "" || src.TextID == textID {
			all = append(all, src)
		}
	}
	sortItems(all, lp, sourceField[lp.sortField])
	lo, hi := window(len(all), lp)
	out := make([]wireSource, 0, hi-lo)
	for _, src := range all[lo:hi] {
		out = append(out, s.renderSource(src))
	}
	writeData(w, http.StatusOK, map[string]any{"customer_sources": out, "total_items": len(all)})
}

func (s *Sim) getSource(w http.ResponseWriter, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, src := range s.sources {
		if src.ID == id {
			writeData(w, http.StatusOK, s.renderSource(src))
			return
		}
	}
	notFound(w, "customer_source", id)
}
