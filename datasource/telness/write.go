package telness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
)

// CreateCustomer is POST /customers with an X-Idempotency-Key, reused by the
// transport's retries so a retried create never makes two customers: the
// key derived from the caller's idempotency key (ds.WriteKey), so a repeat
// of the mutation (another request, another replica) is the same write at
// Telness too, else a fresh one. A create whose answer was still lost after
// the retries is UNCERTAIN: a repeat with the same key settles it.
func (c *Client) CreateCustomer(ctx context.Context, in ds.CustomerInput) (*ds.Customer, error) {
	key, ok := ds.WriteKey(ctx)
	if ok {
		key = "gw-" + key
	} else {
		key = c.newKey()
	}
	if key == "" || len(key) > MaxIdempotencyKeyLength {
		return nil, ds.ProviderErrorf(ds.Telness, ds.CodeInternal, "could not make an idempotency key for %s", ds.Telness)
	}
	h := http.Header{}
	h.Set(IdempotencyHeader, key)
	var raw json.RawMessage
	if _, err := c.rc.Do(ctx, rest.Request{Method: http.MethodPost, Path: "/customers", Body: createBody(in), Header: h, Idempotent: true}, &raw); err != nil {
		if ds.AnswerLost(err) {
			return nil, ds.WithOutcome(err, ds.OutcomeUncertain)
		}
		return nil, err
	}
	return rest.MapOne(raw, mapRecord)
}

// UpdateCustomer is not in the Connect API: the only customer write after
// creation is PUT /customers/{id}/billing, which replaces the whole billing
// configuration (method, currency, payment profile, autopay) and cannot change
// name, email, phone, type, locale or metadata; sending it for an address or
// email change would reset billing settings the input does not carry.
func (c *Client) UpdateCustomer(context.Context, string, ds.CustomerInput) (*ds.Customer, error) {
	return nil, ds.ProviderErrorf(ds.Telness, ds.CodeUnsupportedByProvider,
		"%s cannot update customers: the Connect API has no customer update (only PUT /customers/{id}/billing, which replaces the billing configuration)", ds.Telness)
}

// DeleteCustomer is not in the Connect API.
func (c *Client) DeleteCustomer(context.Context, string) error {
	return ds.ProviderErrorf(ds.Telness, ds.CodeUnsupportedByProvider,
		"%s cannot delete customers: the Connect API has no customer delete", ds.Telness)
}

// randomKey is 32 hex characters from crypto/rand.
func randomKey() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return ""
	}
	return hex.EncodeToString(b[:])
}
