package digitalriver

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

// listResponse is the ListCustomersResponse envelope; it carries no total.
type listResponse struct {
	HasMore *bool                       `json:"hasMore"`
	Data    []rest.Record[wireCustomer] `json:"data"`
}

// listQuery is GET /customers' query for a limit. No filter is pushed down.
// Digital River's email parameter is an exact match, and its docs say
// neither that it ignores case nor that emails are stored lower-cased; the
// federated email filter ignores case, so any one spelling sent (the
// caller's, or lower case) could miss records stored in another. search and
// country have no native filter. The caller post-filters with Filter.Match.
func listQuery(limit int) url.Values {
	return url.Values{"limit": {strconv.Itoa(rest.PageSize(limit, DefaultLimit, MaxLimit))}}
}

// finish completes every request as Digital River documents it, in the one
// hook rest.Client calls after building the request (Authorize):
//   - Content-Type: application/json on every request, as documented ("always
//     send"), not only on those rest.Client gives a body;
//   - ids in the documented form, explode=false style: the commas between the
//     ids literal (ids=a,b,c). url.Values encodes them as %2C, which a server
//     splitting on the delimiter reads as part of one id. An id holding a
//     comma is never in the list (GetCustomers fetches it alone), so every
//     %2C in the ids value is a separator.
func finish(r *http.Request) {
	if r.Header.Get("Content-Type") == "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if !strings.Contains(r.URL.RawQuery, "ids=") {
		return
	}
	parts := strings.Split(r.URL.RawQuery, "&")
	for i, p := range parts {
		if v, ok := strings.CutPrefix(p, "ids="); ok {
			parts[i] = "ids=" + strings.ReplaceAll(v, "%2C", ",")
		}
	}
	r.URL.RawQuery = strings.Join(parts, "&")
}

// listPage is one GET /customers of at most limit records (the limit q
// carries): the records and whether more follow. hasMore is in the documented
// envelope, but the spec marks it optional: without it, a full page may have
// more after it and a short one ends the list. A body with neither hasMore
// nor data is not a customer list. cursor marks q as carrying the caller's
// cursor (startingAfter/endingBefore).
func (c *Client) listPage(ctx context.Context, q url.Values, limit int, cursor bool) ([]*ds.Customer, bool, error) {
	var resp listResponse
	if _, err := c.rc.Do(ctx, rest.Request{Method: http.MethodGet, Path: "/customers", Query: q, CallerInput: cursor, List: true}, &resp); err != nil {
		return nil, false, cursorError(err, cursor)
	}
	if resp.HasMore == nil && resp.Data == nil {
		return nil, false, unreadable("a customer list with neither hasMore nor data")
	}
	items, err := rest.MapAll(resp.Data, mapRecord)
	if err != nil {
		return nil, false, err
	}
	more := len(resp.Data) >= limit
	if resp.HasMore != nil {
		more = *resp.HasMore
	}
	return items, more, nil
}

// cursorError: the docs leave open how Digital River answers a cursor id it
// does not know. A 400 is the caller's bad input (CallerInput); a 404 on the
// list is too: the cursor's customer is gone, the list itself is not.
func cursorError(err error, cursor bool) error {
	var e *ds.Error
	if !cursor || !errors.As(err, &e) || e.Code != ds.CodeNotFound {
		return err
	}
	bad := *e
	bad.Code = ds.CodeBadUserInput
	bad.Message = "the page cursor names a customer the provider does not know: " + e.Message
	return &bad
}

