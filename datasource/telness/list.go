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
		return page, c.CanOrder(*req.Order)
	}
	if req.Token != "" {
		if err := checkToken(req.Token); err != nil {
			return page, ds.Errorf(ds.CodeBadUserInput, "invalid page token for %s: %s", ds.Telness, err)
		}
	}
	q := url.Values{}
	q.Set("limit", strconv.Itoa(clampLimit(req.Limit)))
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

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
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
