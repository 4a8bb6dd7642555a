// The customer-source list: ListSources.

package federate

import (
	"context"

	ds "github.com/federated-customers/gateway/datasource"
)

// ListSources returns one page of the customer-source list.
func (s *Service) ListSources(ctx context.Context, a ConnectionArgs, f ds.SourceFilter) (*ds.CustomerSourceConnection, error) {
	first, backward, err := a.size()
	if err != nil {
		return nil, err
	}
	if len(f.ExternalIDs) > maxExternalID {
		return nil, ds.Errorf(ds.CodeBadUserInput, "filter.externalIds takes at most %d ids", maxExternalID)
	}
	for _, v := range []*string{f.CustomerID, f.SourceID} {
		if v != nil && (*v == "" || len(*v) > maxFilterText) {
			return nil, ds.Errorf(ds.CodeBadUserInput, "filter.customerId and filter.sourceId must be non-empty ids of at most %d bytes", maxFilterText)
		}
	}
	fp := ds.Fingerprint(f)
	var start *ds.Position
	if cur := a.After; cur != nil || a.Before != nil {
		if cur == nil {
			cur = a.Before
		}
		pos, err := s.Cursors.Decode("s", fp, *cur)
		if err != nil {
			return nil, err
		}
		start = &pos
	}
	conn := &ds.CustomerSourceConnection{}
	if s.Denied[ds.CareCloud] {
		return nil, s.Unavailable(ds.CareCloud)
	}
	if s.Sources == nil {
		p := ds.CareCloud
		ds.Warn(ctx, ds.Warning{Code: ds.CodeUnsupportedByProvider, Provider: &p, Message: "CARECLOUD is not configured in this gateway: there are no customer source records"})
		return conn, nil
	}
	src := s.Sources
	fetch := func(ctx context.Context, token string, limit int) (ds.Page[*ds.CustomerSource], error) {
		return src.ListSources(ctx, ds.ListRequest[ds.SourceFilter]{Token: token, Limit: limit, Filter: f})
	}
	segs := []Segment[*ds.CustomerSource]{{
		Provider: src.ID(),
		Fetch:    fetch,
		Match:    f.Match,
		Count: func(ctx context.Context) (*int, error) {
			page, err := fetch(ctx, "", 1)
			return page.Total, err
		},
	}}
	if backward {
		caps := src.Capabilities()
		if caps.Backward != ds.BackwardOffset {
			p := src.ID()
			return nil, &ds.Error{Code: ds.CodeUnsupportedByProvider, Provider: &p, Message: p.String() + " cannot page its source records backward"}
		}
		w, err := WalkBackward(ctx, []backSegment[*ds.CustomerSource]{{Segment: segs[0], reader: offsetReader[*ds.CustomerSource]{seg: segs[0], parse: caps.ParseOffset}}}, start, first)
		if err != nil {
			return nil, err
		}
		conn.Edges = sourceEdges(w.Edges, &cursorMint{s.Cursors, "s", fp})
		conn.PageInfo = backwardPageInfo(w.HasNext, start != nil, len(conn.Edges), func(i int) string { return conn.Edges[i].Cursor() })
		conn.Count = countSegments(segs, nil)
		return conn, nil
	}
	start, earlier := earlierMatch(start)
	w, err := WalkForward(ctx, segs, start, first)
	if err != nil {
		return nil, err
	}
	conn.Edges = sourceEdges(w.Edges, &cursorMint{s.Cursors, "s", fp})
	conn.PageInfo = s.pageInfo(fp, "s", earlier, w.HasNext, w.Resume, len(w.Edges),
		func(i int) string { return conn.Edges[i].Cursor() })
	conn.PartialErrors = append(conn.PartialErrors, w.Errs...)
	conn.PageInfo = endsWhenOnlyFailuresRemain(conn.PageInfo, len(conn.Edges), w.Errs)
	conn.Count = countSegments(segs, w.Totals)
	return conn, nil
}
