package commercelayer

import (
	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
)

// resource is one JSON:API resource object of type customers.
type resource struct {
	ID         string     `json:"id"`
	Type       string     `json:"type"`
	Attributes attributes `json:"attributes"`
}

// attributes is the part of a customer's attributes the gateway maps.
type attributes struct {
	Email           string         `json:"email"`
	Status          string         `json:"status"`
	CreatedAt       string         `json:"created_at"`
	UpdatedAt       string         `json:"updated_at"`
	Reference       *string        `json:"reference"`
	ReferenceOrigin *string        `json:"reference_origin"`
	Metadata        map[string]any `json:"metadata"`
}

// mapRecord maps one decoded resource object; Raw is the object as
// received, not a copy (see rest.Record).
// Commerce Layer customers have an email, a status (prospect, acquired,
// repeat), metadata and timestamps (2018-01-01T12:00:00.000Z, read into
// UTC); no name, phone, type, locale or address. reference is the
// customer's id in the system reference_origin names: when that origin is
// one of the gateway's providers (its config key or enum, e.g. kintsugi),
// the pair becomes a SYSTEM Ref pointing at that provider's customer. Any
// other origin (or a reference without one) is not a provider the gateway
// can link to and is left out of Refs; it stays in Raw.
func mapRecord(rec *rest.Record[resource]) (*ds.Customer, error) {
	if err := rec.Err; err != nil {
		return nil, unreadable("a customer that is not a resource object: " + err.Error())
	}
	r := &rec.V
	if r.ID == "" || (r.Type != "" && r.Type != "customers") {
		return nil, unreadable("a resource that is not a customer")
	}
	a := r.Attributes
	c := &ds.Customer{
		Provider:   ds.CommerceLayer,
		ProviderID: r.ID,
		Email:      ds.NonEmpty(a.Email),
		Status:     ds.NonEmpty(a.Status),
		CreatedAt:  rest.RFC3339UTC(a.CreatedAt),
		UpdatedAt:  rest.RFC3339UTC(a.UpdatedAt),
		Raw:        rec.Raw,
	}
	if len(a.Metadata) > 0 {
		c.Metadata = a.Metadata
	}
	if a.Reference != nil && *a.Reference != "" && a.ReferenceOrigin != nil {
		if p, ok := ds.ParseProvider(*a.ReferenceOrigin); ok && p != ds.CommerceLayer {
			c.Refs = []ds.Ref{{Kind: ds.SourceSystem, SourceID: p.Key(), SourceName: *a.ReferenceOrigin,
				ExternalIDs: []string{*a.Reference}}}
		}
	}
	return c, nil
}
