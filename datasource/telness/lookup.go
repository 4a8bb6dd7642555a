package telness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
)

// GetCustomers fetches GET /customers/{customerId} one id at a time, at most
// eight at once (the API has no bulk lookup). A 404 means the id is absent;
// ids that cannot be a Telness id in a path are absent without a call.
func (c *Client) GetCustomers(ctx context.Context, ids []string) ([]*ds.Customer, error) {
	todo := rest.UniqueIDs(ids, func(id string) bool { return checkID(id) == nil })
	if len(todo) > scanThreshold {
		// Telness has no bulk id filter but pages up to 1000: reading the
		// list costs far fewer calls than a GET per id. The scan is bounded;
		// ids it did not reach fall back to single GETs.
		got, left, err := ds.LookupByScan(ctx, func(ctx context.Context, token string) (ds.Page[*ds.Customer], error) {
			return c.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Token: token, Limit: MaxLimit})
		}, todo, max(1, len(todo)/scanThreshold))
		if err != nil {
			return nil, err
		}
		if len(left) == 0 {
			return got, nil
		}
		more, err := rest.EachID(ctx, left, lookupConcurrency, c.getCustomer)
		return append(got, more...), err
	}
	return rest.EachID(ctx, todo, lookupConcurrency, c.getCustomer)
}

func (c *Client) getCustomer(ctx context.Context, id string) (*ds.Customer, error) {
	var raw json.RawMessage
	if _, err := c.rc.Do(ctx, rest.Request{Method: http.MethodGet, Path: "/customers/" + id}, &raw); err != nil {
		return nil, err
	}
	return rest.MapOne(raw, mapRecord)
}

// checkID refuses ids that cannot be one path segment of GET /customers/{id}.
func checkID(id string) error {
	switch {
	case id == "" || id == "." || id == "..":
		return errors.New("empty")
	case len(id) > maxIDLength:
		return fmt.Errorf("longer than %d bytes", maxIDLength)
	case !utf8.ValidString(id):
		return errors.New("not valid UTF-8")
	case strings.ContainsFunc(id, unicode.IsControl) || strings.Contains(id, "/"):
		return errors.New("not usable as a path segment")
	}
	return nil
}
