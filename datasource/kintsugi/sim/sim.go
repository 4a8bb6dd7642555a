// Package sim simulates Kintsugi's Customers API over the demo world: the
// documented paths at the documented base's root, both auth headers, FastAPI's
// validation (422 with a detail array) and fastapi-pagination's Page envelope,
// with create and update changing what later reads return.
package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/kintsugi"
	"github.com/federated-customers/gateway/datasource/simkit"
)

const (
	// APIKey is the X-API-KEY the simulator accepts.
	APIKey = "sk_sim_kintsugi_7f3a9c2e51d84b06"
	// OrganizationID is the simulated organization (x-organization-id).
	OrganizationID = "orgn_SimK1ntsug1Dm"

	msgNoKey        = "API key is missing or empty."
	msgNoOrgAccess  = "User does not have access to the specified organization"
	msgNotFound     = "Resource Not Found"
	msgNotAllowed   = "Method Not Allowed"
	maxBodyBytes    = 1 << 20
	defaultPageSize = 50
	maxPageSize     = 100
)

// record is one stored CustomerRead; nil fields are absent from the JSON.
type record struct {
	ID                 string  `json:"id"`
	OrganizationID     string  `json:"organization_id"`
	Name               *string `json:"name,omitempty"`
	ExternalID         *string `json:"external_id,omitempty"`
	Status             *string `json:"status,omitempty"`
	Email              *string `json:"email,omitempty"`
	Phone              *string `json:"phone,omitempty"`
	Street1            *string `json:"street_1,omitempty"`
	Street2            *string `json:"street_2,omitempty"`
	City               *string `json:"city,omitempty"`
	County             *string `json:"county,omitempty"`
	State              *string `json:"state,omitempty"`
	PostalCode         *string `json:"postal_code,omitempty"`
	Country            *string `json:"country,omitempty"`
	FullAddress        *string `json:"full_address,omitempty"`
	Source             *string `json:"source,omitempty"`
	ConnectionID       *string `json:"connection_id,omitempty"`
	AddressStatus      *string `json:"address_status,omitempty"`
	ExternalFriendlyID *string `json:"external_friendly_id,omitempty"`
	RegistrationNumber *string `json:"registration_number,omitempty"`
}

// Sim is the Kintsugi simulator; it is an http.Handler.
type Sim struct {
	kit     *simkit.Kit
	handler http.Handler

	mu   sync.Mutex
	list []*record // native order: the order of people, then creation order
	byID map[string]*record
	rng  *rand.Rand
}

// New renders people at Kintsugi into a simulator.
func New(people []demo.Person) *Sim {
	s := &Sim{
		kit:  simkit.New(WriteError),
		byID: map[string]*record{},
		rng:  rand.New(rand.NewPCG(1, 1)),
	}
	n := 0
	for _, p := range people {
		id, ok := p.IDs[ds.Kintsugi]
		if !ok {
			continue
		}
		n++
		s.add(render(p, id, n))
	}
	s.handler = s.kit.Wrap(http.HandlerFunc(s.route))
	return s
}

// render draws person p as the n-th Kintsugi customer.
func render(p demo.Person, id string, n int) *record {
	r := &record{
		ID:             id,
		OrganizationID: OrganizationID,
		Name:           str(p.Name()),
		Status:         str("ACTIVE"),
		Email:          str(p.EmailAt(ds.Kintsugi)),
		Phone:          str(p.Phone),
		Street1:        str(p.Street1),
		Street2:        str(p.Street2),
		City:           str(p.City),
		County:         str(p.County),
		State:          str(p.State),
		PostalCode:     str(p.PostalCode),
		Country:        str(p.Country),
		Source:         str("SHOPIFY"),
		AddressStatus:  str("VERIFIED"),
	}
	if n%9 == 0 {
		r.Status = str("ARCHIVED")
	}
	if _, ext, ok := p.Other(ds.Kintsugi); ok {
		r.Source, r.ExternalID = str("API"), str(ext)
	}
	r.FullAddress = fullAddress(r)
	return r
}

func (s *Sim) add(r *record) {
	s.list = append(s.list, r)
	s.byID[r.ID] = r
}

// Kit returns the call counter and fault injector.
func (s *Sim) Kit() *simkit.Kit { return s.kit }

