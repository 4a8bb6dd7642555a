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

// GetCustomers looks ids up with the bulk ids filter (ids=a,b,c, limit=100),
// MaxBatch ids per call. Ids Digital River cannot hold (empty, longer than
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
