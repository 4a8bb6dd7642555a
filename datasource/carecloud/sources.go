package carecloud

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
)

// ListSources returns one page of GET /customer-source-records in native
// order. The token is the absolute offset as a decimal string.
func (c *Client) ListSources(ctx context.Context, req ds.ListRequest[ds.SourceFilter]) (ds.Page[*ds.CustomerSource], error) {
	var page ds.Page[*ds.CustomerSource]
	if req.Order != nil {
		return page, ds.ProviderErrorf(ds.CareCloud, ds.CodeUnsupportedByProvider, "CARECLOUD customer source records are listed in native order only")
	}
	offset, err := parseToken(req.Token)
	if err != nil {
		return page, err
	}
	count := req.Limit
	if count <= 0 || count > maxCount {
		count = maxCount
	}
	q, exact, none := filterQuery(req.Filter)
	if none {
		// No record can match (an empty id): exact and free.
		zero := 0
		page.Total = &zero
		return page, nil
	}
	// The filter's values are the caller's: a 400 about them judges the
	// caller's input, not a request the gateway got wrong.
	callerInput := len(q) > 0
	setPage(q, count, offset, "customer_source_record_id")
	recs, total, err := c.fetch(ctx, "/customer-source-records", q, "", callerInput)
	if err != nil {
		if unknownID(err, "customer_id", "customer_source_id") {
			// A filter naming a customer or source CareCloud does not have
			// matches nothing, whether it answers [] or a 400 not_found.
			zero := 0
			page.Total = &zero
			return page, nil
		}
		return page, err
	}
	page.Items = recs
	if total != nil {
		if exact {
			page.Total = total
		}
		if len(recs) > 0 && offset+len(recs) < *total {
			page.Next = strconv.Itoa(offset + len(recs))
		}
	} else if len(recs) >= count {
		page.Next = strconv.Itoa(offset + len(recs))
	}
	return page, nil
}

// parseToken accepts exactly the tokens ListSources issues: "" or a
// canonical non-negative decimal offset.
func parseToken(tok string) (int, error) {
	if tok == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(tok)
	if err != nil || n < 0 || strconv.Itoa(n) != tok {
		return 0, ds.Errorf(ds.CodeBadUserInput, "invalid CARECLOUD page position %s", quote(tok))
	}
	return n, nil
}

func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strconv.Quote(s)
}

// filterQuery pushes the source filter down. exact is false when the vendor
// is sent less than the filter (the caller post-filters); none is true when
// no record can match.
func filterQuery(f ds.SourceFilter) (q url.Values, exact, none bool) {
	q = url.Values{}
	exact = true
	if f.CustomerID != nil {
		if *f.CustomerID == "" {
			return q, true, true
		}
		q.Set("customer_id", *f.CustomerID)
	}
	if f.SourceID != nil {
		if *f.SourceID == "" {
			return q, true, true
		}
		q.Set("customer_source_id", *f.SourceID)
	}
	if len(f.ExternalIDs) > 0 {
		ids := dedupe(f.ExternalIDs)
		switch {
		case len(ids) == 0:
			return q, true, true // only empty ids: records without an external id carry none
		case len(ids) > maxExternalIDs:
			exact = false // more than the API takes: send none, post-filter
		default:
			q["external_ids[]"] = ids
		}
	}
	return q, exact, false
}

// dedupe drops empty and repeated ids, keeping the first order.
func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// SourcesByExternalIDs returns every record whose external id is one of ids:
// external_ids[] batches of maxBatch, each paged by offset to its total.
func (c *Client) SourcesByExternalIDs(ctx context.Context, ids []string) ([]*ds.CustomerSource, error) {
	ids = dedupe(ids)
	var batches [][]string
	for len(ids) > 0 {
		n := min(len(ids), maxBatch)
		batches = append(batches, ids[:n])
		ids = ids[n:]
	}
	return c.gather(ctx, len(batches), func(ctx context.Context, i int) ([]*ds.CustomerSource, error) {
		q := url.Values{"external_ids[]": batches[i]}
		return c.collect(ctx, "/customer-source-records", q, "")
	})
}

