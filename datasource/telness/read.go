package telness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
)

// listResponse is the documented envelope; it carries no total.
type listResponse struct {
	Items      customerItems `json:"items"`
	Pagination *struct {
		NextCursor *string `json:"nextCursor"`
	} `json:"pagination"`
}

// ListCustomers returns one page of GET /customers in native order. The
// token is Telness's opaque nextCursor, replayed unchanged.
func (c *Client) ListCustomers(ctx context.Context, req ds.ListRequest[ds.Filter]) (ds.Page[*ds.Customer], error) {
	var page ds.Page[*ds.Customer]
	if req.Order != nil {
		return page, Caps.CanOrder(*req.Order)
	}
	if req.Token != "" {
		if err := checkToken(req.Token); err != nil {
			return page, ds.Errorf(ds.CodeBadUserInput, "invalid page token for %s: %s", ds.Telness, err)
		}
	}
	q := url.Values{}
	q.Set("limit", strconv.Itoa(rest.PageSize(req.Limit, DefaultLimit, MaxLimit)))
	if req.Token != "" {
		q.Set("cursor", req.Token)
	}
	// search is documented only as "a free text search string": whatever it
	// matches, the records matching the email (or the search) are among them,
	// and the caller post-filters with Filter.Match. When both are set the
	// email is the narrower of the two. country: no native filter, nothing sent.
	switch {
	case req.Filter.Email != nil && *req.Filter.Email != "":
		q.Set("search", *req.Filter.Email)
	case req.Filter.Search != nil && *req.Filter.Search != "":
		q.Set("search", *req.Filter.Search)
	}
	var resp listResponse
	// a cursor came from the caller's (gateway) cursor
	r, err := c.rc.Do(ctx, rest.Request{Method: http.MethodGet, Path: "/customers", Query: q, CallerInput: req.Token != "", List: true}, &resp)
	if err != nil {
		return page, err
	}
	if !resp.Items.present && !emptyEnvelope(r.Body) {
		return page, unreadable("a customer list without items")
	}
	if resp.Items.notArray {
		return page, unreadable("a customer list whose items are not an array")
	}
	items, err := rest.MapAll(resp.Items.list, mapRecord)
	if err != nil {
		return page, err
	}
	page.Items = items
	// The list ends when nextCursor is absent, null or "", and also on an
	// empty page (a vendor that hands out a cursor with nothing before it
	// would otherwise be walked forever).
	if resp.Pagination != nil && resp.Pagination.NextCursor != nil && *resp.Pagination.NextCursor != "" && len(items) > 0 {
		next := *resp.Pagination.NextCursor
		if err := checkToken(next); err != nil {
			return page, unreadable("a nextCursor this gateway cannot carry: " + err.Error())
		}
		page.Next = next
	}
	return page, nil
}

// emptyEnvelope reports whether a list body without items is still the
// documented envelope: a JSON object with nothing but pagination (`{}`,
// `{"pagination":{}}`). The docs show items in their example but do not
// promise it is sent when there are none (a serializer omitting empty
// arrays drops it); that is an empty page, and so the end of the list. Any
// other object without items is not this API's envelope.
func emptyEnvelope(body []byte) bool {
	var env map[string]json.RawMessage
	if json.Unmarshal(body, &env) != nil || env == nil {
		return false
	}
	for k := range env {
		if k != "pagination" {
			return false
		}
	}
	return true
}

// checkToken is all the client may know about an opaque cursor: it is not
// longer than MaxTokenLength bytes and has no control characters.
func checkToken(tok string) error {
	switch {
	case len(tok) > MaxTokenLength:
		return fmt.Errorf("longer than %d bytes", MaxTokenLength)
	case strings.ContainsFunc(tok, unicode.IsControl):
		return errors.New("contains control characters")
	}
	return nil
}

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
