package datasource

import (
	"context"
)

// Segment is one provider's part of a federated list: the one pagination
// abstraction every vendor style is walked through.
type Segment[T any] struct {
	Provider ProviderID
	// Fetch returns the provider's page starting at token with at most limit items.
	Fetch func(ctx context.Context, token string, limit int) (Page[T], error)
	// Match is the exact filter applied to every record the provider returned.
	Match func(T) bool
	// Count returns the exact number of matching records, or nil when the
	// provider cannot say exactly.
	Count func(ctx context.Context) (*int, error)
}

// Edge is one item with the position right after it (its cursor).
type Edge[T any] struct {
	Node  T
	After Position
}

// Walk is the result of walking forward through segments.
type Walk[T any] struct {
	Edges   []Edge[T]
	HasNext bool
	// Resume is where a following request goes on; set when HasNext.
	Resume Position
	// Err is the provider failure that stopped the walk early: Edges holds
	// everything before it, HasNext is true and Resume points at the failing
	// provider, so retrying from Resume loses and repeats nothing.
	Err error
	// Totals holds each provider's exact total, when a page fetched from its
	// start reported one.
	Totals map[ProviderID]int
}

// maxFetchesPerWalk bounds the upstream calls one page of a connection may
// make when exact post-filtering has to scan past non-matching records; the
// walk then stops early with a resume cursor instead of running unbounded.
const maxFetchesPerWalk = 25

// WalkForward returns up to first items after start (nil: from the beginning),
// fetching one extra to know whether there is a next page.
func WalkForward[T any](ctx context.Context, segs []Segment[T], start *Position, first int) (Walk[T], error) {
	var w Walk[T]
	if len(segs) == 0 || first <= 0 {
		return w, nil
	}
	si, pos := 0, Position{Provider: segs[0].Provider}
	if start != nil {
		si = -1
		for i, s := range segs {
			if s.Provider == start.Provider {
				si = i
			}
		}
		if si < 0 {
			return w, Errorf(CodeBadUserInput, "invalid cursor: provider %s is not part of this list", start.Provider)
		}
		pos = *start
	}
	want := first + 1
	var found []Edge[T]
	fetches := 0
	for si < len(segs) && len(found) < want {
		if err := ctx.Err(); err != nil {
			return w, err
		}
		if fetches == maxFetchesPerWalk {
			w.Edges, w.HasNext, w.Resume = found, true, pos
			return w, nil
		}
		fetches++
		seg := segs[si]
		page, err := seg.Fetch(ctx, pos.Token, pos.Skip+want-len(found))
		if err != nil {
			w.Edges, w.HasNext, w.Resume, w.Err = found, true, pos, err
			return w, nil
		}
		if pos.Token == "" && page.Total != nil {
			if w.Totals == nil {
				w.Totals = map[ProviderID]int{}
			}
			w.Totals[seg.Provider] = *page.Total
		}
		items := page.Items
		if page.Next != "" && page.Next == pos.Token && len(items) <= pos.Skip {
			// security: a vendor that never advances would loop until the fetch cap.
			return w, ProviderErrorf(seg.Provider, CodeProviderUnavailable, "the provider's pagination did not advance")
		}
		for i := pos.Skip; i < len(items) && len(found) < want; i++ {
			after := Position{Provider: seg.Provider, Token: pos.Token, Skip: i + 1}
			if i+1 == len(items) && page.Next != "" {
				after = Position{Provider: seg.Provider, Token: page.Next}
			}
			if seg.Match == nil || seg.Match(items[i]) {
				found = append(found, Edge[T]{Node: items[i], After: after})
			}
			pos.Skip = i + 1
		}
		if len(found) >= want {
			break
		}
		switch {
		case page.Next != "":
			skip := 0
			if pos.Skip > len(items) {
				skip = pos.Skip - len(items) // the page was shorter than our skip
			}
			pos = Position{Provider: seg.Provider, Token: page.Next, Skip: skip}
		case si+1 < len(segs):
			si++
			pos = Position{Provider: segs[si].Provider}
		default:
			si++
		}
	}
	if len(found) > first {
		w.Edges, w.HasNext, w.Resume = found[:first], true, found[first-1].After
		return w, nil
	}
	w.Edges = found
	return w, nil
}