// SourcesByCustomers returns every record of the given CareCloud customers:
// one GET /customers/{customer_id}/customer-source-records per customer with
// bounded concurrency; an unknown customer (404) has none.
func (c *Client) SourcesByCustomers(ctx context.Context, customerIDs []string) ([]*ds.CustomerSource, error) {
	var ids []string
	for _, id := range dedupe(customerIDs) {
		if pathID(id) { // anything else cannot be a CareCloud id: it has no records
			ids = append(ids, id)
		}
	}
	return c.gather(ctx, len(ids), func(ctx context.Context, i int) ([]*ds.CustomerSource, error) {
		recs, err := c.collect(ctx, "/customers/"+ids[i]+"/customer-source-records", url.Values{}, ids[i])
		if ds.IsNotFound(err) || unknownID(err, "customer_id") {
			return nil, nil
		}
		return recs, err
	})
}

// gather runs n lookups with bounded concurrency and concatenates their
// results in order.
func (c *Client) gather(ctx context.Context, n int, one func(context.Context, int) ([]*ds.CustomerSource, error)) ([]*ds.CustomerSource, error) {
	if n == 0 {
		return nil, nil
	}
	c.warmCatalogue(ctx)
	parts := make([][]*ds.CustomerSource, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(lookupConcurrency)
	for i := range n {
		g.Go(func() error {
			recs, err := one(gctx, i)
			parts[i] = recs
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []*ds.CustomerSource
	for _, p := range parts {
		out = append(out, p...)
	}
	return out, nil
}

// collect pages through a record list with count=100 until total_items.
func (c *Client) collect(ctx context.Context, path string, q url.Values, customerID string) ([]*ds.CustomerSource, error) {
	var out []*ds.CustomerSource
	offset := 0
	for range maxPages {
		setPage(q, maxCount, offset, "customer_source_record_id")
		recs, total, err := c.fetch(ctx, path, q, customerID, false)
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
		offset += len(recs)
		if len(recs) == 0 || (total != nil && offset >= *total) || (total == nil && len(recs) < maxCount) {
			return out, nil
		}
	}
	return nil, ds.ProviderErrorf(ds.CareCloud, ds.CodeProviderUnavailable, "the provider's record list did not end after %d pages", maxPages)
}

// setPage sets the page window and an explicit order. The docs define no
// default order for a list, and offset paging needs one that is the same on
// every call: the resource's own id, unique and never changed, ascending.
func setPage(q url.Values, count, offset int, idField string) {
	q.Set("count", strconv.Itoa(count))
	q.Set("offset", strconv.Itoa(offset))
	q.Set("sort_field", idField)
	q.Set("sort_direction", "ASC")
}

// fetch makes one list call and maps its records.
func (c *Client) fetch(ctx context.Context, path string, q url.Values, customerID string, callerInput bool) ([]*ds.CustomerSource, *int, error) {
	var env recordsEnvelope
	if _, err := c.api.Do(ctx, rest.Request{Method: http.MethodGet, Path: path, Query: q, Header: header(), CallerInput: callerInput, List: customerID == ""}, &env); err != nil {
		return nil, nil, err
	}
	return c.mapRecords(ctx, &env, customerID)
}

// mapRecords maps a decoded record list, with the catalogue's names and targets.
func (c *Client) mapRecords(ctx context.Context, env *recordsEnvelope, customerID string) ([]*ds.CustomerSource, *int, error) {
	if len(env.Data.Records) == 0 {
		return nil, env.Data.TotalItems.ptr(), nil
	}
	recs := env.Data.Records
	need := make([]string, 0, len(recs))
	for i := range recs {
		if err := recs[i].Err; err != nil {
			p := ds.CareCloud
			return nil, nil, &ds.Error{Code: ds.CodeProviderUnavailable, Provider: &p, Message: "the provider sent a record this gateway cannot read", Err: err}
		}
		need = append(need, recs[i].V.CustomerSourceID)
	}
	cat, err := c.catalogue(ctx, need)
	if err != nil {
		return nil, nil, err
	}
	out := make([]*ds.CustomerSource, len(recs))
	for i := range recs {
		out[i] = c.mapRecord(&recs[i], cat, customerID)
	}
	return out, env.Data.TotalItems.ptr(), nil
}

// mapRecord turns one record into a SYSTEM source; Target comes from the
// catalogue entry whose customer_source_text_id names a provider.
func (c *Client) mapRecord(rec *rest.Record[wireRecord], cat map[string]sourceInfo, customerID string) *ds.CustomerSource {
	w := &rec.V
	s := &ds.CustomerSource{
		Provider:    ds.CareCloud,
		Kind:        ds.SourceSystem,
		RecordID:    w.CustomerSourceRecordID,
		CustomerID:  w.CustomerID,
		SourceID:    w.CustomerSourceID,
		ExternalIDs: []string{},
		Raw:         rec.Raw, // the record as received, not a copy (see rest.Record)
	}
	if s.CustomerID == "" {
		s.CustomerID = customerID
	}
	if w.ExternalID != nil && *w.ExternalID != "" {
		s.ExternalIDs = []string{string(*w.ExternalID)}
	}
	if info, ok := cat[w.CustomerSourceID]; ok {
		if info.name != "" {
			name := info.name
			s.SourceName = &name
		}
		if info.target != nil && len(s.ExternalIDs) == 1 {
			s.Target = &ds.CustomerKey{Provider: *info.target, ProviderID: s.ExternalIDs[0]}
		}
	}
	return s
}

// sourceInfo is what the catalogue says about one customer_source_id.
type sourceInfo struct {
	name   string
	target *ds.ProviderID
}

type catalogue struct {
	byID map[string]sourceInfo
	at   time.Time
}

// catalogue returns the customer-source catalogue, fetching it when it is
// missing, older than catalogueTTL, or (once it is catalogueMinAge old) when
// it does not know one of the needed ids. Concurrent callers share one fetch;
// when a refresh fails, an older copy is used.
func (c *Client) catalogue(ctx context.Context, need []string) (map[string]sourceInfo, error) {
	c.mu.Lock()
	cur := c.cat
	c.mu.Unlock()
	if cur != nil {
		age := c.now().Sub(cur.at)
		if age < catalogueTTL && (age < catalogueMinAge || knowsAll(cur, need)) {
			return cur.byID, nil
		}
	}
	cat, err := rest.Shared(ctx, &c.sf, "catalogue", backgroundTimeout, func(fctx context.Context) (*catalogue, error) {
		c.mu.Lock()
		latest := c.cat
		c.mu.Unlock()
		if latest != nil && latest != cur && c.now().Sub(latest.at) < catalogueMinAge {
			return latest, nil // refreshed while we were deciding
		}
		cat, err := c.fetchCatalogue(fctx)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.cat = cat
		c.mu.Unlock()
		return cat, nil
	})
	switch {
	case err != nil && ctx.Err() == nil && cur != nil:
		return cur.byID, nil // a failed refresh: the older copy serves
	case err != nil:
		return nil, err
	}
	return cat.byID, nil
}

// warmCatalogue starts fetching the catalogue beside the lookups that will
// need it, when no fresh one is held, so the calls overlap instead of
// following each other (the graph's sources and links wait one round less);
// the lookups then wait on the same fetch.
func (c *Client) warmCatalogue(ctx context.Context) {
	c.mu.Lock()
	fresh := c.cat != nil && c.now().Sub(c.cat.at) < catalogueTTL
	c.mu.Unlock()
	if !fresh {
		go func() { _, _ = c.catalogue(ctx, nil) }()
	}
}

func knowsAll(cat *catalogue, ids []string) bool {
	for _, id := range ids {
		if _, ok := cat.byID[id]; !ok {
			return false
		}
	}
	return true
}

func (c *Client) fetchCatalogue(ctx context.Context) (*catalogue, error) {
	cat := &catalogue{byID: map[string]sourceInfo{}, at: c.now()}
	offset := 0
	for range maxPages {
		var env sourcesEnvelope
		q := url.Values{}
		setPage(q, maxCount, offset, "customer_source_id")
		if _, err := c.api.Do(ctx, rest.Request{Method: http.MethodGet, Path: "/customer-sources", Query: q, Header: header(), List: true}, &env); err != nil {
			return nil, err
		}
		for _, s := range env.Data.Sources {
			info := sourceInfo{name: s.Name}
			if p, ok := ds.ParseProvider(s.CustomerSourceTextID); ok && p != ds.CareCloud {
				info.target = &p
			}
			cat.byID[s.CustomerSourceID] = info
		}
		n := len(env.Data.Sources)
		offset += n
		total := env.Data.TotalItems.ptr()
		if n == 0 || (total != nil && offset >= *total) || (total == nil && n < maxCount) {
			return cat, nil
		}
	}
	return nil, ds.ProviderErrorf(ds.CareCloud, ds.CodeProviderUnavailable, "the provider's source catalogue did not end after %d pages", maxPages)
}
