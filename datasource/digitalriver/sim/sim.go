// Package sim simulates Digital River's Customers resource over the demo
// world: GET/POST /customers, GET/POST/DELETE /customers/{id},
// POST/DELETE /customers/{id}/sources/{sourceId}, with Bearer secret-key auth
// and the documented Errors body. It is as strict as the docs (and the
// decisions recorded in shared/providers.md): limit 1..100, ids of at most 40
// characters, startingAfter/endingBefore naming an existing customer and never
// both, ids split on literal commas only, Content-Type: application/json on
// every request, emails stored as sent and matched exactly.
package sim

import (
	"fmt"
	"hash/fnv"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/digitalriver"
	"github.com/federated-customers/gateway/datasource/simkit"
)

// APIKey is the secret key the simulator accepts (a test-mode key: liveMode is false).
const APIKey = "sk_test_5f1d0e7c9a2b4c6d8e0f1a2b3c4d5e6f"

const timeLayout = "2006-01-02T15:04:05Z"

// Sim is the Digital River simulator.
type Sim struct {
	kit *simkit.Kit
	h   http.Handler

	mu        sync.Mutex
	customers map[string]*customer
	sources   map[string]*source
	nextID    int
	// now stamps created and updated records (seconds, UTC).
	now func() time.Time
}

type customer struct {
	id                   string
	created, updated     time.Time
	email                string
	shipping             *wireShipping
	defaultSourceID      string
	sourceIDs            []string
	requestToBeForgotten bool
	typ                  string
	metadata             map[string]any
	locale               string
	enabled              bool
}

type source struct {
	id         string
	typ        string
	created    time.Time
	customerID string // "" while free
}

// freeSources are chargeable sources attached to nobody in the demo world.
var freeSources = []struct{ id, typ string }{
	{"3f1c2e4d-5a6b-4c7d-8e9f-0a1b2c3d4e01", "creditCard"},
	{"3f1c2e4d-5a6b-4c7d-8e9f-0a1b2c3d4e02", "creditCard"},
	{"3f1c2e4d-5a6b-4c7d-8e9f-0a1b2c3d4e03", "payPal"},
	{"3f1c2e4d-5a6b-4c7d-8e9f-0a1b2c3d4e04", "googlePay"},
	{"3f1c2e4d-5a6b-4c7d-8e9f-0a1b2c3d4e05", "applePay"},
	{"3f1c2e4d-5a6b-4c7d-8e9f-0a1b2c3d4e06", "directDebit"},
}

var sourceEpoch = time.Date(2021, 1, 4, 9, 0, 0, 0, time.UTC)

// New renders the demo people known at Digital River.
func New(people []demo.Person) *Sim {
	s := &Sim{
		customers: map[string]*customer{},
		sources:   map[string]*source{},
		now:       func() time.Time { return time.Now().UTC().Truncate(time.Second) },
	}
	for _, p := range people {
		id, ok := p.IDs[ds.DigitalRiver]
		if !ok {
			continue
		}
		email := p.EmailAt(ds.DigitalRiver)
		c := &customer{
			id:      id,
			created: p.CreatedAt.UTC().Truncate(time.Second),
			updated: p.UpdatedAt.UTC().Truncate(time.Second),
			email:   email,
			typ:     "individual",
			locale:  strings.ReplaceAll(p.Locale, "-", "_"),
			enabled: true,
			shipping: &wireShipping{
				Name:  p.Name(),
				Phone: p.Phone,
				Email: email,
				Address: &wireAddress{Line1: p.Street1, Line2: p.Street2, City: p.City,
					PostalCode: p.PostalCode, State: p.State, Country: p.Country},
			},
		}
		if p.Business {
			c.typ = "business"
			c.shipping.Organization = p.Company
		}
		if _, other, ok := p.Other(ds.DigitalRiver); ok {
			c.metadata = map[string]any{"crmId": other}
		}
		if p.PaymentSourceID != "" {
			s.sources[p.PaymentSourceID] = &source{id: p.PaymentSourceID, typ: "creditCard", created: c.created, customerID: id}
			c.sourceIDs = []string{p.PaymentSourceID}
			c.defaultSourceID = p.PaymentSourceID
		}
		s.customers[id] = c
	}
	for i, f := range freeSources {
		s.sources[f.id] = &source{id: f.id, typ: f.typ, created: sourceEpoch.Add(time.Duration(i) * time.Hour)}
	}
	s.kit = simkit.New(WriteError)
	s.h = s.kit.Wrap(http.HandlerFunc(s.serve))
	return s
}

