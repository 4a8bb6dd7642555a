package commercelayer

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
)

// sortParam is the sort value for o, with id as the tie-breaker so that
// pages of equal keys are stable: created_at,id or -created_at,-id.
func sortParam(o ds.Order) string {
	k := Caps.Sort[o.Field]
	if o.Descending {
		return "-" + k + ",-id"
	}
	return k + ",id"
}

// listResponse is the JSON:API collection envelope. Only data is required;
// meta and links are read liberally by readPagination, so a shape the docs
// do not show costs the count or the hint, never the page.
type listResponse struct {
	Data  []rest.Record[resource] `json:"data"`
	Meta  json.RawMessage         `json:"meta"`
	Links json.RawMessage         `json:"links"`
}

// pagination is what a list response says about what follows it.
type pagination struct {
	links       bool // a non-empty links object was sent
	next        bool // links.next is a link: a non-empty URL or a JSON:API link object {"href": …}
	recordCount int  // meta.record_count, -1 when absent or not a count
	pageCount   int  // meta.page_count, -1 when absent or not a count
}

// readPagination reads links.next and meta's counts. The docs show the
// counts as JSON numbers; numeric strings are read too, and anything else
// is as if absent.
func readPagination(resp *listResponse) pagination {
	p := pagination{recordCount: -1, pageCount: -1}
	var links map[string]json.RawMessage
	if json.Unmarshal(resp.Links, &links) == nil && len(links) > 0 {
		p.links = true
		p.next = isLink(links["next"])
	}
	var meta map[string]json.RawMessage
	if json.Unmarshal(resp.Meta, &meta) == nil {
		p.recordCount, p.pageCount = count(meta["record_count"]), count(meta["page_count"])
	}
	return p
}

func isLink(raw json.RawMessage) bool {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s != ""
	}
	var obj struct {
		Href string `json:"href"`
	}
	return json.Unmarshal(raw, &obj) == nil && obj.Href != ""
}

// count is a non-negative integer sent as a JSON number or a numeric string; -1 otherwise.
func count(raw json.RawMessage) int {
	if n, ok := rest.WholeNumber(raw, true, maxOffset*MaxPageSize); ok {
		return n
	}
	return -1
}

// more reports whether records follow page number (of size), which held got
// records. The docs: stop when links.next is absent or when page[number] >=
// meta.page_count; an empty page (past the end) is the end whatever its
// links say, so a vendor that always sends next cannot make a walk endless.
// Without links the counts decide, and with neither a full page may have
// more (the walk then ends on the empty page after it).
func (p pagination) more(number, size, got int) bool {
	switch {
	case got == 0:
		return false
	case p.pageCount >= 0 && number >= p.pageCount:
		return false
	case p.links:
		return p.next
	case p.pageCount >= 0:
		return true
	case p.recordCount >= 0:
		return number*size < p.recordCount
	}
	return got >= size
}

// ListCustomers returns customers from the absolute offset in req.Token (a
// decimal; "" is 0). Commerce Layer pages by number, so the client asks for
// the page of size L (the capped limit) that holds the offset,
// page[number] = offset/L + 1, and returns its items from the offset on: at
// most L items, fewer when the offset is not on a page boundary. The list has
// ended when the response has no links.next or page[number] >= page_count
// (see pagination.more).
func (c *Client) ListCustomers(ctx context.Context, req ds.ListRequest[ds.Filter]) (ds.Page[*ds.Customer], error) {
	var page ds.Page[*ds.Customer]
	offset, err := parseOffset(req.Token)
	if err != nil {
		return page, err
	}
	if err := Caps.CanFilter(req.Filter); err != nil {
		return page, err
	}
	q := url.Values{}
	if req.Order != nil {
		if err := Caps.CanOrder(*req.Order); err != nil {
			return page, err
		}
		q.Set("sort", sortParam(*req.Order))
	}
	size := rest.PageSize(req.Limit, DefaultPageSize, MaxPageSize)
	number := offset/size + 1
	skip := offset % size
	q.Set("page[number]", strconv.Itoa(number))
	q.Set("page[size]", strconv.Itoa(size))
	exact := pushFilter(q, req.Filter)

	var resp listResponse
	if _, err := c.rc.Do(ctx, rest.Request{Method: http.MethodGet, Path: "/customers", Query: q, List: true}, &resp); err != nil {
		return page, err
	}
	if resp.Data == nil {
		return page, unreadable("a customer list without data")
	}
	items, err := rest.MapAll(resp.Data, mapRecord)
	if err != nil {
		return page, err
	}
	if len(items) > size {
		items = items[:size] // never more than page[size]; a vendor that sends more is cut
	}
	if skip < len(items) {
		page.Items = items[skip:]
	}
	p := readPagination(&resp)
	if p.more(number, size, len(resp.Data)) {
		// The next page starts at number*size in Commerce Layer's numbering,
		// which is always past the offset, so a walk cannot stand still.
		page.Next = strconv.Itoa(number * size)
	}
	if p.recordCount >= 0 {
		total := p.recordCount
		page.ListLen = &total
		if exact {
			page.Total = &total
		}
	}
	return page, nil
}

// pushFilter adds the Ransack form of f to q and reports whether Commerce
// Layer's answer is then exactly f (so meta.record_count is the exact total).
//   - email: filter[q][email_matches] (LIKE, as documented) with every cased
//     letter of the address a one-character wildcard: a superset of the
//     address in any case, whatever case Commerce Layer stores and however
//     LIKE treats case there (nothing documents either; email_eq is exact,
//     so the caller's spelling would miss DAAN@… for daan@…). The caller
//     post-filters exactly, and the vendor's count is not the filter's.
//   - search: filter[q][email_cont] with the lower-cased value. Ransack's
//     _cont is a case-insensitive LIKE and a customer has no name, so this
//     matches what Filter.Match does; the docs do not say _cont ignores
//     case, so the value is lower-cased like the stored emails. The count is
//     still not reported as exact, since Unicode case folding at the vendor
//     may differ from Go's.
//
// An empty email is not sent (Ransack ignores blank values, returning
// everyone); the caller's post-filter then applies it.
func pushFilter(q url.Values, f ds.Filter) (exact bool) {
	exact = true
	if e := f.Email; e != nil {
		if *e == "" {
			exact = false
		} else {
			q.Set("filter[q][email_matches]", anyCaseLike(*e))
			exact = false
		}
	}
	if s := f.Search; s != nil && *s != "" {
		q.Set("filter[q][email_cont]", strings.ToLower(*s))
		exact = false
	}
	return exact
}

// anyCaseLike is a LIKE pattern matching s in any letter case: each letter
// that has case becomes _, and LIKE's own %, _ and \ are escaped.
func anyCaseLike(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.ToUpper(r) != unicode.ToLower(r):
			b.WriteByte('_')
		case r == '%' || r == '_' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// parseOffset reads a page token: a non-negative decimal this client issued.
func parseOffset(tok string) (int, error) {
	if tok == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(tok)
	if err != nil || n < 0 || n > maxOffset || strconv.Itoa(n) != tok {
		return 0, ds.Errorf(ds.CodeBadUserInput, "invalid page token for %s", ds.CommerceLayer)
	}
	return n, nil
}

// GetCustomers looks ids up with filter[q][id_in]=a,b,c and page[size]=25,
// MaxPageSize ids per call. Ids Commerce Layer cannot hold (empty, too long,
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
