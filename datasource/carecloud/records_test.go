package carecloud_test

import (
	"context"
	"encoding/json"
	"testing"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/carecloud"
	"github.com/federated-customers/gateway/datasource/providertest"
)

func TestMalformedRecords(t *testing.T) {
	const a, b = `{ "customer_source_record_id" : "r1",	"customer_source_id":"s1", "customer_id":"c1", "external_id":"x\u00e9" }`, `{"customer_source_id":"s2","external_id":null}`
	const bad = "CARECLOUD: PROVIDER_UNAVAILABLE: the provider sent a record this gateway cannot read: "
	providertest.RunRecordCases(t, func(items string) string {
		// the catalogue is read from the same answer: it has no sources
		return `{"data":{"customer_source_records":` + items + `,"total_items":2}}`
	}, func(t *testing.T, url string) ([]json.RawMessage, error) {
		c, err := carecloud.New(carecloud.Config{BaseURL: url, BearerToken: "t", Timezone: "Europe/Prague"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		p, err := c.ListSources(context.Background(), ds.ListRequest[ds.SourceFilter]{Limit: 10})
		var raws []json.RawMessage
		for _, s := range p.Items {
			raws = append(raws, s.Raw)
		}
		return raws, err
	}, []providertest.RecordCase{
		{Name: "records as sent", Items: "[ " + a + " ,\n" + b + "]", Raws: []string{a, b}},
		{Name: "a number", Items: `[` + a + `,1]`, Err: bad + "json: cannot unmarshal number into Go value of type carecloud.wireRecord"},
		{Name: "a string", Items: `["r1"]`, Err: bad + "json: cannot unmarshal string into Go value of type carecloud.wireRecord"},
		{Name: "null", Items: `[null]`, Raws: []string{"null"}},
		{Name: "an id that is a number", Items: `[{"customer_source_id":5}]`, Err: bad + "json: cannot unmarshal number into Go struct field wireRecord.customer_source_id of type string"},
		{Name: "records not an array", Items: `{}`, Err: "CARECLOUD: PROVIDER_UNAVAILABLE: the provider sent a response this gateway cannot read: json: cannot unmarshal object into Go struct field .data.customer_source_records of type *"},
		{Name: "records null", Items: `null`, Raws: nil},
	})
}
