package commercelayer_test

import (
	"testing"

	"github.com/federated-customers/gateway/datasource/commercelayer"
	"github.com/federated-customers/gateway/datasource/providertest"
	"github.com/federated-customers/gateway/datasource/rest/resttest"
)

func TestMalformedRecords(t *testing.T) {
	const a, b = `{ "id" : "AAAAAAAAAA",	"type":"customers", "attributes":{"email":"ann@example.com","metadata":{"k":"v"}} }`, `{"id":"BBBBBBBBBB","attributes":{}}`
	const unreadable = "COMMERCE_LAYER: PROVIDER_UNAVAILABLE: the provider sent a response this gateway cannot read: "
	const bad = unreadable + "commercelayer: "
	resttest.RecordCases(t, func(items string) string {
		return `{"data":` + items + `,"links":{}}`
	}, func(url string) commercelayer.Config {
		return commercelayer.Config{BaseURL: url + "/api", AccessToken: "t"}
	}, commercelayer.New, []providertest.RecordCase{
		{Name: "records as sent", Items: "[ " + a + " ,\n" + b + "]", Raws: []string{a, b}},
		{Name: "a number", Items: `[` + a + `,1]`, Err: bad + "a customer that is not a resource object: json: cannot unmarshal number into Go value of type commercelayer.resource"},
		{Name: "a string", Items: `["AAAAAAAAAA"]`, Err: bad + "a customer that is not a resource object: json: cannot unmarshal string into Go value of type commercelayer.resource"},
		{Name: "null", Items: `[null]`, Err: bad + "a resource that is not a customer"},
		{Name: "an id that is a number", Items: `[{"id":5}]`, Err: bad + "a customer that is not a resource object: json: cannot unmarshal number into Go struct field resource.id of type string"},
		{Name: "attributes not an object", Items: `[{"id":"AAAAAAAAAA","attributes":[]}]`, Err: bad + "a customer that is not a resource object: json: cannot unmarshal array into Go struct field resource.attributes of type commercelayer.attributes"},
		{Name: "no id", Items: `[{"type":"customers"}]`, Err: bad + "a resource that is not a customer"},
		{Name: "data not an array", Items: `{}`, Err: unreadable + "json: cannot unmarshal object into Go struct field listResponse.data of type *"},
		{Name: "data null", Items: `null`, Err: bad + "a customer list without data"},
	})
}