// ClientConfig is a configuration with valid credentials for a simulator served at baseURL.
func (s *Sim) ClientConfig(baseURL string) kintsugi.Config {
	return kintsugi.Config{BaseURL: baseURL, APIKey: APIKey, OrganizationID: OrganizationID}
}

// ServeHTTP serves the API through the kit.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// WriteError writes Kintsugi's error body: {"detail":"<message>"}, or for 422
// FastAPI's validation shape with the message as the one item's msg.
func WriteError(w http.ResponseWriter, status int, message string) {
	if status == http.StatusUnprocessableEntity {
		writeValidation(w, []fieldError{{Type: "value_error", Loc: []any{"query"}, Msg: message, Input: nil}})
		return
	}
	simkit.WriteJSON(w, status, "", map[string]string{"detail": message})
}

// fieldError is one item of FastAPI's validation detail array.
type fieldError struct {
	Type  string         `json:"type"`
	Loc   []any          `json:"loc"`
	Msg   string         `json:"msg"`
	Input any            `json:"input"`
	Ctx   map[string]any `json:"ctx,omitempty"`
}

func writeValidation(w http.ResponseWriter, errs []fieldError) {
	simkit.WriteJSON(w, http.StatusUnprocessableEntity, "", map[string]any{"detail": errs})
}

// route matches the documented paths first (FastAPI routes before running
// dependencies), then checks auth, then serves.
func (s *Sim) route(w http.ResponseWriter, r *http.Request) {
	seg, ok := segments(r.URL)
	if !ok || len(seg) < 2 || seg[0] != "v1" || seg[1] != "customers" {
		WriteError(w, http.StatusNotFound, msgNotFound)
		return
	}
	var serve func()
	switch {
	case len(seg) == 2:
		switch r.Method {
		case http.MethodGet:
			serve = func() { s.listCustomers(w, r) }
		case http.MethodPost:
			serve = func() { s.create(w, r) }
		}
	case len(seg) == 3 && seg[2] != "":
		switch r.Method {
		case http.MethodGet:
			serve = func() { s.get(w, seg[2]) }
		case http.MethodPut:
			serve = func() { s.update(w, r, seg[2]) }
		}
	case len(seg) == 4 && seg[2] == "external" && seg[3] != "":
		if r.Method == http.MethodGet {
			serve = func() { s.getExternal(w, seg[3]) }
		}
	case len(seg) == 4 && seg[3] == "transactions" && seg[2] != "":
		if r.Method == http.MethodGet {
			serve = func() { s.transactions(w, seg[2]) }
		}
	default:
		WriteError(w, http.StatusNotFound, msgNotFound)
		return
	}
	if serve == nil {
		WriteError(w, http.StatusMethodNotAllowed, msgNotAllowed)
		return
	}
	if !s.authorized(w, r) {
		return
	}
	serve()
}

// segments splits the escaped path and unescapes each segment, so an id
// holding an escaped slash stays one segment.
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

// authorized checks X-API-KEY (401) and x-organization-id (403).
func (s *Sim) authorized(w http.ResponseWriter, r *http.Request) bool {
	if key := r.Header.Get(kintsugi.HeaderAPIKey); key == "" || key != APIKey {
		WriteError(w, http.StatusUnauthorized, msgNoKey)
		return false
	}
	if r.Header.Get(kintsugi.HeaderOrganization) != OrganizationID {
		WriteError(w, http.StatusForbidden, msgNoOrgAccess)
		return false
	}
	return true
}

