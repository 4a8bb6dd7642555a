// Backward walks (last/before): offset and native readers, WalkBackward, and the customer list's backward page.

package federate

import (
	"context"
	"fmt"
	"slices"

	ds "github.com/federated-customers/gateway/datasource"
)

// backReader reads one provider's list backward.
type backReader[T any] interface {
	// before returns up to n records right before pos (native order), the
	// position right after each, the position right before the first, and
	// whether that is the start of the list.
	before(ctx context.Context, pos ds.Position, n int) (items []T, after []ds.Position, start ds.Position, atStart bool, err error)
	// end is the position after the provider's last record, and the
	// length of its list when reading it told (a later totalCount reuses it).
	end(ctx context.Context) (ds.Position, *int, error)
}

// backSegment is a Segment with its backward reader.
type backSegment[T any] struct {
	Segment[T]
	reader backReader[T]
}

// offsetReader reads backward by offset arithmetic and forward fetches;
// parse reads the vendor's offset tokens (Capabilities.ParseOffset).
type offsetReader[T any] struct {
	seg   Segment[T]
	parse func(token string) (int, error)
}

func (r offsetReader[T]) end(ctx context.Context) (ds.Position, *int, error) {
	page, err := r.seg.Fetch(ctx, "", 1)
	if err != nil {
		return ds.Position{}, nil, err
	}
	n := page.ListLen // the list's length; the filter's count only when exact
	if n == nil {
		n = page.Total
	}
	if n == nil {
		return ds.Position{}, nil, ds.ProviderErrorf(r.seg.Provider, ds.CodeUnsupportedByProvider, "%s did not say how long its list is, so it cannot be read from its end", r.seg.Provider)
	}
	return ds.Position{Provider: r.seg.Provider, Token: ds.OffsetToken(*n)}, page.Total, nil
}

func (r offsetReader[T]) before(ctx context.Context, pos ds.Position, n int) ([]T, []ds.Position, ds.Position, bool, error) {
	off, err := r.parse(pos.Token)
	if err != nil {
		return nil, nil, pos, false, ds.Errorf(ds.CodeBadUserInput, "invalid cursor")
	}
	abs := off + pos.Skip
	if r.seg.Page > 0 {
		n = min(n, r.seg.Page) // one vendor page: one call per read
	}
	from := max(0, abs-n)
	// Read [from, abs) forward; a vendor page may be shorter than asked.
	var items []T
	tok := ds.OffsetToken(from)
	for len(items) < abs-from {
		page, err := r.seg.Fetch(ctx, tok, abs-from-len(items))
		if err != nil {
			return nil, nil, pos, false, err
		}
		items = append(items, page.Items...)
		if len(page.Items) == 0 || page.Next == "" || page.Next == tok {
			break
		}
		tok = page.Next
	}
	items = items[:min(len(items), abs-from)]
	after := make([]ds.Position, len(items))
	for i := range items {
		after[i] = ds.Position{Provider: r.seg.Provider, Token: ds.OffsetToken(from + i + 1)}
	}
	return items, after, ds.Position{Provider: r.seg.Provider, Token: ds.OffsetToken(from)}, from == 0, nil
}

// listerReader reads backward with the provider's own backward listing.
type listerReader struct {
	p ds.ProviderID
	l ds.ListBeforeFunc
	f ds.Filter
}

func (r listerReader) end(context.Context) (ds.Position, *int, error) {
	return ds.Position{}, nil, ds.ProviderErrorf(r.p, ds.CodeUnsupportedByProvider,
		"%s's list cannot be read from its end: page backward from a cursor inside it, or page forward", r.p)
}

func (r listerReader) before(ctx context.Context, pos ds.Position, n int) ([]*ds.Customer, []ds.Position, ds.Position, bool, error) {
	return r.l(ctx, r.f, pos.Token, pos.Skip, n)
}

// end is seg's end position; the list length its read told is kept in
// Totals, as a forward walk keeps the totals of its first pages, so a
// totalCount asks no provider twice.
func (w *Walk[T]) end(ctx context.Context, seg backSegment[T]) (ds.Position, error) {
	pos, total, err := seg.reader.end(ctx)
	if err == nil && total != nil {
		if w.Totals == nil {
			w.Totals = map[ds.ProviderID]int{}
		}
		w.Totals[seg.Provider] = *total
	}
	return pos, err
}

