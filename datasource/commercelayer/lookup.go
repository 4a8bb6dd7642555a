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
	return rest.InChunks(ctx, rest.UniqueIDs(ids, validID), MaxPageSize, c.getChunk)
}

// getChunk is one filter[q][id_in] call.
func (c *Client) getChunk(ctx context.Context, chunk []string) ([]*ds.Customer, error) {
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
	return rest.MapAll(resp.Data, mapRecord)
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