// listCustomers is GET /v1/customers.
func (s *Sim) listCustomers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var errs []fieldError
	page := intParam(q, "page", 1, 1, 0, &errs)
	size := intParam(q, "size", defaultPageSize, 1, maxPageSize, &errs)
	countries := map[string]bool{}
	for i, c := range q["country"] {
		if !kintsugi.ValidCountry(c) {
			errs = append(errs, enumError([]any{"query", "country", i}, c, kintsugi.CountryCodes()))
			continue
		}
		countries[c] = true
	}
	if len(errs) > 0 {
		writeValidation(w, errs)
		return
	}
	search := strings.ToLower(last(q, "search_query"))
	state := last(q, "state")
	var sources map[string]bool
	if v := last(q, "source__in"); v != "" {
		sources = map[string]bool{}
		for _, src := range strings.Split(v, ",") {
			sources[strings.TrimSpace(src)] = true
		}
	}
	// order_by is accepted and ignored: how it orders is not documented.

	s.mu.Lock()
	var matched []record
	for _, rec := range s.list {
		if search != "" && !searchHit(rec, search) {
			continue
		}
		if len(countries) > 0 && (rec.Country == nil || !countries[*rec.Country]) {
			continue
		}
		if state != "" && (rec.State == nil || *rec.State != state) {
			continue
		}
		if sources != nil && (rec.Source == nil || !sources[*rec.Source]) {
			continue
		}
		matched = append(matched, *rec)
	}
	s.mu.Unlock()

	total := len(matched)
	pages := (total + size - 1) / size
	items := []record{}
	if page <= pages {
		start := (page - 1) * size
		items = matched[start:min(start+size, total)]
	}
	simkit.WriteJSON(w, http.StatusOK, "", map[string]any{
		"items": items, "total": total, "page": page, "size": size, "pages": pages,
	})
}

// searchHit is search_query: a case-insensitive substring of the name "or
// other details" (email, external ids, phone, street, city, postal code).
func searchHit(r *record, q string) bool {
	for _, f := range []*string{r.Name, r.Email, r.ExternalID, r.ExternalFriendlyID, r.Phone, r.Street1, r.City, r.PostalCode} {
		if f != nil && strings.Contains(strings.ToLower(*f), q) {
			return true
		}
	}
	return false
}

// intParam reads a query integer FastAPI-style: the last value wins; not an
// integer is int_parsing; out of range is greater_than_equal/less_than_equal.
func intParam(q url.Values, name string, def, lo, hi int, errs *[]fieldError) int {
	vs, ok := q[name]
	if !ok || len(vs) == 0 {
		return def
	}
	raw := vs[len(vs)-1]
	n, err := strconv.Atoi(strings.TrimSpace(raw))
	loc := []any{"query", name}
	switch {
	case err != nil:
		*errs = append(*errs, fieldError{Type: "int_parsing", Loc: loc,
			Msg: "Input should be a valid integer, unable to parse string as an integer", Input: raw})
	case n < lo:
		*errs = append(*errs, fieldError{Type: "greater_than_equal", Loc: loc,
			Msg: fmt.Sprintf("Input should be greater than or equal to %d", lo), Input: raw, Ctx: map[string]any{"ge": lo}})
	case hi > 0 && n > hi:
		*errs = append(*errs, fieldError{Type: "less_than_equal", Loc: loc,
			Msg: fmt.Sprintf("Input should be less than or equal to %d", hi), Input: raw, Ctx: map[string]any{"le": hi}})
	default:
		return n
	}
	return def
}

func enumError(loc []any, input any, values []string) fieldError {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = "'" + v + "'"
	}
	expected := quoted[0]
	if len(quoted) > 1 {
		expected = strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1]
	}
	return fieldError{Type: "enum", Loc: loc, Msg: "Input should be " + expected, Input: input,
		Ctx: map[string]any{"expected": expected}}
}

