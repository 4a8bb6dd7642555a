package kintsugi

import (
	"context"
	"net/http"
	"strings"
	"unicode"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
)

// GetCustomers looks ids up one GET /v1/customers/{id} at a time (Kintsugi
// has no bulk id filter), at most 8 at once. A 404 means absent; ids that
// cannot be a Kintsugi id in a URL path are absent without a call.
func (c *Client) GetCustomers(ctx context.Context, ids []string) ([]*ds.Customer, error) {
	return rest.EachID(ctx, rest.UniqueIDs(ids, pathID), lookupConcurrency, c.getOne)
}

func (c *Client) getOne(ctx context.Context, id string) (*ds.Customer, error) {
	resp, err := c.rc.Do(ctx, rest.Request{Method: http.MethodGet, Path: customersPath + "/" + id}, nil)
	if err != nil {
		return nil, err
	}
	return rest.MapOne(resp.Body, mapRecord)
}

// pathID reports whether id can stand as one path segment: not empty, no
// slash, not a dot segment, no whitespace or control characters (security:
// ids come from client-held global IDs and are replayed with our credentials).
func pathID(id string) bool {
	if id == "" || id == "." || id == ".." || len(id) > 200 {
		return false
	}
	return !strings.ContainsFunc(id, func(r rune) bool {
		return r == '/' || r == '\\' || r == '?' || r == '#' || unicode.IsSpace(r) || unicode.IsControl(r)
	})
}
