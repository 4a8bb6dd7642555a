package datasource

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"

	"golang.org/x/time/rate"
)

// CallModel is what one provider's upstream calls cost, as its vendor
// package documents them; the gateway's cost estimate is built from it.
type CallModel struct {
	// ListPage is the most records one list call returns.
	ListPage int
	// LookupBatch is how many ids one lookup call carries (1: one call per id).
	LookupBatch int
	// Once is the calls a request may make once per provider besides its
	// reads: a token or a login, a catalogue.
	Once int
	// ScanAbove: a lookup of more ids than this first reads the list, up to
	// one page per ScanAbove ids, then looks the rest up one by one.
	ScanAbove int
	// PagedLookup: a lookup batch is itself paged (CareCloud's source
	// records), one more call per ListPage records it returns.
	PagedLookup bool
	// Alone reports an id one lookup call cannot carry beside others
	// (Digital River's comma-separated ids filter cannot hold an id with a
	// comma): each such id is a call of its own. nil: none.
	Alone func(id string) bool
}

// Bulk reports whether one lookup call carries many ids (a bulk id
// filter), as opposed to one call per id: what the link budget and the
// estimate's lookups tell apart.
func (m CallModel) Bulk() bool { return m.LookupBatch > 1 }

// LookupIDs is the most calls a lookup of ids makes: LookupCalls for the
// ids a batch can carry, one call for each id that must go alone.
func (m CallModel) LookupIDs(ids []string, recordsPerID int) int {
	alone := 0
	if m.Alone != nil && max(1, m.LookupBatch) > 1 {
		for _, id := range ids {
			if m.Alone(id) {
				alone++
			}
		}
	}
	return m.LookupCalls(len(ids)-alone, recordsPerID) + alone
}

// LookupCalls is the most calls a lookup of k ids makes, the batch window of
// the dataloaders splitting it once more than its size needs.
func (m CallModel) LookupCalls(k, recordsPerID int) int {
	if k <= 0 {
		return 0
	}
	b := max(1, m.LookupBatch)
	if b == 1 {
		if m.ScanAbove > 0 && k > m.ScanAbove {
			return k + k/m.ScanAbove
		}
		return k
	}
	batches := (k+b-1)/b + 1
	if m.PagedLookup {
		page := max(1, m.ListPage)
		return batches * (1 + (min(k, b)*recordsPerID+page-1)/page)
	}
	return batches
}

// ErrCallBudget is wrapped by the error of a call the request's budget did
// not allow (errors.Is).
var ErrCallBudget = errors.New("the request's budget of upstream calls is spent")

// requestCalls is one request's upstream-call state: the calls it may
// still make (limit 0: no budget) and, once its cost is known to be high,
// a bound on its calls in flight and their pace (fan, nil until
// LimitFanOut).
type requestCalls struct {
	limit int64
	left  atomic.Int64
	fan   atomic.Pointer[fanOut]
}

type fanOut struct {
	slots chan struct{}
	pace  *rate.Limiter // shared by every costly request; nil: unpaced
	free  int64         // calls made before the pace applies
	made  atomic.Int64
}

type budgetKey struct{}

// WithCallBudget returns a context whose requests may make at most n
// upstream calls in all (n <= 0: no budget) and may later be given a bound
// on their calls in flight (LimitFanOut).
func WithCallBudget(ctx context.Context, n int) context.Context {
	b := &requestCalls{limit: int64(max(0, n))}
	b.left.Store(b.limit)
	return context.WithValue(ctx, budgetKey{}, b)
}

func callsOf(ctx context.Context) *requestCalls {
	b, _ := ctx.Value(budgetKey{}).(*requestCalls)
	return b
}

// SpendCall takes one upstream call for provider p from the request's
// budget, or says that the budget is spent: no call may then be made.
func SpendCall(ctx context.Context, p ProviderID) error {
	if n, ok := ctx.Value(walkCallsKey{}).(*atomic.Int64); ok {
		n.Add(1)
	}
	b := callsOf(ctx)
	if b == nil || b.limit == 0 {
		return nil
	}
	if b.left.Add(-1) < 0 {
		return &Error{Code: CodeQueryTooComplex, Err: ErrCallBudget, Message: "the request has spent its budget of " +
			strconv.FormatInt(b.limit, 10) + " upstream calls; " + p.String() + " was not called. Ask for less (smaller first, fewer aliases or nested lists)"}
	}
	return nil
}

type walkCallsKey struct{}

// CountCalls returns a context whose upstream calls (SpendCall) are also
// counted in the returned counter: a walk bounds itself by the calls it
// made, whatever each of its reads took.
func CountCalls(ctx context.Context) (context.Context, *atomic.Int64) {
	n := &atomic.Int64{}
	return context.WithValue(ctx, walkCallsKey{}, n), n
}

// LimitFanOut lets the request in ctx have at most n upstream calls in
// flight and, past its first free calls, start them at pace (a limiter that
// all costly requests share; nil: no pace). A costly query's scans then take
// a bounded share of the gateway's CPU (decoding a page costs about the same
// whatever the vendor's latency) and of each vendor's connections, and cheap
// requests beside it keep their latency (issue 8's load test); a query whose
// estimate was high but whose calls are few is never paced. n <= 0, or a
// request already bounded, leaves it as it is.
func LimitFanOut(ctx context.Context, n int, pace *rate.Limiter, free int) {
	b := callsOf(ctx)
	if b == nil || n <= 0 {
		return
	}
	b.fan.CompareAndSwap(nil, &fanOut{slots: make(chan struct{}, n), pace: pace, free: int64(free)})
}

// EnterCall waits for one of the request's upstream call slots and its
// pace, if it has a bound, and returns the function that frees the slot.
func EnterCall(ctx context.Context) (release func(), err error) {
	b := callsOf(ctx)
	if b == nil {
		return func() {}, nil
	}
	f := b.fan.Load()
	if f == nil {
		return func() {}, nil
	}
	if f.pace != nil && f.made.Add(1) > f.free {
		if err := f.pace.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, context.DeadlineExceeded // the pace would outlast the request's deadline
		}
	}
	select {
	case f.slots <- struct{}{}:
		return func() { <-f.slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
