package telness_test

import (
	"testing"

	"github.com/federated-customers/gateway/datasource/demo"
	"github.com/federated-customers/gateway/datasource/rest/resttest"
	"github.com/federated-customers/gateway/datasource/telness"
	"github.com/federated-customers/gateway/datasource/telness/sim"
)

// BenchmarkListCustomers is one full page (MaxLimit) of GET /customers, 1000.
func BenchmarkListCustomers(b *testing.B) {
	resttest.BenchList(b, sim.New(demo.People(2400)), telness.MaxLimit, "/customers", telness.New, telness.DecodePage) // about half are at Telness: more than a page
}
