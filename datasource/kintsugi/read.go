package kintsugi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
)

// pageResponse is fastapi-pagination's Page_CustomerRead_ envelope.
type pageResponse struct {
	Items *[]rest.Record[CustomerRead] `json:"items"`
	Total *count                       `json:"total"`
	Page  *count                       `json:"page"`
	Size  *count                       `json:"size"`
	Pages *count                       `json:"pages"`
}

// count is one of the envelope's integers. The schema says "integer", which
// JSON Schema also satisfies with an integral number written as a float
// (1.0, 1e2), as some serializers emit; the client accepts those (liberal
// where the docs leave it open) and refuses fractions, strings and negatives.
type count int

func (n *count) UnmarshalJSON(b []byte) error {
	v, ok := rest.WholeNumber(b, false, maxToken)
	if !ok {
		return fmt.Errorf("%s is not a non-negative integer", truncate(string(b), 40))
	}
	*n = count(v)
	return nil
}

// listQuery is what one list call sends, derived from a ListRequest.
type listQuery struct {
	offset, page, size, skip int
	values                   url.Values
	// exact is true when the vendor's total counts exactly the federated filter.
	exact bool
	// empty is true when no Kintsugi record can match (no call is needed).
	empty bool
}

// buildListQuery turns a request into the list's query parameters: the token
// is an absolute offset; the page containing it is fetched at
// size=min(limit, 100) and the items from the offset on are returned.
func buildListQuery(req ds.ListRequest[ds.Filter]) (listQuery, error) {
	var q listQuery
	off, err := parseToken(req.Token)
	if err != nil {
		return q, err
	}
	size := rest.PageSize(req.Limit, DefaultSize, MaxSize)
	q.offset, q.size, q.page, q.skip = off, size, off/size+1, off%size
	v := url.Values{}
	v.Set("page", strconv.Itoa(q.page))
	v.Set("size", strconv.Itoa(q.size))
	q.exact = true
	f := req.Filter
	switch {
	case f.Email != nil:
		// No email filter: search_query=<email> is a superset (substring
		// over name and other details). It is narrower than any search term,
		// so it wins when both are given; the caller post-filters both.
		if e := strings.TrimSpace(*f.Email); e != "" {
			v.Set("search_query", e)
		}
		q.exact = false
	case f.Search != nil && strings.TrimSpace(*f.Search) != "":
		// search_query also searches fields beyond name and email, so its
		// total is not the federated filter's.
		v.Set("search_query", strings.TrimSpace(*f.Search))
		q.exact = false
	}
	if len(f.Country) > 0 {
		seen := map[string]bool{}
		for _, cc := range f.Country {
			u := strings.ToUpper(strings.TrimSpace(cc))
			// The country parameter is an enum: a code outside it would be a
			// 422, and no Kintsugi record can carry it, so it is dropped.
			if !ValidCountry(u) || seen[u] {
				continue
			}
			seen[u] = true
			v.Add("country", u)
		}
		if len(seen) == 0 {
			q.empty = true
		}
	}
	q.values = v
	return q, nil
}

// maxToken bounds the offsets a token may carry (far beyond any real list).
const maxToken = 1 << 40

// parseToken reads an offset token: "" or a canonical non-negative decimal.
func parseToken(tok string) (int, error) {
	if tok == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(tok)
	if err != nil || n < 0 || n > maxToken || strconv.Itoa(n) != tok {
		return 0, ds.Errorf(ds.CodeBadUserInput, "invalid page token for %s: %q is not an offset", ds.Kintsugi, truncate(tok, 40))
	}
	return n, nil
}

// ListCustomers returns one page of GET /v1/customers in native order.
func (c *Client) ListCustomers(ctx context.Context, req ds.ListRequest[ds.Filter]) (ds.Page[*ds.Customer], error) {
	var page ds.Page[*ds.Customer]
	if req.Order != nil {
		return page, Caps.CanOrder(*req.Order)
	}
	q, err := buildListQuery(req)
	if err != nil {
		return page, err
	}
	if q.empty {
		zero := 0
		page.Total, page.ListLen = &zero, &zero
		return page, nil
	}
	var resp pageResponse
	if _, err := c.rc.Do(ctx, rest.Request{Method: http.MethodGet, Path: customersPath, Query: q.values, List: true}, &resp); err != nil {
		return page, err
	}
	if resp.Items == nil || resp.Total == nil || resp.Pages == nil {
		return page, unreadable("a customer page without items, total or pages")
	}
	recs, total, pages := *resp.Items, int(*resp.Total), int(*resp.Pages)
	if q.offset >= total {
		// Nothing lies at or past the total. That a page past the last is
		// empty is fastapi-pagination's behaviour, not a documented promise:
		// an API that answers it with the last page instead (clamping) must
		// not make the client return that page's records a second time.
		recs = nil
	}
	if q.skip < len(recs) {
		recs = recs[q.skip:]
	} else {
		recs = nil
	}
	items, err := rest.MapAll(recs, mapRecord)
	if err != nil {
		return page, err
	}
	page.Items = items
	if q.page < pages {
		// More pages follow. A page shorter than the offset into it (records
		// deleted meanwhile) goes on at the next page rather than stopping.
		next := q.offset + len(items)
		if len(items) == 0 {
			next = q.page * q.size
		}
		page.Next = strconv.Itoa(next)
	}
	page.ListLen = &total
	if q.exact {
		page.Total = &total
	}
	return page, nil
}

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
