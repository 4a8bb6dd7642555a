package kintsugi

import (
	"encoding/json"
	"fmt"
	"strings"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
)

// CustomerRead is Kintsugi's customer record. Only id and organization_id
// are required; every other field may be absent or null. The schema has no
// created_at/updated_at, type or locale.
type CustomerRead struct {
	ID             string  `json:"id"`
	OrganizationID string  `json:"organization_id"`
	Name           *string `json:"name,omitempty"`
	ExternalID     *string `json:"external_id,omitempty"`
	Status         *string `json:"status,omitempty"`
	Email          *string `json:"email,omitempty"`
	Phone          *string `json:"phone,omitempty"`
	address
	FullAddress        *string `json:"full_address,omitempty"`
	Source             *string `json:"source,omitempty"`
	ConnectionID       *string `json:"connection_id,omitempty"`
	AddressStatus      *string `json:"address_status,omitempty"`
	ExternalFriendlyID *string `json:"external_friendly_id,omitempty"`
	RegistrationNumber *string `json:"registration_number,omitempty"`
}

// customerWrite is the CustomerCreate / CustomerUpdate body this client
// sends: only the fields the federated input can set, absent when unset.
type customerWrite struct {
	Name  *string `json:"name,omitempty"`
	Email *string `json:"email,omitempty"`
	Phone *string `json:"phone,omitempty"`
	address
}

// address is the customer's address fields, the same in CustomerRead and
// the write body.
type address struct {
	Street1    *string `json:"street_1,omitempty"`
	Street2    *string `json:"street_2,omitempty"`
	City       *string `json:"city,omitempty"`
	County     *string `json:"county,omitempty"`
	State      *string `json:"state,omitempty"`
	PostalCode *string `json:"postal_code,omitempty"`
	Country    *string `json:"country,omitempty"`
}

// mapRecord maps one decoded CustomerRead; Raw is the record as received.
func mapRecord(rec *rest.Record[CustomerRead]) (*ds.Customer, error) {
	if rec.Err != nil {
		return nil, unreadable("a customer record that is not a CustomerRead object")
	}
	r := &rec.V
	if r.ID == "" {
		return nil, unreadable("a customer record without an id")
	}
	c := &ds.Customer{
		Provider:   ds.Kintsugi,
		ProviderID: r.ID,
		Name:       nonEmpty(r.Name),
		Email:      nonEmpty(r.Email),
		Phone:      nonEmpty(r.Phone),
		Status:     nonEmpty(r.Status),
		Raw:        rec.Raw,
	}
	a := ds.Address{
		Line1:      nonEmpty(r.Street1),
		Line2:      nonEmpty(r.Street2),
		City:       nonEmpty(r.City),
		County:     nonEmpty(r.County),
		State:      nonEmpty(r.State),
		PostalCode: nonEmpty(r.PostalCode),
		Country:    nonEmpty(r.Country),
	}
	if a != (ds.Address{}) {
		c.Address = &a
	}
	if ext := nonEmpty(r.ExternalID); ext != nil {
		// source says which system created the customer and external_id is
		// its id there. A record with an external id but no source names
		// Kintsugi's own catch-all, UNKNOWN.
		src := "UNKNOWN"
		if s := nonEmpty(r.Source); s != nil {
			src = *s
		}
		c.Refs = []ds.Ref{{Kind: ds.SourceSystem, SourceID: src, SourceName: src, ExternalIDs: []string{*ext}}}
	}
	return c, nil
}

// nonEmpty is s unless it is absent or "". It is s itself, not a copy: the
// decoded record is not used again once mapped.
func nonEmpty(s *string) *string {
	if s == nil || *s == "" {
		return nil
	}
	return s
}

// ErrorMessage extracts the human message from a Kintsugi error body:
// {"detail":"<message>"} for most errors, FastAPI's validation shape
// {"detail":[{"loc":["query","page"],"msg":"…",…}]} for 422, where each msg
// is given with its location ("query.page: Input should be …") and several
// are joined with "; ". It returns "" for a body without a detail.
func ErrorMessage(_ int, body []byte) string {
	var env struct {
		Detail json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal(body, &env); err != nil || len(env.Detail) == 0 {
		return ""
	}
	var s string
	if err := json.Unmarshal(env.Detail, &s); err == nil {
		return strings.TrimSpace(s)
	}
	var items []struct {
		Loc []any  `json:"loc"`
		Msg string `json:"msg"`
	}
	if err := json.Unmarshal(env.Detail, &items); err != nil {
		return ""
	}
	var parts []string
	for _, it := range items {
		if it.Msg == "" {
			continue
		}
		loc := make([]string, 0, len(it.Loc))
		for _, l := range it.Loc {
			switch v := l.(type) {
			case string:
				loc = append(loc, v)
			case float64:
				loc = append(loc, fmt.Sprint(v))
			}
		}
		if len(loc) > 0 {
			parts = append(parts, strings.Join(loc, ".")+": "+it.Msg)
		} else {
			parts = append(parts, it.Msg)
		}
	}
	return strings.Join(parts, "; ")
}