// Kit returns the request counter and fault injector.
func (s *Sim) Kit() *simkit.Kit { return s.kit }

// ServeHTTP serves the simulated API.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.h.ServeHTTP(w, r) }

// ClientConfig is a client configuration with valid credentials for a
// simulator served at baseURL (the documented paths sit at its root).
func (s *Sim) ClientConfig(baseURL string) digitalriver.Config {
	return digitalriver.Config{BaseURL: baseURL, APIKey: APIKey}
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// AddSource adds a free chargeable source of type typ (default creditCard),
// for tests that attach one.
func (s *Sim) AddSource(id, typ string) error {
	if !uuidRE.MatchString(id) {
		return fmt.Errorf("sim: source id %q is not a uuid", id)
	}
	if typ == "" {
		typ = "creditCard"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sources[id]; ok {
		return fmt.Errorf("sim: source %s exists", id)
	}
	s.sources[id] = &source{id: id, typ: typ, created: s.now()}
	return nil
}

// FreeSources lists the ids of the sources attached to nobody, sorted.
func (s *Sim) FreeSources() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for id, src := range s.sources {
		if src.customerID == "" {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// --- wire format ---

type wireCustomer struct {
	ID                   string         `json:"id"`
	CreatedTime          string         `json:"createdTime"`
	Email                string         `json:"email,omitempty"`
	Shipping             *wireShipping  `json:"shipping,omitempty"`
	DefaultSourceID      string         `json:"defaultSourceId,omitempty"`
	Sources              []wireSource   `json:"sources"`
	RequestToBeForgotten bool           `json:"requestToBeForgotten"`
	TaxIdentifiers       []any          `json:"taxIdentifiers"`
	Type                 string         `json:"type"`
	Metadata             map[string]any `json:"metadata,omitempty"`
	Locale               string         `json:"locale,omitempty"`
	Enabled              bool           `json:"enabled"`
	LiveMode             bool           `json:"liveMode"`
	UpdatedTime          string         `json:"updatedTime"`
}

type wireShipping struct {
	Name         string       `json:"name,omitempty"`
	Phone        string       `json:"phone,omitempty"`
	Email        string       `json:"email,omitempty"`
	Organization string       `json:"organization,omitempty"`
	Address      *wireAddress `json:"address,omitempty"`
}

type wireAddress struct {
	Line1      string `json:"line1,omitempty"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city,omitempty"`
	PostalCode string `json:"postalCode,omitempty"`
	State      string `json:"state,omitempty"`
	Country    string `json:"country,omitempty"`
}

type wireSource struct {
	ID          string    `json:"id"`
	CreatedTime string    `json:"createdTime"`
	Type        string    `json:"type"`
	CustomerID  string    `json:"customerId,omitempty"`
	Reusable    bool      `json:"reusable"`
	State       string    `json:"state"`
	Flow        string    `json:"flow"`
	CreditCard  *wireCard `json:"creditCard,omitempty"`
	LiveMode    bool      `json:"liveMode"`
}

type wireCard struct {
	Brand           string `json:"brand"`
	ExpirationMonth int    `json:"expirationMonth"`
	ExpirationYear  int    `json:"expirationYear"`
	LastFourDigits  string `json:"lastFourDigits"`
}

type wireList struct {
	HasMore bool           `json:"hasMore"`
	Data    []wireCustomer `json:"data"`
}

// render is the Customer object; call with s.mu held.
func (s *Sim) render(c *customer) wireCustomer {
	w := wireCustomer{
		ID:                   c.id,
		CreatedTime:          c.created.Format(timeLayout),
		Email:                c.email,
		DefaultSourceID:      c.defaultSourceID,
		Sources:              []wireSource{},
		RequestToBeForgotten: c.requestToBeForgotten,
		TaxIdentifiers:       []any{},
		Type:                 c.typ,
		Metadata:             c.metadata,
		Locale:               c.locale,
		Enabled:              c.enabled,
		UpdatedTime:          c.updated.Format(timeLayout),
	}
	if c.shipping != nil {
		sh := *c.shipping
		if sh.Address != nil {
			a := *sh.Address
			sh.Address = &a
		}
		w.Shipping = &sh
	}
	for _, id := range c.sourceIDs {
		if src := s.sources[id]; src != nil {
			w.Sources = append(w.Sources, renderSource(src))
		}
	}
	return w
}

func renderSource(src *source) wireSource {
	w := wireSource{
		ID:          src.id,
		CreatedTime: src.created.Format(timeLayout),
		Type:        src.typ,
		CustomerID:  src.customerID,
		Reusable:    src.customerID != "",
		State:       "chargeable",
		Flow:        "standard",
	}
	if src.typ == "creditCard" {
		h := fnv.New32a()
		h.Write([]byte(src.id))
		n := h.Sum32()
		w.CreditCard = &wireCard{Brand: "Visa", ExpirationMonth: 1 + int(n%12), ExpirationYear: 2027 + int(n/12%5),
			LastFourDigits: fmt.Sprintf("%04d", n%10000)}
	}
	return w
}

// --- errors ---

type wireError struct {
	Code      string `json:"code"`
	Parameter string `json:"parameter,omitempty"`
	Message   string `json:"message"`
}

type wireErrors struct {
	Type   string      `json:"type"`
	Errors []wireError `json:"errors"`
}

// statusKinds maps a status to the documented Errors type and a code.
var statusKinds = map[int][2]string{
	400: {"bad_request", "invalid_request"},
	401: {"unauthorized", "unauthorized"},
	403: {"forbidden", "forbidden"},
	404: {"not_found", "not_found"},
	405: {"method_not_allowed", "method_not_allowed"},
	406: {"not_acceptable", "not_acceptable"},
	408: {"request_timeout", "request_timeout"},
	409: {"conflict", "conflict"},
	429: {"too_many_requests", "too_many_requests"},
	500: {"internal_server_error", "unknown_error"},
	502: {"bad_gateway", "bad_gateway"},
	503: {"service_unavailable", "service_unavailable"},
	504: {"gateway_timeout", "gateway_timeout"},
}

func kindOf(status int) (typ, code string) {
	if k, ok := statusKinds[status]; ok {
		return k[0], k[1]
	}
	if status >= 500 {
		return "internal_server_error", "unknown_error"
	}
	return "bad_request", "invalid_request"
}

// WriteError writes the documented Errors body, type and code derived from
// status (the simkit error writer for injected faults).
func WriteError(w http.ResponseWriter, status int, message string) {
	typ, code := kindOf(status)
	writeErr(w, status, typ, code, "", message)
}

func writeErr(w http.ResponseWriter, status int, typ, code, param, message string) {
	simkit.WriteJSON(w, status, "application/json", wireErrors{Type: typ, Errors: []wireError{{Code: code, Parameter: param, Message: message}}})
}

func badParam(w http.ResponseWriter, param, format string, args ...any) {
	writeErr(w, http.StatusBadRequest, "bad_request", "invalid_parameter", param, fmt.Sprintf(format, args...))
}

func badRequest(w http.ResponseWriter, format string, args ...any) {
	writeErr(w, http.StatusBadRequest, "bad_request", "invalid_request", "", fmt.Sprintf(format, args...))
}

func notFound(w http.ResponseWriter, param, format string, args ...any) {
	writeErr(w, http.StatusNotFound, "not_found", "not_found", param, fmt.Sprintf(format, args...))
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
