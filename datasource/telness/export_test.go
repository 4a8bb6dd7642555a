package telness

import (
	"encoding/json"

	"github.com/federated-customers/gateway/datasource/rest"
)

// SetIdempotencyKeys replaces the client's idempotency-key source (tests only).
func SetIdempotencyKeys(c *Client, f func() string) { c.newKey = f }

// DecodePage is what ListCustomers does with a page body once rest.Client
// has read it: decode the envelope, map every record. It returns the count.
func DecodePage(body []byte) (int, error) {
	var resp listResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return 0, err
	}
	cs, err := rest.MapAll(resp.Items.list, mapRecord)
	return len(cs), err
}
