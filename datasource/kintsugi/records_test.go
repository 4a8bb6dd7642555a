package kintsugi_test

import (
	"testing"

	"github.com/federated-customers/gateway/datasource/kintsugi"
	"github.com/federated-customers/gateway/datasource/providertest"
	"github.com/federated-customers/gateway/datasource/rest/resttest"
)

func TestMalformedRecords(t *testing.T) {
	const a, b = `{ "id" : "cust_a",	"organization_id":"o", "name":"Ann\u00e9" }`, `{"id":"cust_b","organization_id":"o","name":null}`
	resttest.RecordCases(t, func(items string) string {
		return `{"items":` + items + `,"total":2,"page":1,"size":100,"pages":1}`
	}, func(url string) kintsugi.Config {
		return kintsugi.Config{BaseURL: url, APIKey: "sk_x", OrganizationID: "orgn_x"}
	}, kintsugi.New, []providertest.RecordCase{
		{Name: "records as sent", Items: "[ " + a + " ,\n" + b + "]", Raws: []string{a, b}},
		{Name: "a number", Items: `[` + a + `,1]`, Err: "KINTSUGI: PROVIDER_UNAVAILABLE: the provider sent a response this gateway cannot read: a customer record that is not a CustomerRead object"},
		{Name: "a string", Items: `["cust_a"]`, Err: "KINTSUGI: PROVIDER_UNAVAILABLE: the provider sent a response this gateway cannot read: a customer record that is not a CustomerRead object"},
		{Name: "null", Items: `[null]`, Err: "KINTSUGI: PROVIDER_UNAVAILABLE: the provider sent a response this gateway cannot read: a customer record without an id"},
		{Name: "an id that is a number", Items: `[{"id":5}]`, Err: "KINTSUGI: PROVIDER_UNAVAILABLE: the provider sent a response this gateway cannot read: a customer record that is not a CustomerRead object"},
		{Name: "no id", Items: `[{"name":"x"}]`, Err: "KINTSUGI: PROVIDER_UNAVAILABLE: the provider sent a response this gateway cannot read: a customer record without an id"},
		{Name: "items not an array", Items: `{}`, Err: "KINTSUGI: PROVIDER_UNAVAILABLE: the provider sent a response this gateway cannot read: json: cannot unmarshal object into Go struct field pageResponse.items of type *"},
		{Name: "items null", Items: `null`, Err: "KINTSUGI: PROVIDER_UNAVAILABLE: the provider sent a response this gateway cannot read: a customer page without items, total or pages"},
	})
}
