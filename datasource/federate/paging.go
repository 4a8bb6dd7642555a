// Forward walks: Segment, Walk, WalkForward and the next provider's lookahead.

package federate

import (
	"context"
	"slices"
	"sync/atomic"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
)

// Segment is one provider's part of a federated list: the one pagination
// abstraction every vendor style is walked through.
type Segment[T any] struct {
	Provider ds.ProviderID
	// Fetch returns the provider's page starting at token with at most limit
	// items. Fetches of different segments may run at the same time.
	Fetch func(ctx context.Context, token string, limit int) (ds.Page[T], error)
	// Match is the exact filter applied to every record the provider returned.
	Match func(T) bool
	// Page is the most records one Fetch returns (the vendor's page size;
	// 0: unknown). A backward read asks no more, so it is one call.
	Page int
	// Count returns the exact number of matching records, or nil when the
	// provider cannot say exactly.
	Count func(ctx context.Context) (*int, error)
	// Exact is true when every record the provider returns matches and a
	// next page token means at least one more record: a full page that ends
	// on a token needs no read ahead.
	Exact bool
}

// Edge is one item with the position right after it (its cursor).
type Edge[T any] struct {
	Node  T
	After ds.Position
}

// Walk is the result of walking forward through segments.
type Walk[T any] struct {
	Edges   []Edge[T]
	HasNext bool
	// Resume is where a following request goes on; set when HasNext.
	Resume ds.Position
	// Errs are the provider failures met on this page. A failing provider is
	// passed over (its place goes into Position.Deferred) so the providers
	// after it still answer, and it is tried again after the last provider;
	// a provider that fails twice on one page ends the page there, with
	// HasNext true and Resume pointing at it, so nothing is lost or repeated.
	Errs []error
	// Totals holds each provider's exact total, when a page fetched from its
	// start reported one.
	Totals map[ds.ProviderID]int
	// Bounded names the provider where the page stopped at the scan bound
	// (maxFetchesPerWalk) before it was full: more may match past it.
	Bounded *ds.ProviderID
}

// maxFetchesPerWalk bounds the upstream calls one page of a connection may
// make when exact post-filtering has to scan past non-matching records; the
// walk then stops early with a resume cursor instead of running unbounded.
const maxFetchesPerWalk = 25

// WalkForward returns up to first items after start (nil: from the beginning),
// fetching one extra to know whether there is a next page. The order is the
// segments' order, each in its native order; a provider that failed and was
// passed over comes after the last segment.
func WalkForward[T any](ctx context.Context, segs []Segment[T], start *ds.Position, first int) (Walk[T], error) {
	var w Walk[T]
	if len(segs) == 0 || first <= 0 {
		return w, nil
	}
	index := func(p ds.ProviderID) int {
		for i, s := range segs {
			if s.Provider == p {
				return i
			}
		}
		return -1
	}
	// cur is the next place to read; it always carries the deferred
	// providers and whether the main pass is over, so any edge's After is a
	// complete resume state.
	cur := ds.Position{Provider: segs[0].Provider}
	if start != nil {
		cur = *start
		for _, d := range cur.Deferred {
			if index(d.Provider) < 0 || d.Provider == cur.Provider {
				return w, ds.Errorf(ds.CodeBadUserInput, "invalid cursor: provider %s is not part of this list", d.Provider)
			}
		}
	}
	si := index(cur.Provider)
	if si < 0 {
		return w, ds.Errorf(ds.CodeBadUserInput, "invalid cursor: provider %s is not part of this list", cur.Provider)
	}
	// advance moves cur to the next provider; false at the end of the list.
	advance := func() bool {
		if !cur.Tail && si+1 < len(segs) {
			si++
			cur = ds.Position{Provider: segs[si].Provider, Deferred: cur.Deferred}
			return true
		}
		if len(cur.Deferred) == 0 {
			return false
		}
		next := cur.Deferred[0]
		next.Deferred, next.Tail = cur.Deferred[1:], true
		cur, si = next, index(next.Provider)
		return true
	}
	want := first + 1
	// Limits depend on first alone, not on how much of the page is filled,
	// so the same provider page is the same request (and cache entry) on
	// every page of a walk.
	// A fetch ahead that this page turns out not to need is not waited for:
	// the page is answered as soon as its edges and hasNextPage are known.
	// That fetch finishes in the background, bounded (aheadBound and the
	// provider's per-request budget), and its page is cached for the next
	// page of the walk; its failure is no error of this page.
	ahead := &lookahead[T]{pending: map[int]chan fetched[T]{}, arrived: map[int]fetched[T]{}}
	var found []Edge[T]
	failed := map[ds.ProviderID]bool{}
	fetches := 0
	for len(found) < want {
		if err := ctx.Err(); err != nil {
			return w, err
		}
		if fetches == maxFetchesPerWalk || failed[cur.Provider] {
			w.Edges, w.HasNext, w.Resume = found, true, cur
			if !failed[cur.Provider] {
				p := cur.Provider
				w.Bounded = &p
			}
			return w, nil
		}
		fetches++
		seg := segs[si]
		fromStart := cur.Token == "" && cur.Skip == 0
		// The next provider's first page, concurrently; unless this one's
		// page, fetched ahead, is already here: then reading it first costs
		// nothing, and the next provider is asked only if the page needs it.
		if !cur.Tail && si+1 < len(segs) && !(fromStart && ahead.ready(si)) {
			ahead.start(ctx, si+1, segs[si+1], want)
		}
		var page ds.Page[T]
		var err error
		if fromStart {
			page, err = ahead.take(ctx, si, seg, want)
		} else {
			page, err = seg.Fetch(ctx, cur.Token, cur.Skip+want)
		}
		if err != nil {
			if _, ok := ds.ErrorProvider(err); !ok || ctx.Err() != nil {
				return w, err // not a provider's failure: the whole request failed
			}
			w.Errs = append(w.Errs, err)
			failed[cur.Provider] = true
			here := ds.Position{Provider: cur.Provider, Token: cur.Token, Skip: cur.Skip}
			cur.Deferred = append(slices.Clip(cur.Deferred), here)
			if !advance() {
				break
			}
			continue
		}
		if cur.Token == "" && page.Total != nil {
			if w.Totals == nil {
				w.Totals = map[ds.ProviderID]int{}
			}
			w.Totals[seg.Provider] = *page.Total
		}
		items := page.Items
		if page.Next != "" && page.Next == cur.Token && len(items) <= cur.Skip {
			// security: a vendor that never advances would loop until the fetch cap.
			return w, ds.ProviderErrorf(seg.Provider, ds.CodeProviderUnavailable, "the provider's pagination did not advance")
		}
		for i := cur.Skip; i < len(items) && len(found) < want; i++ {
			after := cur
			after.Skip = i + 1
			if i+1 == len(items) && page.Next != "" {
				after.Token, after.Skip = page.Next, 0
			}
			if seg.Match == nil || seg.Match(items[i]) {
				found = append(found, Edge[T]{Node: items[i], After: after})
			}
			cur.Skip = i + 1
		}
		if len(found) >= want {
			break
		}
		if len(found) == first && seg.Exact && page.Next != "" && cur.Skip >= len(items) {
			// The page is full and the provider promises more: no read ahead.
			w.Edges, w.HasNext, w.Resume = found, true, found[first-1].After
			return w, nil
		}
		if page.Next != "" {
			skip := 0
			if cur.Skip > len(items) {
				skip = cur.Skip - len(items) // the page was shorter than our skip
			}
			cur.Token, cur.Skip = page.Next, skip
			continue
		}
		if !advance() {
			break
		}
	}
	if len(found) > first {
		w.Edges, w.HasNext, w.Resume = found[:first], true, found[first-1].After
		return w, nil
	}
	w.Edges = found
	return w, nil
}