// WalkBackward returns up to last items right before the record whose cursor
// is before (nil: the end of the list), in forward order, reading one extra
// to know whether there is a previous page. Each edge's cursor is the
// forward position right after it, so after and before cursors mix freely.
// Providers are in segment order; a provider that fails fails the page.
func WalkBackward[T any](ctx context.Context, segs []backSegment[T], before *ds.Position, last int) (Walk[T], error) {
	var w Walk[T]
	if len(segs) == 0 || last <= 0 {
		return w, nil
	}
	si := len(segs) - 1
	var pos ds.Position
	dropLast := false // a cursor is the position after its record: that record is not returned
	if before != nil {
		if len(before.Deferred) > 0 || before.Tail {
			return w, ds.Errorf(ds.CodeBadUserInput, "this cursor comes from a page that passed over a failing provider; it cannot page backward")
		}
		si = slices.IndexFunc(segs, func(s backSegment[T]) bool { return s.Provider == before.Provider })
		if si < 0 {
			return w, ds.Errorf(ds.CodeBadUserInput, "invalid cursor: provider %s is not part of this list", before.Provider)
		}
		pos, dropLast = ds.Position{Provider: before.Provider, Token: before.Token, Skip: before.Skip}, true
	} else {
		end, err := w.end(ctx, segs[si])
		if err != nil {
			return w, err
		}
		pos = end
	}
	want := last + 1
	var found []Edge[T] // newest first while collecting
	// the walk's bound is on the upstream calls it made, as the cost
	// estimate counts them, not on its reads: a read may take more than one
	ctx, made := ds.CountCalls(ctx)
	for reads := 0; len(found) < want && si >= 0; reads++ {
		if err := ctx.Err(); err != nil {
			return w, err
		}
		if reads >= maxFetchesPerWalk || made.Load() >= maxFetchesPerWalk {
			w.HasNext = true // scanned as far as one page may: there may be more before
			p := segs[si].Provider
			w.Bounded = &p
			break
		}
		seg := segs[si]
		n := want - len(found)
		if dropLast {
			n++
		}
		items, after, start, atStart, err := seg.reader.before(ctx, pos, n)
		if err != nil {
			return w, err
		}
		if dropLast && len(items) > 0 {
			items, after = items[:len(items)-1], after[:len(after)-1]
		}
		dropLast = false
		for i := len(items) - 1; i >= 0 && len(found) < want; i-- {
			if seg.Match == nil || seg.Match(items[i]) {
				found = append(found, Edge[T]{Node: items[i], After: after[i]})
			}
		}
		pos = start
		if atStart || len(items) == 0 {
			si--
			if si < 0 {
				break
			}
			if pos, err = w.end(ctx, segs[si]); err != nil {
				return w, err
			}
		}
	}
	if len(found) > last {
		found = found[:last]
		w.HasNext = true // here: there is a previous page (the caller maps it)
	}
	slices.Reverse(found)
	w.Edges = found
	return w, nil
}

// listBackward serves last/before: every selected provider must page
// backward (offset arithmetic), in a list that is not a merge or an id list.
func (s *Service) listBackward(ctx context.Context, provs []ds.ProviderID, segs []Segment[*ds.Customer], f ds.Filter, o *ds.Order, fp string, before *string, last int) (*ds.CustomerConnection, error) {
	if o != nil && len(provs) > 1 {
		return nil, s.unsupported(provs, "backward pagination (last/before) of an orderBy across several providers")
	}
	if len(f.IDs) > 0 {
		return nil, ds.Errorf(ds.CodeUnsupportedByProvider, "backward pagination (last/before) with filter.ids is not supported: page forward")
	}
	var back []backSegment[*ds.Customer]
	for _, seg := range segs {
		prov := s.Customers[seg.Provider]
		switch caps := prov.Capabilities(); caps.Backward {
		case ds.BackwardOffset:
			back = append(back, backSegment[*ds.Customer]{Segment: seg, reader: offsetReader[*ds.Customer]{seg: seg, parse: caps.ParseOffset}})
			continue
		case ds.BackwardNative:
			back = append(back, backSegment[*ds.Customer]{Segment: seg, reader: listerReader{p: seg.Provider, l: caps.ListBefore, f: f}})
			continue
		}
		p := seg.Provider
		return nil, &ds.Error{Code: ds.CodeUnsupportedByProvider, Provider: &p, Message: fmt.Sprintf(
			"backward pagination (last/before) is not supported by %s: its list pages forward only", p)}
	}
	var pos *ds.Position
	if before != nil {
		p, err := s.Cursors.Decode("c", fp, *before)
		if err != nil {
			return nil, err
		}
		pos = &p
	}
	w, err := WalkBackward(ctx, back, pos, last)
	if err != nil {
		return nil, err
	}
	conn := &ds.CustomerConnection{Edges: customerEdges(w.Edges, &cursorMint{s.Cursors, "c", fp})}
	conn.PageInfo = backwardPageInfo(w.HasNext, before != nil, len(conn.Edges), func(i int) string { return conn.Edges[i].Cursor() })
	warnScanBound(ctx, w.Bounded, true)
	conn.Count = countSegments(segs, w.Totals)
	return conn, nil
}
