package digitalriver_test

import (
	"testing"

	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/digitalriver"
	"github.com/federated-customers/gateway/datasource/digitalriver/sim"
	"github.com/federated-customers/gateway/datasource/rest/resttest"
)

// BenchmarkListCustomers is one full page (MaxLimit) of GET /customers.
func BenchmarkListCustomers(b *testing.B) {
	resttest.BenchList(b, sim.New(demo.People(demo.DefaultSize)), digitalriver.MaxLimit, "/customers", digitalriver.New, digitalriver.DecodePage)
}
