package datasource

import (
	"context"
	"slices"
	"strconv"
)

// OffsetPager is implemented by providers whose page token is an absolute
// offset into their list (page numbers or offsets: Kintsugi, Commerce
// Layer): they page backward by arithmetic.
type OffsetPager interface {
	// OffsetToken is the token of absolute offset n.
	OffsetToken(n int) string
	// TokenOffset reads a token it issued.
	TokenOffset(token string) (int, error)
}

// AsOffsetPager returns p's offset arithmetic: p's own, or that of the
// provider a layer (the cache) wraps.
func AsOffsetPager(p any) (OffsetPager, bool) {
	if o, ok := p.(OffsetPager); ok {
		return o, true
	}
	if w, ok := p.(interface{ OffsetPager() (OffsetPager, bool) }); ok {
		return w.OffsetPager()
	}
	return nil, false
}

// OffsetToken is the shared decimal form of offset tokens ("" for 0).
func OffsetToken(n int) string {
	if n <= 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// backSegment is a Segment that can be read backward.
type backSegment[T any] struct {
	Segment[T]
	pager OffsetPager
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
	si, end := len(segs)-1, -1 // end -1: the end of segment si, from its total
	if before != nil {
		if len(before.Deferred) > 0 || before.Tail {
			return w, Errorf(CodeBadUserInput, "this cursor comes from a page that passed over a failing provider; it cannot page backward")
		}
		si = slices.IndexFunc(segs, func(s backSegment[T]) bool { return s.Provider == before.Provider })
		if si < 0 {
			return w, Errorf(CodeBadUserInput, "invalid cursor: provider %s is not part of this list", before.Provider)
		}
		off, err := segs[si].pager.TokenOffset(before.Token)
		if err != nil {
			return w, Errorf(CodeBadUserInput, "invalid cursor")
		}
		end = max(0, off+before.Skip-1) // before the record the cursor follows
	}
	want := last + 1
	var found []Edge[T] // newest first while collecting
	fetches := 0
	cut := false
	for len(found) < want && si >= 0 {
		if err := ctx.Err(); err != nil {
			return w, err
		}
		seg := segs[si]
		if end < 0 {
			fetches++
			page, err := seg.Fetch(ctx, "", 1)
			if err != nil {
				return w, err
			}
			if page.Total == nil {
				return w, ProviderErrorf(seg.Provider, CodeUnsupportedByProvider, "%s did not say how long its list is, so it cannot be read from its end", seg.Provider)
			}
			end = *page.Total
		}
		if end == 0 {
			si, end = si-1, -1
			continue
		}
		n := min(want-len(found), end)
		from := end - n
		// Read [from, end) forward; a vendor page may be shorter than n.
		var items []T
		tok := seg.pager.OffsetToken(from)
		ended := false
		for len(items) < n {
			if fetches >= maxFetchesPerWalk {
				cut = true
				break
			}
			fetches++
			page, err := seg.Fetch(ctx, tok, n-len(items))
			if err != nil {
				return w, err
			}
			items = append(items, page.Items...)
			if len(page.Items) == 0 || page.Next == "" || page.Next == tok {
				ended = true
				break
			}
			tok = page.Next
		}
		if cut && !ended {
			break // a partial read would leave a gap: the next page goes on from here
		}
		if len(items) > n {
			items = items[:n]
		}
		if len(items) == 0 {
			// The list is shorter than the cursor says (records were deleted):
			// step back without stalling.
			end = from
			continue
		}
		for i := len(items) - 1; i >= 0 && len(found) < want; i-- {
			if seg.Match == nil || seg.Match(items[i]) {
				found = append(found, Edge[T]{Node: items[i], After: Position{Provider: seg.Provider, Token: seg.pager.OffsetToken(from + i + 1)}})
			}
		}
		end = from
	}
	if len(found) > last || cut {
		found = found[:min(last, len(found))]
		w.HasNext = true // here: there is a previous page (the caller maps it)
	}
	slices.Reverse(found)
	w.Edges = found
	if len(found) > 0 {
		w.Resume = found[0].After
	}
	return w, nil
}
