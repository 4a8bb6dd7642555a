package kintsugi_test

import (
	"net/http"
	"testing"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/kintsugi"
	"github.com/federated-customers/gateway/datasource/kintsugi/sim"
	"github.com/federated-customers/gateway/datasource/providertest"
)

// BenchmarkListCustomers is one full page (MaxSize) of GET /v1/customers.
func BenchmarkListCustomers(b *testing.B) {
	s := sim.New(demo.People(demo.DefaultSize))
	providertest.BenchListCustomers(b, s, kintsugi.MaxSize, "/v1/customers", func(url string, hc *http.Client) (ds.CustomerProvider, error) {
		c, err := kintsugi.New(s.ClientConfig(url), hc)
		return c, err
	}, kintsugi.DecodePage)
}
