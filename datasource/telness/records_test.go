package telness_test

import (
	"testing"

	"github.com/federated-customers/gateway/datasource/providertest"
	"github.com/federated-customers/gateway/datasource/rest/resttest"
	"github.com/federated-customers/gateway/datasource/telness"
)

func TestMalformedRecords(t *testing.T) {
	const a, b = `{ "customerId" : "c-a",	"name":"Ann\u00e9", "metadata":{"k":1} }`, `{"customerId":"c-b","contact":null}`
	const bad = "TELNESS: PROVIDER_UNAVAILABLE: the provider sent a response this gateway cannot read: telness: "
	resttest.RecordCases(t, func(items string) string {
		return `{"items":` + items + `,"pagination":{}}`
	}, func(url string) telness.Config { return telness.Config{BaseURL: url, APIKey: "fake-key"} }, telness.New, []providertest.RecordCase{
		{Name: "records as sent", Items: "[ " + a + " ,\n" + b + "]", Raws: []string{a, b}},
		{Name: "a number", Items: `[` + a + `,1]`, Err: bad + "a customer that is not a JSON object"},
		{Name: "a string", Items: `["c-a"]`, Err: bad + "a customer that is not a JSON object"},
		{Name: "null", Items: `[null]`, Err: bad + "a customer that is not a JSON object"},
		{Name: "an id that is a number", Items: `[{"customerId":5}]`, Err: bad + "a customer that is not a JSON object"},
		{Name: "no id", Items: `[{"name":"x"}]`, Err: bad + "a customer without customerId"},
		{Name: "items not an array", Items: `{}`, Err: bad + "a customer list whose items are not an array"},
		{Name: "items a string", Items: `"x"`, Err: bad + "a customer list whose items are not an array"},
		{Name: "items null", Items: `null`, Raws: nil},
	})
}
