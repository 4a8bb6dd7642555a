// Merged walks (orderBy across providers): MergeForward and CustomerLess.

package federate

import (
	"context"
	"strings"
	"sync"

	ds "github.com/federated-customers/gateway/datasource"
)

// mergeState is one provider's place in an ordered walk: the page read at
// pos.Token, of which pos.Skip items are consumed, and the token after it.
type mergeState[T any] struct {
	seg   Segment[T]
	pos   ds.Position
	items []T
	next  string
	read  bool // items hold the page at pos.Token
}

func (s *mergeState[T]) head() (T, bool) {
	var zero T
	if s.pos.Skip < len(s.items) {
		return s.items[s.pos.Skip], true
	}
	return zero, false
}

// finished: the page is consumed and the list has no next page.
func (s *mergeState[T]) finished() bool { return s.read && s.pos.Skip >= len(s.items) && s.next == "" }

// after is where this provider goes on: past the page when it is consumed.
func (s *mergeState[T]) after() ds.Position {
	if s.read && s.pos.Skip >= len(s.items) && s.next != "" {
		return ds.Position{Provider: s.pos.Provider, Token: s.next}
	}
	return ds.Position{Provider: s.pos.Provider, Token: s.pos.Token, Skip: s.pos.Skip}
}

// EncodeMerge packs every unfinished provider's place into one Position
// (the first in Provider/Token/Skip, the others in Deferred), for a cursor.
func encodeMerge(ps []ds.Position) ds.Position {
	if len(ps) == 0 {
		return ds.Position{Tail: true} // every provider read to its end
	}
	out := ps[0]
	out.Deferred = append([]ds.Position(nil), ps[1:]...)
	return out
}

func decodeMerge(p ds.Position) []ds.Position {
	if p.Tail {
		return []ds.Position{}
	}
	out := []ds.Position{{Provider: p.Provider, Token: p.Token, Skip: p.Skip}}
	return append(out, p.Deferred...)
}

// MergeForward returns up to first items of the ordered union of segments,
// each of which returns its records already in that order (the vendor sorts
// natively): a k-way merge. start holds each unfinished provider's place (nil:
// every provider from its start); a provider absent from a non-nil start has
// been read to its end. Every record comes once across pages, since each
// provider's place moves only past records that were returned or filtered
// out. A provider that fails fails the page: leaving it out would misorder.
func MergeForward[T any](ctx context.Context, segs []Segment[T], start []ds.Position, first int, less func(a, b T) bool) (Walk[T], error) {
	var w Walk[T]
	if len(segs) == 0 || first <= 0 {
		return w, nil
	}
	byProvider := map[ds.ProviderID]Segment[T]{}
	for _, s := range segs {
		byProvider[s.Provider] = s
	}
	if start != nil && len(start) == 0 {
		return w, nil // the cursor of the very last record
	}
	var states []*mergeState[T]
	if start == nil {
		for _, s := range segs {
			states = append(states, &mergeState[T]{seg: s, pos: ds.Position{Provider: s.Provider}})
		}
	} else {
		seen := map[ds.ProviderID]bool{}
		for _, p := range start {
			seg, ok := byProvider[p.Provider]
			if !ok || seen[p.Provider] {
				return w, ds.Errorf(ds.CodeBadUserInput, "invalid cursor: provider %s is not part of this list", p.Provider)
			}
			seen[p.Provider] = true
			states = append(states, &mergeState[T]{seg: seg, pos: ds.Position{Provider: p.Provider, Token: p.Token, Skip: p.Skip}})
		}
	}
	want := first + 1
	fetches := 0
	fill := func(ctx context.Context, s *mergeState[T]) error {
		if s.read {
			s.pos = ds.Position{Provider: s.pos.Provider, Token: s.next}
		}
		page, err := s.seg.Fetch(ctx, s.pos.Token, s.pos.Skip+want)
		if err != nil {
			return err
		}
		if page.Next != "" && page.Next == s.pos.Token && len(page.Items) <= s.pos.Skip {
			return ds.ProviderErrorf(s.seg.Provider, ds.CodeProviderUnavailable, "the provider's pagination did not advance")
		}
		s.items, s.next, s.read = page.Items, page.Next, true
		return nil
	}
	// Every provider's first page at once.
	{
		errs := make([]error, len(states))
		var wg sync.WaitGroup
		for i, s := range states {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = fill(ctx, s) }()
		}
		wg.Wait()
		fetches += len(states)
		for _, err := range errs {
			if err != nil {
				return w, err
			}
		}
	}
	var found []Edge[T]
	for len(found) < want {
		if err := ctx.Err(); err != nil {
			return w, err
		}
		// A provider whose page is consumed but whose list goes on is read
		// on before choosing: its next record may be the smallest.
		for _, s := range states {
			if _, ok := s.head(); !ok && !s.finished() {
				if fetches >= maxFetchesPerWalk {
					return mergeCut(w, found, states, first), nil
				}
				fetches++
				if err := fill(ctx, s); err != nil {
					return w, err
				}
			}
		}
		var best *mergeState[T]
		var bestItem T
		for _, s := range states {
			if it, ok := s.head(); ok && (best == nil || less(it, bestItem)) {
				best, bestItem = s, it
			}
		}
		if best == nil {
			break // every provider is read to its end
		}
		best.pos.Skip++
		if best.seg.Match != nil && !best.seg.Match(bestItem) {
			continue
		}
		found = append(found, Edge[T]{Node: bestItem, After: encodeMerge(places(states))})
	}
	if len(found) > first {
		w.Edges, w.HasNext, w.Resume = found[:first], true, found[first-1].After
		return w, nil
	}
	w.Edges = found
	return w, nil
}

