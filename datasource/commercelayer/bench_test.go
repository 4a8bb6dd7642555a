package commercelayer_test

import (
	"testing"

	"github.com/federated-customers/gateway/datasource/commercelayer"
	"github.com/federated-customers/gateway/datasource/commercelayer/sim"
	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/rest/resttest"
)

// BenchmarkListCustomers is one full page (MaxPageSize) of GET /customers, 25.
func BenchmarkListCustomers(b *testing.B) {
	resttest.BenchList(b, sim.New(demo.People(demo.DefaultSize)), commercelayer.MaxPageSize, "/customers", commercelayer.New, commercelayer.DecodePage)
}
