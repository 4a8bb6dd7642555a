package telness

import (
	"github.com/federated-customers/gateway/datasource/rest"
	"github.com/federated-customers/gateway/datasource/rest/resttest"
)

// SetIdempotencyKeys replaces the client's idempotency-key source (tests only).
func SetIdempotencyKeys(c *Client, f func() string) { c.newKey = f }

// DecodePage is what ListCustomers does with a page body (the bench's decode).
func DecodePage(body []byte) (int, error) {
	return resttest.DecodePage(body, func(r *listResponse) []rest.Record[customer] { return r.Items.list }, mapRecord)
}
