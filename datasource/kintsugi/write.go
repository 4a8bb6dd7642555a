package kintsugi

import (
	"context"
	"net/http"
	"sort"
	"strings"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
)

// CreateCustomer is POST /v1/customers, which answers 200 (not 201) with the
// CustomerRead; Kintsugi generates the cust_… id. It is not retried: the API
// documents no idempotency key, so a retry could create the customer twice,
// and nothing the gateway sends identifies the customer afterwards (no
// client id, no metadata; names and emails need not be unique), so a create
// whose answer was lost is UNCERTAIN.
func (c *Client) CreateCustomer(ctx context.Context, in ds.CustomerInput) (*ds.Customer, error) {
	body, err := writeBody(in)
	if err != nil {
		return nil, err
	}
	resp, err := c.rc.Do(ctx, rest.Request{Method: http.MethodPost, Path: customersPath, Body: body}, nil)
	if err != nil {
		return nil, err
	}
	return rest.MapOne(resp.Body, mapRecord)
}

// UpdateCustomer is PUT /v1/customers/{id} with a CustomerUpdate, whose
// fields are all optional: only the input's non-nil fields are sent, so the
// others are left unchanged. The same PUT may be repeated safely, so it is
// retried like a read.
func (c *Client) UpdateCustomer(ctx context.Context, id string, in ds.CustomerInput) (*ds.Customer, error) {
	if !pathID(id) {
		return nil, ds.ProviderErrorf(ds.Kintsugi, ds.CodeNotFound, "%s has no customer %q", ds.Kintsugi, truncate(id, 60))
	}
	body, err := writeBody(in)
	if err != nil {
		return nil, err
	}
	resp, err := c.rc.Do(ctx, rest.Request{Method: http.MethodPut, Path: customersPath + "/" + id, Body: body, Idempotent: true}, nil)
	if err != nil {
		if !ds.AnswerLost(err) {
			return nil, err
		}
		// The answer was lost (after the retries): read the customer back and compare.
		got, gerr := c.GetCustomers(ctx, []string{id})
		return rest.ReadBackUpdate(err, in, got, gerr)
	}
	return rest.MapOne(resp.Body, mapRecord)
}

// DeleteCustomer: the Kintsugi API has no way to delete a customer.
func (c *Client) DeleteCustomer(context.Context, string) error {
	return ds.ProviderErrorf(ds.Kintsugi, ds.CodeUnsupportedByProvider,
		"%s cannot delete customers: its API has no delete operation (a customer can be archived instead)", ds.Kintsugi)
}

// writeBody maps the federated input to Kintsugi's fields. Kintsugi customers
// have no type, locale or metadata: an input setting them is refused rather
// than silently losing data. The country must be a CountryCodeEnum value.
func writeBody(in ds.CustomerInput) (*customerWrite, error) {
	var missing []string
	if in.Type != nil {
		missing = append(missing, "type")
	}
	if in.Locale != nil {
		missing = append(missing, "locale")
	}
	if len(in.Metadata) > 0 {
		missing = append(missing, "metadata")
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, ds.ProviderErrorf(ds.Kintsugi, ds.CodeUnsupportedByProvider,
			"%s customers have no %s; leave %s out", ds.Kintsugi, strings.Join(missing, ", "), pronoun(len(missing)))
	}
	b := &customerWrite{Name: in.Name, Email: in.Email, Phone: in.Phone}
	if a := in.Address; a != nil {
		b.Street1, b.Street2, b.City, b.County = a.Line1, a.Line2, a.City, a.County
		b.State, b.PostalCode = a.State, a.PostalCode
		if a.Country != nil {
			cc := strings.ToUpper(strings.TrimSpace(*a.Country))
			if !ValidCountry(cc) {
				return nil, ds.Errorf(ds.CodeBadUserInput, "address.country %q is not a country code %s accepts (ISO 3166-1 alpha-2, XK or ZZ_EU)", truncate(*a.Country, 20), ds.Kintsugi)
			}
			b.Country = &cc
		}
	}
	return b, nil
}

func pronoun(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}