func last(q url.Values, name string) string {
	vs := q[name]
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

func (s *Sim) notFound(w http.ResponseWriter, what, id string) {
	WriteError(w, http.StatusNotFound, fmt.Sprintf("Customer with %s '%s' not found for %s", what, id, OrganizationID))
}

// get is GET /v1/customers/{customer_id}.
func (s *Sim) get(w http.ResponseWriter, id string) {
	s.mu.Lock()
	rec, ok := s.byID[id]
	var out record
	if ok {
		out = *rec
	}
	s.mu.Unlock()
	if !ok {
		s.notFound(w, "id", id)
		return
	}
	simkit.WriteJSON(w, http.StatusOK, "", out)
}

// getExternal is GET /v1/customers/external/{external_id}.
func (s *Sim) getExternal(w http.ResponseWriter, ext string) {
	s.mu.Lock()
	var out *record
	for _, rec := range s.list {
		if rec.ExternalID != nil && *rec.ExternalID == ext {
			c := *rec
			out = &c
			break
		}
	}
	s.mu.Unlock()
	if out == nil {
		s.notFound(w, "external_id", ext)
		return
	}
	simkit.WriteJSON(w, http.StatusOK, "", out)
}

// transactions is GET /v1/customers/{customer_id}/transactions: a bare array
// (the demo world has no transactions).
func (s *Sim) transactions(w http.ResponseWriter, id string) {
	s.mu.Lock()
	_, ok := s.byID[id]
	s.mu.Unlock()
	if !ok {
		s.notFound(w, "id", id)
		return
	}
	simkit.WriteJSON(w, http.StatusOK, "", []any{})
}

// create is POST /v1/customers: every CustomerCreate field is optional; the
// answer is 200 with the CustomerRead.
func (s *Sim) create(w http.ResponseWriter, r *http.Request) {
	fields, errs := readBody(r)
	if len(errs) > 0 {
		writeValidation(w, errs)
		return
	}
	rec := &record{OrganizationID: OrganizationID, Status: str("ACTIVE"), AddressStatus: str("UNVERIFIED")}
	if errs := apply(rec, fields, false); len(errs) > 0 {
		writeValidation(w, errs)
		return
	}
	s.mu.Lock()
	for {
		rec.ID = "cust_" + s.randomID(13)
		if _, taken := s.byID[rec.ID]; !taken {
			break
		}
	}
	s.add(rec)
	out := *rec
	s.mu.Unlock()
	simkit.WriteJSON(w, http.StatusOK, "", out)
}

// update is PUT /v1/customers/{customer_id}: the fields sent are set (null
// clears one), the others are left as they are.
func (s *Sim) update(w http.ResponseWriter, r *http.Request, id string) {
	// FastAPI validates the body before the handler looks the customer up.
	fields, errs := readBody(r)
	if len(errs) == 0 {
		var scratch record
		errs = apply(&scratch, fields, true)
	}
	if len(errs) > 0 {
		writeValidation(w, errs)
		return
	}
	s.mu.Lock()
	rec, ok := s.byID[id]
	var out record
	if ok {
		apply(rec, fields, true)
		out = *rec
	}
	s.mu.Unlock()
	if !ok {
		s.notFound(w, "id", id)
		return
	}
	simkit.WriteJSON(w, http.StatusOK, "", out)
}

func (s *Sim) randomID(n int) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[s.rng.IntN(len(alphabet))]
	}
	return string(b)
}

// readBody reads a JSON object body as FastAPI does: no Content-Type is read
// as JSON, a non-JSON Content-Type or a non-object is model_attributes_type,
// an empty body is missing, bad JSON is json_invalid.
func readBody(r *http.Request) (map[string]json.RawMessage, []fieldError) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
	if err != nil {
		return nil, []fieldError{{Type: "missing", Loc: []any{"body"}, Msg: "Field required"}}
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !(mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))) {
			return nil, []fieldError{{Type: "model_attributes_type", Loc: []any{"body"},
				Msg: "Input should be a valid dictionary or object to extract fields from", Input: string(b)}}
		}
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil, []fieldError{{Type: "missing", Loc: []any{"body"}, Msg: "Field required"}}
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, []fieldError{{Type: "json_invalid", Loc: []any{"body", 0}, Msg: "JSON decode error",
			Input: map[string]any{}, Ctx: map[string]any{"error": "Expecting value"}}}
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, []fieldError{{Type: "model_attributes_type", Loc: []any{"body"},
			Msg: "Input should be a valid dictionary or object to extract fields from", Input: v}}
	}
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	return m, nil
}

var (
	statusEnum        = []string{"ACTIVE", "ARCHIVED"}
	addressStatusEnum = []string{"UNVERIFIED", "INVALID", "PARTIALLY_VERIFIED", "VERIFIED", "UNVERIFIABLE", "BLANK"}
	sourceEnum        = strings.Fields(`BIGCOMMERCE BESTBUY BUNNY CHARGEBEE SHOPIFY STRIPE AMAZON TIKTOK CUSTOM
		UNKNOWN IMPORT ZUORA APIDECK QUICKBOOKS API APPLE_APP_STORE GOOGLE_APP_STORE WALMART PAYPAL NETSUITE
		XERO MAXIO RECURLY SALESFORCE ETSY EBAY WIX SQUARESPACE WOOCOMMERCE MAGENTO BILLING_PLATFORM DEEL
		RIPPLING GUSTO FACEBOOK OTHER ORDWAY INSTAGRAM PINTEREST WAYFAIR WISH POS TARGET NEWEGG GROUPON
		GOOGLE_EXPRESS NOCNOC MERCADO_LIBRE MODALYST NORDSTROM FAIRE SHOPWARE ZOHO SAGE-INTACCT AIRWALLEX ORB
		ZENSKAR MICROSOFT_DYNAMICS_365 KICKSTARTER INTERNAL_ERP`)
)

