// The customer list: ListCustomers and the segments it walks (a provider's list, or its ids).

package federate

import (
	"context"
	"sort"
	"strconv"

	ds "github.com/federated-customers/gateway/datasource"
)

// ListCustomers returns one page of the federated customer list.
func (s *Service) ListCustomers(ctx context.Context, a ConnectionArgs, f ds.Filter, o *ds.Order) (*ds.CustomerConnection, error) {
	f, err := NormalizeFilter(f)
	if err != nil {
		return nil, err
	}
	provs, err := s.selectedProviders(ctx, f)
	if err != nil {
		return nil, err
	}
	fp := ds.Fingerprint(struct {
		F ds.Filter
		O *ds.Order
	}{f, o})
	if conn, handled, err := s.listSynced(ctx, a, f, o, provs, fp); handled {
		return conn, err
	}
	first, backward, err := a.size()
	if err != nil {
		return nil, err
	}
	if o != nil {
		for _, p := range provs {
			if err := s.Customers[p].Capabilities().CanOrder(*o); err != nil {
				return nil, s.orderNeedsSync(p, err)
			}
		}
	}
	merged := o != nil && len(provs) > 1
	kind := "c"
	if merged {
		kind = "m" // a k-way merge: the cursor holds every provider's place
	}

	var segs []Segment[*ds.Customer]
	for _, p := range provs {
		prov := s.Customers[p]
		if err := prov.Capabilities().CanFilter(f); err != nil {
			pp := p
			ds.Warn(ctx, ds.Warning{Code: ds.CodeUnsupportedByProvider, Provider: &pp, Message: err.Error()})
			continue
		}
		if len(f.IDs) > 0 {
			if ids := f.IDsFor(p); len(ids) > 0 {
				segs = append(segs, idsSegment(prov, ids, f.Match, o))
			}
			continue
		}
		warnAccentSensitive(ctx, prov, f)
		seg := listSegment(prov, f, o, prov.Capabilities().PageLimit)
		seg.Count = s.orSyncedCount(p, f, seg.Count)
		segs = append(segs, seg)
	}
	if backward {
		return s.listBackward(ctx, provs, segs, f, o, fp, a.Before, first)
	}
	var start *ds.Position
	if a.After != nil {
		pos, err := s.Cursors.Decode(kind, fp, *a.After)
		if err != nil {
			return nil, err
		}
		start = &pos
	}
	start, earlier := earlierMatch(start)
	var w Walk[*ds.Customer]
	if merged {
		var places []ds.Position
		if start != nil {
			places = decodeMerge(*start)
		}
		w, err = MergeForward(ctx, segs, places, first, CustomerLess(*o))
	} else {
		w, err = WalkForward(ctx, segs, start, first)
	}
	if err != nil {
		return nil, err
	}
	conn := &ds.CustomerConnection{Edges: customerEdges(w.Edges, &cursorMint{s.Cursors, kind, fp})}
	conn.PageInfo = s.pageInfo(fp, kind, earlier, w.HasNext, w.Resume, len(w.Edges),
		func(i int) string { return conn.Edges[i].Cursor() })
	conn.PartialErrors = append(conn.PartialErrors, w.Errs...)
	conn.PageInfo = endsWhenOnlyFailuresRemain(conn.PageInfo, len(conn.Edges), w.Errs)
	warnScanBound(ctx, w.Bounded, false)
	conn.Count = countSegments(segs, w.Totals)
	return conn, nil
}

// maxEmailScanPage bounds the page an email-filtered walk reads.
const maxEmailScanPage = 100

// listSegment reads prov's list. An email-filtered walk reads pages of the
// vendor's largest size (vendorPage, its PageLimit), up to
// maxEmailScanPage, whatever first is: where the vendor cannot apply the
// email filter and it is post-filtered, "find this person" is then answered
// in a few calls, not an empty page after 25 calls of first+1 records; where
// the vendor applies it, the page holds the few matches either way. The size is the same on every page of a walk, so
// cursors and cache entries stay stable. search and country keep first+1:
// they are exploratory, and large pages would multiply what a costly query
// of many aliases holds (issue 8).
func listSegment(prov ds.CustomerProvider, f ds.Filter, o *ds.Order, vendorPage int) Segment[*ds.Customer] {
	scan := 0
	if f.Email != nil {
		scan = min(vendorPage, maxEmailScanPage)
	}
	fetch := func(ctx context.Context, token string, limit int) (ds.Page[*ds.Customer], error) {
		return prov.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Token: token, Limit: max(limit, scan), Filter: f, Order: o})
	}
	return Segment[*ds.Customer]{
		Provider: prov.ID(),
		Fetch:    fetch,
		Match:    f.Match,
		Page:     vendorPage,
		Exact:    prov.Capabilities().ExactNext && f.Email == nil && f.Search == nil && len(f.Country) == 0 && len(f.IDs) == 0,
		Count: func(ctx context.Context) (*int, error) {
			page, err := fetch(ctx, "", 1)
			if err != nil {
				return nil, err
			}
			return page.Total, nil
		},
	}
}

// idsSegment serves filter.ids from batched lookups: the token is an offset
// into the provider's requested ids, in the order the client gave them.
func idsSegment(prov ds.CustomerProvider, ids []string, match func(*ds.Customer) bool, o *ds.Order) Segment[*ds.Customer] {
	fetch := func(ctx context.Context, token string, limit int) (ds.Page[*ds.Customer], error) {
		off := 0
		if token != "" {
			n, err := strconv.Atoi(token)
			if err != nil || n < 0 || n > len(ids) {
				return ds.Page[*ds.Customer]{}, ds.Errorf(ds.CodeBadUserInput, "invalid cursor")
			}
			off = n
		}
		if o != nil {
			// Ordered: look all of them up (at most MaxFilterIDs, batched)
			// and sort, so offsets index one stable order; the page is a
			// slice of what the lookup returned, with no second lookup.
			got, err := GetCustomersBatched(ctx, prov, ids)
			if err != nil {
				return ds.Page[*ds.Customer]{}, err
			}
			sort.SliceStable(got, func(i, j int) bool { return CustomerLess(*o)(got[i], got[j]) })
			off = min(off, len(got))
			end := min(off+limit, len(got))
			page := ds.Page[*ds.Customer]{Items: got[off:end:end]}
			if end < len(got) {
				page.Next = strconv.Itoa(end)
			}
			return page, nil
		}
		end := min(off+limit, len(ids))
		got, err := GetCustomersBatched(ctx, prov, ids[off:end])
		if err != nil {
			return ds.Page[*ds.Customer]{}, err
		}
		byID := make(map[string]*ds.Customer, len(got))
		for _, c := range got {
			byID[c.ProviderID] = c
		}
		var page ds.Page[*ds.Customer]
		for _, id := range ids[off:end] {
			if c := byID[id]; c != nil {
				page.Items = append(page.Items, c)
			}
		}
		if end < len(ids) {
			page.Next = strconv.Itoa(end)
		}
		return page, nil
	}
	return Segment[*ds.Customer]{
		Provider: prov.ID(),
		Fetch:    fetch,
		Match:    match,
		Count: func(ctx context.Context) (*int, error) {
			page, err := fetch(ctx, "", len(ids))
			if err != nil {
				return nil, err
			}
			n := 0
			for _, c := range page.Items {
				if match(c) {
					n++
				}
			}
			return &n, nil
		},
	}
}
