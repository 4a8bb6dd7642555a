package kintsugi_test

import (
	"testing"

	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/kintsugi"
	"github.com/federated-customers/gateway/datasource/kintsugi/sim"
	"github.com/federated-customers/gateway/datasource/rest/resttest"
)

// BenchmarkListCustomers is one full page (MaxSize) of GET /v1/customers.
func BenchmarkListCustomers(b *testing.B) {
	resttest.BenchList(b, sim.New(demo.People(demo.DefaultSize)), kintsugi.MaxSize, "/v1/customers", kintsugi.New, kintsugi.DecodePage)
}
