package digitalriver

import "encoding/json"

// DecodePage is what ListCustomers does with a page body once rest.Client
// has read it: decode the envelope, map every record. It returns the count.
func DecodePage(body []byte) (int, error) {
	var resp listResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return 0, err
	}
	cs, err := mapCustomers(resp.Data)
	return len(cs), err
}
