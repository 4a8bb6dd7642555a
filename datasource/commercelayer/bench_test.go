package commercelayer_test

import (
	"net/http"
	"testing"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/commercelayer"
	"github.com/federated-customers/gateway/datasource/commercelayer/sim"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/providertest"
)

// BenchmarkListCustomers is one full page (MaxPageSize) of GET /customers, 25.
func BenchmarkListCustomers(b *testing.B) {
	s := sim.New(demo.People(demo.DefaultSize))
	providertest.BenchListCustomers(b, s, commercelayer.MaxPageSize, "/customers", func(url string, hc *http.Client) (ds.CustomerProvider, error) {
		c, err := commercelayer.New(s.ClientConfig(url), hc)
		return c, err
	}, commercelayer.DecodePage)
}
