package carecloud_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/carecloud"
	"github.com/federated-customers/gateway/datasource/carecloud/sim"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/providertest"
)

// BenchmarkListCustomers is one full page (count=100) of GET
// /customer-source-records through ListSources, CareCloud's list method;
// the unit is one customer source record.
func BenchmarkListCustomers(b *testing.B) {
	s := sim.New(demo.People(demo.DefaultSize))
	srv := httptest.NewServer(s)
	defer srv.Close()
	const size = 100
	req := ds.ListRequest[ds.SourceFilter]{Limit: size}
	var decoder *carecloud.Client
	providertest.BenchList(b, "customer", size, "/customer-source-records", func(b *testing.B, hc *http.Client) func() (int, error) {
		c, err := carecloud.New(s.ClientConfig(srv.URL), hc)
		if err != nil {
			b.Fatal(err)
		}
		decoder = c // its catalogue is fetched by the capturing call
		return func() (int, error) {
			p, err := c.ListSources(context.Background(), req)
			return len(p.Items), err
		}
	}, func(body []byte) (int, error) { return carecloud.DecodeRecords(decoder, body) })
}
