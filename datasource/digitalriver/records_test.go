package digitalriver_test

import (
	"testing"

	"github.com/federated-customers/gateway/datasource/digitalriver"
	"github.com/federated-customers/gateway/datasource/providertest"
	"github.com/federated-customers/gateway/datasource/rest/resttest"
)

func TestMalformedRecords(t *testing.T) {
	const a, b = `{ "id" : "cus_a",	"email":"ann@example.com", "metadata":{"k":"v"} }`, `{"id":"cus_b","enabled":true}`
	const bad = "DIGITAL_RIVER: PROVIDER_UNAVAILABLE: the provider sent a response this gateway cannot read: digitalriver: "
	resttest.RecordCases(t, func(items string) string {
		return `{"hasMore":false,"data":` + items + `}`
	}, func(url string) digitalriver.Config { return digitalriver.Config{BaseURL: url, APIKey: "sk_test_x"} }, digitalriver.New, []providertest.RecordCase{
		{Name: "records as sent", Items: "[ " + a + " ,\n" + b + "]", Raws: []string{a, b}},
		{Name: "a number", Items: `[` + a + `,1]`, Err: bad + "a customer record that is not a JSON object: json: cannot unmarshal number into Go value of type digitalriver.wireCustomer"},
		{Name: "a string", Items: `["cus_a"]`, Err: bad + "a customer record that is not a JSON object: json: cannot unmarshal string into Go value of type digitalriver.wireCustomer"},
		{Name: "null", Items: `[null]`, Err: bad + "a customer record without an id"},
		{Name: "an id that is a number", Items: `[{"id":5}]`, Err: bad + "a customer record that is not a JSON object: json: cannot unmarshal number into Go struct field wireCustomer.id of type string"},
		{Name: "metadata not an object", Items: `[{"id":"cus_a","metadata":[]}]`, Err: bad + "a customer record that is not a JSON object: json: cannot unmarshal array into Go struct field wireCustomer.metadata of type map[string]interface {}"},
		{Name: "no id", Items: `[{"email":"x@y.z"}]`, Err: bad + "a customer record without an id"},
		{Name: "data not an array", Items: `{}`, Err: "DIGITAL_RIVER: PROVIDER_UNAVAILABLE: the provider sent a response this gateway cannot read: json: cannot unmarshal object into Go struct field listResponse.data of type *"},
		{Name: "data null", Items: `null`, Raws: nil},
	})
}
