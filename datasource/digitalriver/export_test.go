package digitalriver

import (
	"github.com/federated-customers/gateway/datasource/rest"
	"github.com/federated-customers/gateway/datasource/rest/resttest"
)

// DecodePage is what ListCustomers does with a page body (the bench's decode).
func DecodePage(body []byte) (int, error) {
	return resttest.DecodePage(body, func(r *listResponse) []rest.Record[wireCustomer] { return r.Data }, mapRecord)
}
