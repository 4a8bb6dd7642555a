package commercelayer

import (
	"context"
	"encoding/json"
	"net/http"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
)

// writeBody is the JSON:API document of a create or update:
// {"data":{"type":"customers","id":…,"attributes":{…}}}.
type writeBody struct {
	Data writeData `json:"data"`
}

type writeData struct {
	Type       string         `json:"type"`
	ID         string         `json:"id,omitempty"`
	Attributes map[string]any `json:"attributes"`
}

// oneResponse is the single-resource envelope {"data":{…}}.
type oneResponse struct {
	Data json.RawMessage `json:"data"`
}

// writeAttributes maps the input onto what a Commerce Layer customer can
// hold: email and metadata. Name, phone, type, locale and address have no
// place on a customer (addresses are a separate resource), so asking for
// them is UNSUPPORTED_BY_PROVIDER before any call, rather than a write that
// silently drops them or hides them in metadata.
func writeAttributes(in ds.CustomerInput) (map[string]any, error) {
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"name", in.Name != nil}, {"phone", in.Phone != nil}, {"type", in.Type != nil},
		{"locale", in.Locale != nil}, {"address", in.Address != nil},
	} {
		if f.set {
			return nil, ds.ProviderErrorf(ds.CommerceLayer, ds.CodeUnsupportedByProvider,
				"%s customers have no %s; leave it out of the input", ds.CommerceLayer, f.name)
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

// CreateCustomer is POST /customers (201 {"data":{…}}). Commerce Layer
// requires an email; it generates the id. Name, phone, type, locale and
// address are UNSUPPORTED_BY_PROVIDER (see writeAttributes). A create is
// never retried (a retry after a lost answer could create a second customer).
func (c *Client) CreateCustomer(ctx context.Context, in ds.CustomerInput) (*ds.Customer, error) {
	attrs, err := writeAttributes(in)
	if err != nil {
		return nil, err
	}
	if in.Email == nil || *in.Email == "" {
		return nil, ds.Errorf(ds.CodeBadUserInput, "%s needs an email to create a customer", ds.CommerceLayer)
	}
	body := writeBody{Data: writeData{Type: "customers", Attributes: attrs}}
	cu, err := c.write(ctx, rest.Request{Method: http.MethodPost, Path: "/customers", Body: body})
	if err == nil || !ds.AnswerLost(err) {
		return cu, err
	}
	// The answer was lost: the email is unique at Commerce Layer, so the
	// customer holding it, showing the input, is the one this create made.
	page, lerr := c.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Limit: MaxPageSize, Filter: ds.Filter{Email: in.Email}})
	if lerr != nil {
		return nil, ds.WithOutcome(err, ds.OutcomeUncertain)
	}
	for _, got := range page.Items {
		if ds.InputApplied(in, got) {
			return got, nil
		}
	}
	return nil, ds.WithOutcome(err, ds.AbsentOutcome(err))
}

// UpdateCustomer is PATCH /customers/{id}; nil fields are left unchanged and
// metadata, when given, replaces the customer's metadata. The body carries the
// same id as the URL, as Commerce Layer requires. Sending the same PATCH twice
// leaves the same record, so rest may retry it on a transient failure.
func (c *Client) UpdateCustomer(ctx context.Context, id string, in ds.CustomerInput) (*ds.Customer, error) {
	if !validID(id) {
		return nil, badCustomerID(id)
	}
	attrs, err := writeAttributes(in)
	if err != nil {
		return nil, err
	}
	body := writeBody{Data: writeData{Type: "customers", ID: id, Attributes: attrs}}
	cu, err := c.write(ctx, rest.Request{Method: http.MethodPatch, Path: "/customers/" + id, Body: body, Idempotent: true})
	if err == nil || !ds.AnswerLost(err) {
		return cu, err
	}
	// The answer was lost (after the retries): read the customer back and compare.
	got, gerr := c.GetCustomers(ctx, []string{id})
	return rest.ReadBackUpdate(err, in, got, gerr)
}

// DeleteCustomer is DELETE /customers/{id} (204); an unknown id is NOT_FOUND.
// It is not retried: a retry after a lost 204 would answer 404.
func (c *Client) DeleteCustomer(ctx context.Context, id string) error {
	if !validID(id) {
		return badCustomerID(id)
	}
	_, err := c.rc.Do(ctx, rest.Request{Method: http.MethodDelete, Path: "/customers/" + id}, nil)
	if err == nil || !ds.AnswerLost(err) {
		return err
	}
	// The answer was lost: the customer being gone says the delete happened.
	got, gerr := c.GetCustomers(ctx, []string{id})
	return rest.ReadBackDelete(err, gerr == nil && len(got) == 0, gerr)
}

func (c *Client) write(ctx context.Context, req rest.Request) (*ds.Customer, error) {
	var resp oneResponse
	if _, err := c.rc.Do(ctx, req, &resp); err != nil {
		return nil, err
	}
	if len(resp.Data) == 0 || string(resp.Data) == "null" {
		return nil, unreadable("a write answered without the customer")
	}
	return rest.MapOne(resp.Data, mapRecord)
}