type fetched[T any] struct {
	page ds.Page[T]
	err  error
}

// lookahead fetches the first page of the provider after the current one
// while the current one is read, so a page that spans two providers costs
// one round trip, not two. At most one fetch runs ahead.
type lookahead[T any] struct {
	pending map[int]chan fetched[T]
	arrived map[int]fetched[T] // fetched ahead and received, not yet taken
}

// aheadBound is the longest a fetch ahead may outlive the page that started
// it (the provider's per-request budget, at most 25 s, usually ends it first).
const aheadBound = 30 * time.Second

// start fetches segment i's first page in the background. The fetch keeps
// the request's values (its report, call budget and provider budgets) but
// not its cancellation: the page may be answered, and its request end,
// before this fetch does, and what it reads is cached for the next page.
func (a *lookahead[T]) start(ctx context.Context, i int, seg Segment[T], limit int) {
	if _, ok := a.pending[i]; ok {
		return
	}
	ch := make(chan fetched[T], 1)
	a.pending[i] = ch
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), aheadBound)
	fetchesAhead.Add(1)
	go func() {
		defer fetchesAhead.Add(-1)
		defer cancel()
		page, err := seg.Fetch(actx, "", limit)
		ch <- fetched[T]{page, err}
	}()
}

// fetchesAhead counts the fetches ahead running now, across requests.
var fetchesAhead atomic.Int64

// FetchesAhead is how many fetches ahead are running, some of them past
// the answers of the pages that started them: the work a test waits for to
// settle before it counts upstream calls.
func FetchesAhead() int { return int(fetchesAhead.Load()) }

// ready reports whether segment i's first page, fetched ahead, has arrived.
func (a *lookahead[T]) ready(i int) bool {
	if _, ok := a.arrived[i]; ok {
		return true
	}
	ch := a.pending[i]
	if ch == nil {
		return false
	}
	select {
	case r := <-ch:
		a.pending[i], a.arrived[i] = nil, r
		return true
	default:
		return false
	}
}

// take is segment i's first page: the one fetched ahead, or a fetch now.
func (a *lookahead[T]) take(ctx context.Context, i int, seg Segment[T], limit int) (ds.Page[T], error) {
	if r, ok := a.arrived[i]; ok {
		delete(a.arrived, i)
		return r.page, r.err
	}
	ch, ok := a.pending[i]
	if !ok || ch == nil {
		return seg.Fetch(ctx, "", limit)
	}
	select {
	case r := <-ch:
		a.pending[i] = nil
		return r.page, r.err
	case <-ctx.Done():
		return ds.Page[T]{}, ctx.Err()
	}
}

// MaxFetchesPerWalk is the most list calls one page of a connection makes:
// the walk's cap, plus the one first page it may be fetching ahead for the
// next provider when the cap stops it.
const MaxFetchesPerWalk = maxFetchesPerWalk + 1
