package digitalriver_test

import (
	"net/http"
	"testing"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/digitalriver"
	"github.com/federated-customers/gateway/datasource/digitalriver/sim"
	"github.com/federated-customers/gateway/datasource/providertest"
)

// BenchmarkListCustomers is one full page (MaxLimit) of GET /customers.
func BenchmarkListCustomers(b *testing.B) {
	s := sim.New(demo.People(demo.DefaultSize))
	providertest.BenchListCustomers(b, s, digitalriver.MaxLimit, "/customers", func(url string, hc *http.Client) (ds.CustomerProvider, error) {
		c, err := digitalriver.New(s.ClientConfig(url), hc)
		return c, err
	}, digitalriver.DecodePage)
}