// ListCustomers returns one page of GET /customers in native order. The
// token is the id of the customer to start after.
func (c *Client) ListCustomers(ctx context.Context, req ds.ListRequest[ds.Filter]) (ds.Page[*ds.Customer], error) {
	var page ds.Page[*ds.Customer]
	if req.Order != nil {
		return page, Caps.CanOrder(*req.Order)
	}
	if req.Token != "" {
		if err := checkID(req.Token); err != nil {
			return page, ds.Errorf(ds.CodeBadUserInput, "invalid page token for %s: %s", ds.DigitalRiver, err)
		}
	}
	limit := rest.PageSize(req.Limit, DefaultLimit, MaxLimit)
	q := listQuery(limit)
	if req.Token != "" {
		q.Set("startingAfter", req.Token)
	}
	items, more, err := c.listPage(ctx, q, limit, req.Token != "")
	if err != nil {
		return page, err
	}
	page.Items = items
	if more {
		if len(items) == 0 {
			return page, unreadable("an empty customer page that claims more follow")
		}
		page.Next = items[len(items)-1].ProviderID
	}
	return page, nil
}

// GetCustomers looks ids up with the bulk ids filter (ids=a,b,c, limit=100),
// maxBatch ids per call. Ids Digital River cannot hold (empty, longer than
// 40 characters, control characters) are dropped without a call; an id with
// a comma cannot be expressed in the comma-separated list and is fetched alone.
func (c *Client) GetCustomers(ctx context.Context, ids []string) ([]*ds.Customer, error) {
	var bulk, single []string
	for _, id := range rest.UniqueIDs(ids, func(id string) bool { return checkID(id) == nil }) {
		if FetchedAlone(id) {
			single = append(single, id)
		} else {
			bulk = append(bulk, id)
		}
	}
	out, err := rest.InChunks(ctx, bulk, maxBatch, c.getChunk)
	if err != nil {
		return nil, err
	}
	alone, err := rest.EachID(ctx, rest.UniqueIDs(single, func(id string) bool { return checkPathID(id) == nil }), 1, c.getOne)
	if err != nil {
		return nil, err
	}
	return append(out, alone...), nil
}

// getChunk is one ids=a,b,c call.
func (c *Client) getChunk(ctx context.Context, chunk []string) ([]*ds.Customer, error) {
	q := url.Values{}
	q.Set("ids", strings.Join(chunk, ","))
	q.Set("limit", strconv.Itoa(maxBatch))
	var resp listResponse
	if _, err := c.rc.Do(ctx, rest.Request{Method: http.MethodGet, Path: "/customers", Query: q, List: true}, &resp); err != nil {
		return nil, err
	}
	return rest.MapAll(resp.Data, mapRecord)
}

// getOne is GET /customers/{id}, mapped.
func (c *Client) getOne(ctx context.Context, id string) (*ds.Customer, error) {
	raw, err := c.getRaw(ctx, id)
	if err != nil {
		return nil, err
	}
	return rest.MapOne(raw, mapRecord)
}

// getRaw is GET /customers/{id}: the record as received.
func (c *Client) getRaw(ctx context.Context, id string) (json.RawMessage, error) {
	var raw json.RawMessage
	if _, err := c.rc.Do(ctx, rest.Request{Method: http.MethodGet, Path: "/customers/" + id}, &raw); err != nil {
		return nil, err
	}
	if len(raw) == 0 {
		return nil, unreadable("an empty customer")
	}
	return raw, nil
}

// checkID is what the client can know about a Digital River id without asking:
// non-empty, at most 40 characters, valid UTF-8 with no control characters.
func checkID(id string) error {
	switch {
	case id == "":
		return errors.New("empty")
	case !utf8.ValidString(id):
		return errors.New("not valid UTF-8")
	case utf8.RuneCountInString(id) > MaxIDLength:
		return fmt.Errorf("longer than %d characters", MaxIDLength)
	case strings.ContainsFunc(id, unicode.IsControl):
		return errors.New("contains control characters")
	}
	return nil
}

// checkPathID also refuses ids that cannot be one path segment.
func checkPathID(id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	if strings.Contains(id, "/") || id == "." || id == ".." {
		return errors.New("not usable as a path segment")
	}
	return nil
}

func badCustomerID(id string, err error) error {
	return ds.Errorf(ds.CodeBadUserInput, "%s is not a valid %s customer id: %s", quoteShort(id), ds.DigitalRiver, err)
}

func quoteShort(s string) string {
	if len(s) > 48 {
		s = s[:48] + "…"
	}
	return strconv.Quote(s)
}
