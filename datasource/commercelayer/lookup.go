package commercelayer

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
)

// GetCustomers looks ids up with filter[q][id_in]=a,b,c and page[size]=25,
// MaxBatch ids per call. Ids Commerce Layer cannot hold (empty, too long,
// with a comma, a path or query character, whitespace or control
// characters) are absent without a call.
func (c *Client) GetCustomers(ctx context.Context, ids []string) ([]*ds.Customer, error) {
	want := map[string]bool{}
	var list []string
	for _, id := range ids {
		if want[id] || !validID(id) {
			continue
		}
		want[id] = true
		list = append(list, id)
	}
	var out []*ds.Customer
	for i := 0; i < len(list); i += MaxPageSize {
		chunk := list[i:min(i+MaxPageSize, len(list))]
		q := url.Values{}
		q.Set("filter[q][id_in]", strings.Join(chunk, ","))
		q.Set("page[size]", strconv.Itoa(MaxPageSize))
		var resp listResponse
		if _, err := c.rc.Do(ctx, rest.Request{Method: http.MethodGet, Path: "/customers", Query: q, List: true}, &resp); err != nil {
			return nil, err
		}
		if resp.Data == nil {
			return nil, unreadable("a customer list without data")
		}
		items, err := rest.MapAll(resp.Data, mapRecord)
		if err != nil {
			return nil, err
		}
		for _, cu := range items {
			if want[cu.ProviderID] {
				out = append(out, cu)
				delete(want, cu.ProviderID) // a record sent twice is returned once
			}
		}
	}
	return out, nil
}

func validID(id string) bool {
	return id != "" && len(id) <= maxIDLength && id != "." && id != ".." && !strings.ContainsAny(id, ",/?#%") &&
		!strings.ContainsFunc(id, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
}

func badCustomerID(id string) error {
	if len(id) > 48 {
		id = id[:48] + "…"
	}
	return ds.Errorf(ds.CodeBadUserInput, "%q is not a valid %s customer id", id, ds.CommerceLayer)
}
