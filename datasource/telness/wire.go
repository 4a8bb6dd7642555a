package telness

import (
	"encoding/json"
	"strings"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
)

// Wire values of customerType.
const (
	typeConsumer = "CONSUMER"
	typeBusiness = "BUSINESS"
)

// customer is the documented Customer, only as far as the gateway maps it
// (Raw keeps the whole record).
type customer struct {
	CustomerID      string         `json:"customerId"`
	CustomerType    string         `json:"customerType"`
	Name            string         `json:"name"`
	Contact         *contact       `json:"contact"`
	PreferredLocale string         `json:"preferredLocale"`
	ReferenceID     string         `json:"referenceId"`
	Billing         *billing       `json:"billing"`
	Shipping        *shipping      `json:"shipping"`
	Metadata        map[string]any `json:"metadata"`
	CreatedAt       timestamp      `json:"createdAt"`
	UpdatedAt       timestamp      `json:"updatedAt"`
}

// timestamp is createdAt/updatedAt, documented as RFC 3339
// ("2023-11-07T05:31:56Z"). RFC 3339 also allows a lower-case "t" and "z"
// and a space between date and time, which time.RFC3339 refuses; those are
// accepted too. Anything else (another format, a number) is no time rather
// than an unreadable record: the fields are informative, the record is not
// lost over them.
type timestamp struct{ t *time.Time }

func (ts *timestamp) UnmarshalJSON(b []byte) error {
	ts.t = nil
	var s string
	if json.Unmarshal(b, &s) != nil || len(s) < len("2006-01-02T15:04:05Z") {
		return nil
	}
	if c := s[10]; c == 't' || c == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	if strings.HasSuffix(s, "z") {
		s = s[:len(s)-1] + "Z"
	}
	ts.t = rest.RFC3339UTC(s)
	return nil
}

type contact struct {
	Email  string `json:"email,omitempty"`
	MSISDN string `json:"msisdn,omitempty"`
}

type address struct {
	Street1 string `json:"street1,omitempty"`
	Street2 string `json:"street2,omitempty"`
	City    string `json:"city,omitempty"`
	State   string `json:"state,omitempty"`
	Zip     string `json:"zip,omitempty"`
	Country string `json:"country,omitempty"`
	Region  string `json:"region,omitempty"`
}

type billing struct {
	Address *address `json:"address,omitempty"`
}

type shipping struct {
	Address *address `json:"address,omitempty"`
}

// createRequest is the body of POST /customers, as far as the federated
// input can fill it. It has no billing: a billing configuration is led by
// its method (E_INVOICE, EMAIL_INVOICE, PAPER_INVOICE), which the federated
// input does not carry and the gateway must not choose for the customer; a
// billing object without one is what a strict API refuses.
type createRequest struct {
	CustomerType    string         `json:"customerType,omitempty"`
	Name            string         `json:"name,omitempty"`
	Contact         *contact       `json:"contact,omitempty"`
	PreferredLocale string         `json:"preferredLocale,omitempty"`
	Shipping        *shipping      `json:"shipping,omitempty"`
	Metadata        map[string]any `json:"metadata,omitempty"`
}

// createBody maps the federated input to POST /customers. The one federated
// address is the shipping address (the federated customer reads billing
// first, then shipping, so it reads back the same).
func createBody(in ds.CustomerInput) createRequest {
	var b createRequest
	if in.Type != nil {
		switch *in.Type {
		case ds.Individual:
			b.CustomerType = typeConsumer
		case ds.Business:
			b.CustomerType = typeBusiness
		}
	}
	b.Name = deref(in.Name)
	if in.Email != nil || in.Phone != nil {
		b.Contact = &contact{Email: deref(in.Email), MSISDN: deref(in.Phone)}
	}
	b.PreferredLocale = deref(in.Locale)
	if a := toWireAddress(in.Address); a != nil {
		b.Shipping = &shipping{Address: a}
	}
	b.Metadata = in.Metadata
	return b
}

func toWireAddress(a *ds.Address) *address {
	if a == nil {
		return nil
	}
	w := &address{
		Street1: deref(a.Line1),
		Street2: deref(a.Line2),
		City:    deref(a.City),
		State:   deref(a.State),
		Zip:     deref(a.PostalCode),
		Country: strings.ToUpper(deref(a.Country)),
		Region:  deref(a.County),
	}
	if *w == (address{}) {
		return nil
	}
	return w
}

// customerItems is the list's items, each decoded in place. present is
// false when the envelope has no items; notArray when they are neither an
// array nor null (null is an empty list).
type customerItems struct {
	present, notArray bool
	list              []rest.Record[customer]
}

// UnmarshalJSON never fails, so ListCustomers answers items it cannot read
// with its own error. The records' Raw point into b (see rest.Record).
func (it *customerItems) UnmarshalJSON(b []byte) error {
	it.present = true
	it.notArray = json.Unmarshal(b, &it.list) != nil
	return nil
}

// mapRecord maps one decoded record; Raw is its exact bytes.
func mapRecord(rec *rest.Record[customer]) (*ds.Customer, error) {
	if raw := rec.Raw; len(raw) == 0 || raw[0] != '{' || rec.Err != nil {
		return nil, unreadable("a customer that is not a JSON object")
	}
	w := &rec.V
	if w.CustomerID == "" {
		return nil, unreadable("a customer without customerId")
	}
	c := &ds.Customer{
		Provider:   ds.Telness,
		ProviderID: w.CustomerID,
		Name:       ds.NonEmpty(w.Name),
		Locale:     ds.NonEmpty(w.PreferredLocale),
		CreatedAt:  w.CreatedAt.t,
		UpdatedAt:  w.UpdatedAt.t,
		Metadata:   w.Metadata,
		Raw:        rec.Raw,
	}
	if w.Contact != nil {
		c.Email = ds.NonEmpty(w.Contact.Email)
		c.Phone = ds.NonEmpty(w.Contact.MSISDN)
	}
	switch w.CustomerType {
	case typeConsumer:
		t := ds.Individual
		c.Type = &t
	case typeBusiness:
		t := ds.Business
		c.Type = &t
	}
	// Telness has no customer status word: Status stays nil.
	var a *address
	if w.Billing != nil && w.Billing.Address != nil && *w.Billing.Address != (address{}) {
		a = w.Billing.Address
	} else if w.Shipping != nil && w.Shipping.Address != nil && *w.Shipping.Address != (address{}) {
		a = w.Shipping.Address
	}
	if a != nil {
		c.Address = &ds.Address{
			Line1:      ds.NonEmpty(a.Street1),
			Line2:      ds.NonEmpty(a.Street2),
			City:       ds.NonEmpty(a.City),
			County:     ds.NonEmpty(a.Region),
			State:      ds.NonEmpty(a.State),
			PostalCode: ds.NonEmpty(a.Zip),
			Country:    ds.NonEmpty(strings.ToUpper(a.Country)),
		}
	}
	if w.ReferenceID != "" {
		c.Refs = []ds.Ref{{
			Kind:        ds.SourceSystem,
			SourceID:    "referenceId",
			SourceName:  "CRM reference",
			ExternalIDs: []string{w.ReferenceID},
		}}
	}
	return c, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
