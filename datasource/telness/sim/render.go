package sim

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net/mail"
	"strings"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/demo"
)

// customer is the documented Customer in the simulator's own wire types
// (deliberately not the client's, so a mismatch between them shows).
type customer struct {
	CustomerID      string         `json:"customerId"`
	CustomerType    string         `json:"customerType"`
	Name            string         `json:"name"`
	Contact         contact        `json:"contact"`
	Identity        string         `json:"identity,omitempty"`
	PreferredLocale string         `json:"preferredLocale,omitempty"`
	HumanReadableID string         `json:"humanReadableId"`
	ReferenceID     string         `json:"referenceId,omitempty"`
	Billing         *billing       `json:"billing,omitempty"`
	Users           []user         `json:"users"`
	ContactPerson   *user          `json:"contactPerson,omitempty"`
	Shipping        *shipping      `json:"shipping,omitempty"`
	Metadata        map[string]any `json:"metadata"`
	CreatedAt       string         `json:"createdAt"`
	UpdatedAt       string         `json:"updatedAt"`
}

type contact struct {
	Email  string `json:"email,omitempty"`
	MSISDN string `json:"msisdn,omitempty"`
}

type address struct {
	Street1   string `json:"street1,omitempty"`
	City      string `json:"city,omitempty"`
	Zip       string `json:"zip,omitempty"`
	Country   string `json:"country,omitempty"`
	Street2   string `json:"street2,omitempty"`
	State     string `json:"state,omitempty"`
	Region    string `json:"region,omitempty"`
	Attention string `json:"attention,omitempty"`
}

type billing struct {
	Method                  string   `json:"method,omitempty"`
	Currency                string   `json:"currency,omitempty"`
	Email                   string   `json:"email,omitempty"`
	Address                 *address `json:"address,omitempty"`
	DefaultPaymentProfileID *string  `json:"defaultPaymentProfileId"`
	AutoPay                 bool     `json:"autoPay"`
}

type user struct {
	UserID string `json:"userId"`
	Name   string `json:"name"`
	Role   string `json:"role"`
}

type shipping struct {
	Name         string   `json:"name,omitempty"`
	Address      *address `json:"address,omitempty"`
	MSISDN       string   `json:"msisdn,omitempty"`
	Instructions string   `json:"instructions,omitempty"`
}

// matches is the list's free-text search: a case-insensitive substring of
// name, contact.email, humanReadableId or referenceId (q is lower-cased).
func (c *customer) matches(q string) bool {
	for _, f := range []string{c.Name, c.Contact.Email, c.HumanReadableID, c.ReferenceID} {
		if strings.Contains(strings.ToLower(f), q) {
			return true
		}
	}
	return false
}

var currencies = map[string]string{"SE": "SEK", "CZ": "CZK", "US": "USD", "DE": "EUR", "CA": "CAD", "GB": "GBP"}

// render is demo person p as Telness customer id.
func render(p demo.Person, id string) *customer {
	typ := "CONSUMER"
	if p.Business {
		typ = "BUSINESS"
	}
	addr := &address{
		Street1: p.Street1,
		Street2: p.Street2,
		City:    p.City,
		State:   p.State,
		Zip:     p.PostalCode,
		Country: p.Country,
		Region:  p.County,
	}
	cur := currencies[p.Country]
	if cur == "" {
		cur = "EUR"
	}
	shipAddr := *addr
	return &customer{
		CustomerID:      id,
		CustomerType:    typ,
		Name:            p.Name(),
		Contact:         contact{Email: p.EmailAt(ds.Telness), MSISDN: p.Phone},
		Identity:        identity(p, id),
		PreferredLocale: p.Locale,
		HumanReadableID: humanID(id),
		ReferenceID:     p.IDs[ds.CareCloud],
		Billing: &billing{
			Method:   "E_INVOICE",
			Currency: cur,
			Email:    p.EmailAt(ds.Telness),
			Address:  addr,
		},
		Users:     []user{},
		Shipping:  &shipping{Name: p.Name(), Address: &shipAddr, MSISDN: p.Phone},
		Metadata:  map[string]any{},
		CreatedAt: p.CreatedAt.UTC().Format(time.RFC3339),
		UpdatedAt: p.UpdatedAt.UTC().Format(time.RFC3339),
	}
}

func hash(s string) uint64 {
	sum := sha256.Sum256([]byte(s))
	return binary.BigEndian.Uint64(sum[:8])
}

// humanID is a deterministic id shaped like the documented "29A-BY3Z-X78".
func humanID(id string) string {
	const alphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	h := hash("hrid/" + id)
	b := make([]byte, 0, 12)
	for i := 0; i < 10; i++ {
		if i == 3 || i == 7 {
			b = append(b, '-')
		}
		b = append(b, alphabet[h%uint64(len(alphabet))])
		h /= uint64(len(alphabet))
	}
	return string(b)
}

// identity is a deterministic personal number (YYYYMMDD-NNNN) or, for a
// business, an organisation number (NNNNNN-NNNN).
func identity(p demo.Person, id string) string {
	h := hash("identity/" + id)
	if p.Business {
		return fmt.Sprintf("55%04d-%04d", h%10000, (h/10000)%10000)
	}
	birth := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(h%18000))
	return fmt.Sprintf("%s-%04d", birth.Format("20060102"), (h/18000)%10000)
}

func (c *contact) check() string {
	if c.Email != "" {
		if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email {
			return "contact.email is not a valid email address"
		}
	}
	if c.MSISDN != "" && !isE164(c.MSISDN) {
		return "contact.msisdn must be an E.164 number such as +46701234567"
	}
	return ""
}

func isE164(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	return strings.Trim(s[1:], "0123456789") == ""
}

func (b *billing) check() string {
	// method is required wherever a billing configuration is sent (POST
	// /customers as well as PUT /customers/{id}/billing): the docs give its
	// values and make other fields depend on it, never a default.
	switch b.Method {
	case "":
		return "billing.method is required (E_INVOICE, EMAIL_INVOICE or PAPER_INVOICE)"
	case "E_INVOICE":
	case "EMAIL_INVOICE":
		if b.Email == "" {
			return "billing.email is required with method EMAIL_INVOICE"
		}
	case "PAPER_INVOICE":
		if b.Address == nil {
			return "billing.address is required with method PAPER_INVOICE"
		}
	default:
		return "billing.method must be E_INVOICE, EMAIL_INVOICE or PAPER_INVOICE"
	}
	if b.Email != "" {
		if a, err := mail.ParseAddress(b.Email); err != nil || a.Address != b.Email {
			return "billing.email is not a valid email address"
		}
	}
	if b.Currency != "" && (len(b.Currency) != 3 || strings.Trim(b.Currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "") {
		return "billing.currency must be an ISO 4217 code such as SEK"
	}
	if b.AutoPay && b.DefaultPaymentProfileID == nil {
		return "billing.autoPay requires defaultPaymentProfileId"
	}
	if b.DefaultPaymentProfileID != nil && !isUUID(*b.DefaultPaymentProfileID) {
		return "billing.defaultPaymentProfileId must be a UUID"
	}
	if b.Address != nil {
		return b.Address.check("billing.address")
	}
	return ""
}

func (a *address) check(field string) string {
	if a.Country != "" && (len(a.Country) != 2 || strings.Trim(a.Country, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "") {
		return field + ".country must be an ISO 3166-1 alpha-2 code such as SE"
	}
	return ""
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}
