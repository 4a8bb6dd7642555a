package commercelayer

import (
	"encoding/json"

	"github.com/federated-customers/gateway/datasource/rest"
)

// DecodePage is what ListCustomers does with a page body once rest.Client
// has read it: decode the envelope, map every record. It returns the count.
func DecodePage(body []byte) (int, error) {
	var resp listResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return 0, err
	}
	cs, err := rest.MapAll(resp.Data, mapRecord)
	return len(cs), err
}
