package commercelayer

import (
	"context"
	"encoding/json"
	"net/http"

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

func mapCustomers(data []json.RawMessage) ([]*ds.Customer, error) {
	out := make([]*ds.Customer, 0, len(data))
	for _, raw := range data {
		c, err := mapCustomer(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// mapCustomer maps one resource object; Raw keeps it exactly as received.
// reference/reference_origin is the customer's id in the system that
// created it, so it becomes a SYSTEM reference (pointing at another
// provider's customer when reference_origin names one).
func mapCustomer(raw json.RawMessage) (*ds.Customer, error) {
	var r resource
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, unreadable("a customer that is not a resource object: " + err.Error())
	}
	if r.ID == "" || (r.Type != "" && r.Type != "customers") {
		return nil, unreadable("a resource that is not a customer")
	}
	a := r.Attributes
	c := &ds.Customer{
		Provider:   ds.CommerceLayer,
		ProviderID: r.ID,
		Email:      ds.NonEmpty(a.Email),
		Status:     ds.NonEmpty(a.Status),
		CreatedAt:  ds.RFC3339UTC(a.CreatedAt),
		UpdatedAt:  ds.RFC3339UTC(a.UpdatedAt),
		Raw:        append(json.RawMessage(nil), raw...),
	}
	if len(a.Metadata) > 0 {
		c.Metadata = a.Metadata
	}
	if a.Reference != nil && *a.Reference != "" {
		origin := ""
		if a.ReferenceOrigin != nil {
			origin = *a.ReferenceOrigin
		}
		c.Refs = append(c.Refs, ds.Ref{Kind: ds.SourceSystem, SourceID: origin, SourceName: origin, ExternalIDs: []string{*a.Reference}})
	}
	return c, nil
}

// writeBody is the JSON:API document of a create or update.
type writeBody struct {
	Data writeData `json:"data"`
}

type writeData struct {
	Type       string         `json:"type"`
	ID         string         `json:"id,omitempty"`
	Attributes map[string]any `json:"attributes"`
}

// writeAttributes maps the input onto what a CL customer can hold: email and
// metadata. Name, phone, type, locale and address have no place on a CL
// customer (addresses are a separate resource), so asking for them is
// UNSUPPORTED_BY_PROVIDER rather than a write that silently drops them.
func writeAttributes(in ds.CustomerInput) (map[string]any, error) {
	for field, set := range map[string]bool{
		"name": in.Name != nil, "phone": in.Phone != nil, "type": in.Type != nil,
		"locale": in.Locale != nil, "address": in.Address != nil,
	} {
		if set {
			return nil, ds.ProviderErrorf(ds.CommerceLayer, ds.CodeUnsupportedByProvider,
				"%s customers have no %s; leave it out of the input", ds.CommerceLayer, field)
		}
	}
	attrs := map[string]any{}
	if in.Email != nil {
		attrs["email"] = *in.Email
	}
	if in.Metadata != nil {
		attrs["metadata"] = in.Metadata
	}
	return attrs, nil
}

type oneResponse struct {
	Data json.RawMessage `json:"data"`
}

// CreateCustomer is POST /customers (201). Email is required by CL.
func (c *Client) CreateCustomer(ctx context.Context, in ds.CustomerInput) (*ds.Customer, error) {
	attrs, err := writeAttributes(in)
	if err != nil {
		return nil, err
	}
	if in.Email == nil || *in.Email == "" {
		return nil, ds.Errorf(ds.CodeBadUserInput, "%s needs an email to create a customer", ds.CommerceLayer)
	}
	var resp oneResponse
	body := writeBody{Data: writeData{Type: "customers", Attributes: attrs}}
	if _, err := c.rc.Do(ctx, rest.Request{Method: http.MethodPost, Path: "/customers", Body: body}, &resp); err != nil {
		return nil, err
	}
	return mapCustomer(resp.Data)
}

// UpdateCustomer is PATCH /customers/{id}; the body carries the same id, as
// CL requires. Sending the same PATCH twice leaves the same record, so it may
// be retried.
func (c *Client) UpdateCustomer(ctx context.Context, id string, in ds.CustomerInput) (*ds.Customer, error) {
	if !validID(id) {
		return nil, ds.Errorf(ds.CodeBadUserInput, "%q is not a valid %s customer id", id, ds.CommerceLayer)
	}
	attrs, err := writeAttributes(in)
	if err != nil {
		return nil, err
	}
	var resp oneResponse
	body := writeBody{Data: writeData{Type: "customers", ID: id, Attributes: attrs}}
	if _, err := c.rc.Do(ctx, rest.Request{Method: http.MethodPatch, Path: "/customers/" + id, Body: body, Idempotent: true}, &resp); err != nil {
		return nil, err
	}
	return mapCustomer(resp.Data)
}

// DeleteCustomer is DELETE /customers/{id} (204).
func (c *Client) DeleteCustomer(ctx context.Context, id string) error {
	if !validID(id) {
		return ds.Errorf(ds.CodeBadUserInput, "%q is not a valid %s customer id", id, ds.CommerceLayer)
	}
	_, err := c.rc.Do(ctx, rest.Request{Method: http.MethodDelete, Path: "/customers/" + id}, nil)
	return err
}
