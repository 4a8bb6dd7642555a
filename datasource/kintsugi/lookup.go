package kintsugi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"unicode"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
	"golang.org/x/sync/errgroup"
)

// GetCustomers looks ids up one GET /v1/customers/{id} at a time (Kintsugi
// has no bulk id filter), at most 8 at once. A 404 means absent; ids that
// cannot be a Kintsugi id in a URL path are absent without a call.
func (c *Client) GetCustomers(ctx context.Context, ids []string) ([]*ds.Customer, error) {
	seen := map[string]bool{}
	var todo []string
	for _, id := range ids {
		if seen[id] || !pathID(id) {
			continue
		}
		seen[id] = true
		todo = append(todo, id)
	}
	var (
		mu  sync.Mutex
		out = make([]*ds.Customer, 0, len(todo))
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(lookupConcurrency)
	for _, id := range todo {
		g.Go(func() error {
			cust, err := c.getOne(gctx, id)
			if err != nil {
				if isNotFound(err) {
					return nil
				}
				return err
			}
			mu.Lock()
			out = append(out, cust)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *Client) getOne(ctx context.Context, id string) (*ds.Customer, error) {
	resp, err := c.rc.Do(ctx, rest.Request{Method: http.MethodGet, Path: customersPath + "/" + id}, nil)
	if err != nil {
		return nil, err
	}
	return rest.MapOne(resp.Body, mapRecord)
}

func isNotFound(err error) bool {
	var e *ds.Error
	return errors.As(err, &e) && e.Code == ds.CodeNotFound && e.Status == http.StatusNotFound
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
