package datasource

import (
	"context"
	"slices"
	"strconv"
)

// OffsetToken is the shared decimal form of offset tokens ("" for 0).
func OffsetToken(n int) string {
	if n <= 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// backReader reads one provider's list backward.
type backReader[T any] interface {
	// before returns up to n records right before pos (native order), the
	// position right after each, the position right before the first, and
	// whether that is the start of the list.
	before(ctx context.Context, pos Position, n int) (items []T, after []Position, start Position, atStart bool, err error)
	// end is the position after the provider's last record, and the
	// length of its list when reading it told (a later totalCount reuses it).
	end(ctx context.Context) (Position, *int, error)
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

func (r offsetReader[T]) end(ctx context.Context) (Position, *int, error) {
	page, err := r.seg.Fetch(ctx, "", 1)
	if err != nil {
		return Position{}, nil, err
	}
	n := page.ListLen // the list's length; the filter's count only when exact
	if n == nil {
		n = page.Total
	}
	if n == nil {
		return Position{}, nil, ProviderErrorf(r.seg.Provider, CodeUnsupportedByProvider, "%s did not say how long its list is, so it cannot be read from its end", r.seg.Provider)
	}
	return Position{Provider: r.seg.Provider, Token: OffsetToken(*n)}, page.Total, nil
}

func (r offsetReader[T]) before(ctx context.Context, pos Position, n int) ([]T, []Position, Position, bool, error) {
	off, err := r.parse(pos.Token)
	if err != nil {
		return nil, nil, pos, false, Errorf(CodeBadUserInput, "invalid cursor")
	}
	abs := off + pos.Skip
	if r.seg.Page > 0 {
		n = min(n, r.seg.Page) // one vendor page: one call per read
	}
	from := max(0, abs-n)
	// Read [from, abs) forward; a vendor page may be shorter than asked.
	var items []T
	tok := OffsetToken(from)
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
	after := make([]Position, len(items))
	for i := range items {
		after[i] = Position{Provider: r.seg.Provider, Token: OffsetToken(from + i + 1)}
	}
	return items, after, Position{Provider: r.seg.Provider, Token: OffsetToken(from)}, from == 0, nil
}

// listerReader reads backward with the provider's own backward listing.
type listerReader struct {
	p ProviderID
	l ListBeforeFunc
	f Filter
}

func (r listerReader) end(context.Context) (Position, *int, error) {
	return Position{}, nil, ProviderErrorf(r.p, CodeUnsupportedByProvider,
		"%s's list cannot be read from its end: page backward from a cursor inside it, or page forward", r.p)
}

func (r listerReader) before(ctx context.Context, pos Position, n int) ([]*Customer, []Position, Position, bool, error) {
	return r.l(ctx, r.f, pos.Token, pos.Skip, n)
}

// end is seg's end position; the list length its read told is kept in
// Totals, as a forward walk keeps the totals of its first pages, so a
// totalCount asks no provider twice.
func (w *Walk[T]) end(ctx context.Context, seg backSegment[T]) (Position, error) {
	pos, total, err := seg.reader.end(ctx)
	if err == nil && total != nil {
		if w.Totals == nil {
			w.Totals = map[ProviderID]int{}
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
func WalkBackward[T any](ctx context.Context, segs []backSegment[T], before *Position, last int) (Walk[T], error) {
	var w Walk[T]
	if len(segs) == 0 || last <= 0 {
		return w, nil
	}
	si := len(segs) - 1
	var pos Position
	dropLast := false // a cursor is the position after its record: that record is not returned
	if before != nil {
		if len(before.Deferred) > 0 || before.Tail {
			return w, Errorf(CodeBadUserInput, "this cursor comes from a page that passed over a failing provider; it cannot page backward")
		}
		si = slices.IndexFunc(segs, func(s backSegment[T]) bool { return s.Provider == before.Provider })
		if si < 0 {
			return w, Errorf(CodeBadUserInput, "invalid cursor: provider %s is not part of this list", before.Provider)
		}
		pos, dropLast = Position{Provider: before.Provider, Token: before.Token, Skip: before.Skip}, true
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
	ctx, made := countCalls(ctx)
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