// apply sets the CustomerCreate/CustomerUpdate fields of a body on rec.
// Unknown fields are ignored (pydantic's default); null means absent on
// create and clears the field on update. full_address follows the parts
// unless it is sent.
func apply(rec *record, fields map[string]json.RawMessage, update bool) []fieldError {
	targets := map[string]**string{
		"name": &rec.Name, "external_id": &rec.ExternalID, "status": &rec.Status, "email": &rec.Email,
		"phone": &rec.Phone, "street_1": &rec.Street1, "street_2": &rec.Street2, "city": &rec.City,
		"county": &rec.County, "state": &rec.State, "postal_code": &rec.PostalCode, "country": &rec.Country,
		"full_address": &rec.FullAddress, "source": &rec.Source, "connection_id": &rec.ConnectionID,
		"address_status": &rec.AddressStatus, "external_friendly_id": &rec.ExternalFriendlyID,
		"registration_number": &rec.RegistrationNumber,
	}
	enums := map[string][]string{
		"status": statusEnum, "address_status": addressStatusEnum, "source": sourceEnum, "country": kintsugi.CountryCodes(),
	}
	if update {
		// CustomerUpdate has no connection_id, external_friendly_id or registration_number.
		delete(targets, "connection_id")
		delete(targets, "external_friendly_id")
		delete(targets, "registration_number")
	}
	var errs []fieldError
	addressSent := false
	for _, name := range fieldOrder {
		raw, ok := fields[name]
		target := targets[name]
		if !ok || target == nil {
			continue
		}
		if string(raw) == "null" {
			if update {
				*target = nil
			}
			continue
		}
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			var input any
			_ = json.Unmarshal(raw, &input)
			if enums[name] != nil {
				errs = append(errs, enumError([]any{"body", name}, input, enums[name]))
			} else {
				errs = append(errs, fieldError{Type: "string_type", Loc: []any{"body", name}, Msg: "Input should be a valid string", Input: input})
			}
			continue
		}
		if allowed := enums[name]; allowed != nil && !contains(allowed, v) {
			errs = append(errs, enumError([]any{"body", name}, v, allowed))
			continue
		}
		*target = &v
		switch name {
		case "street_1", "street_2", "city", "state", "postal_code", "country":
			addressSent = true
		}
	}
	if _, sentFull := fields["full_address"]; addressSent && !sentFull {
		rec.FullAddress = fullAddress(rec)
	}
	return errs
}

// fieldOrder is the schema's field order, which is the order errors are reported in.
var fieldOrder = []string{"phone", "street_1", "street_2", "city", "county", "state", "postal_code", "country",
	"full_address", "name", "external_id", "status", "email", "source", "connection_id", "address_status",
	"registration_number", "external_friendly_id"}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// fullAddress is "street_1, street_2, city, state postal_code, country" from the parts present.
func fullAddress(r *record) *string {
	var parts []string
	for _, p := range []*string{r.Street1, r.Street2, r.City} {
		if p != nil && *p != "" {
			parts = append(parts, *p)
		}
	}
	var sp []string
	for _, p := range []*string{r.State, r.PostalCode} {
		if p != nil && *p != "" {
			sp = append(sp, *p)
		}
	}
	if len(sp) > 0 {
		parts = append(parts, strings.Join(sp, " "))
	}
	if r.Country != nil && *r.Country != "" {
		parts = append(parts, *r.Country)
	}
	if len(parts) == 0 {
		return nil
	}
	s := strings.Join(parts, ", ")
	return &s
}

// str is a pointer to s, or nil for "" (the field is then absent).
func str(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Emails is every customer's id and email as stored (tests' ground truth).
func (s *Sim) Emails() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.list))
	for _, r := range s.list {
		if r.Email != nil {
			out[r.ID] = *r.Email
		} else {
			out[r.ID] = ""
		}
	}
	return out
}
