package telness_test

import (
	"net/http"
	"testing"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/providertest"
	"github.com/federated-customers/gateway/datasource/telness"
	"github.com/federated-customers/gateway/datasource/telness/sim"
)

// BenchmarkListCustomers is one full page (MaxLimit) of GET /customers, 1000.
func BenchmarkListCustomers(b *testing.B) {
	s := sim.New(demo.People(2400)) // about half are at Telness: more than a page
	providertest.BenchListCustomers(b, s, telness.MaxLimit, "/customers", func(url string, hc *http.Client) (ds.CustomerProvider, error) {
		c, err := telness.New(s.ClientConfig(url), hc)
		return c, err
	}, telness.DecodePage)
}