// mergeCut ends a page early (the fetch cap) with a cursor that goes on.
func mergeCut[T any](w Walk[T], found []Edge[T], states []*mergeState[T], first int) Walk[T] {
	if len(found) > first {
		found = found[:first]
	}
	w.Edges, w.HasNext = found, true
	w.Resume = encodeMerge(places(states))
	if len(found) > 0 {
		w.Resume = found[len(found)-1].After
	}
	return w
}

// places are the unfinished providers' places.
func places[T any](states []*mergeState[T]) []ds.Position {
	var out []ds.Position
	for _, s := range states {
		if !s.finished() {
			out = append(out, s.after())
		}
	}
	return out
}

// CustomerLess is the federated order, the same live and synced: o's field
// ascending or descending, records without a value last in both directions,
// ties by provider (enum order) then vendor id. Descending is ascending
// reversed, except that missing values stay last. NAME and EMAIL compare
// their Fold keys byte by byte (no collation).
func CustomerLess(o ds.Order) func(a, b *ds.Customer) bool {
	return func(a, b *ds.Customer) bool {
		an, bn := orderValueMissing(o.Field, a), orderValueMissing(o.Field, b)
		if an != bn {
			return bn
		}
		c := 0
		if !an {
			c = compareField(o.Field, a, b)
		}
		if c == 0 && a.Provider != b.Provider {
			c = -1
			if a.Provider > b.Provider {
				c = 1
			}
		}
		if c == 0 {
			c = strings.Compare(a.ProviderID, b.ProviderID)
		}
		if o.Descending {
			c = -c
		}
		return c < 0
	}
}

// orderValueMissing reports whether c has no value for field f.
func orderValueMissing(f ds.OrderField, c *ds.Customer) bool {
	switch f {
	case ds.OrderCreatedAt:
		return c.CreatedAt == nil
	case ds.OrderUpdatedAt:
		return c.UpdatedAt == nil
	case ds.OrderEmail:
		return c.Email == nil
	case ds.OrderName:
		return c.Name == nil
	}
	return true
}

// compareField compares two present values of field f.
func compareField(f ds.OrderField, a, b *ds.Customer) int {
	switch f {
	case ds.OrderCreatedAt:
		return a.CreatedAt.Compare(*b.CreatedAt)
	case ds.OrderUpdatedAt:
		return a.UpdatedAt.Compare(*b.UpdatedAt)
	case ds.OrderEmail:
		return strings.Compare(ds.Fold(*a.Email), ds.Fold(*b.Email))
	case ds.OrderName:
		return strings.Compare(ds.Fold(*a.Name), ds.Fold(*b.Name))
	}
	return 0
}
