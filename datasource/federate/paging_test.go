package federate

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	ds "github.com/federated-customers/gateway/datasource"
)

var fetchMu sync.Mutex

// sliceSegment serves items in pages of pageSize with offset tokens; fail
// makes the fetch at that offset fail once.
func sliceSegment(p ds.ProviderID, items []int, pageSize int, calls *int, failAt map[int]error) Segment[int] {
	return Segment[int]{
		Provider: p,
		Fetch: func(ctx context.Context, token string, limit int) (ds.Page[int], error) {
			fetchMu.Lock() // segments are fetched concurrently (lookahead)
			defer fetchMu.Unlock()
			*calls++
			off := 0
			if token != "" {
				off, _ = strconv.Atoi(token)
			}
			if err, ok := failAt[off]; ok {
				delete(failAt, off)
				return ds.Page[int]{}, err
			}
			n := min(limit, pageSize)
			end := min(off+n, len(items))
			page := ds.Page[int]{Items: items[off:end]}
			if end < len(items) {
				page.Next = strconv.Itoa(end)
			}
			total := len(items)
			page.Total = &total
			return page, nil
		},
	}
}

func walkAll(t *testing.T, segs []Segment[int], first int) []int {
	t.Helper()
	var out []int
	var pos *ds.Position
	for i := 0; i < 10000; i++ {
		w := pageOf[int](t, first)(WalkForward(context.Background(), segs, pos, first))
		if len(w.Errs) > 0 {
			t.Fatal(w.Errs[0])
		}
		for _, e := range w.Edges {
			out = append(out, e.Node)
		}
		if !w.HasNext {
			return out
		}
		r := w.Resume
		pos = &r
	}
	t.Fatal("walk did not end")
	return nil
}

// pageOf is one page of a walk, failing the test on the walk's error or on a
// page of more edges than most.
func pageOf[T any](t *testing.T, most int) func(Walk[T], error) Walk[T] {
	return func(w Walk[T], err error) Walk[T] {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if len(w.Edges) > most {
			t.Fatalf("page of %d edges, at most %d asked", len(w.Edges), most)
		}
		return w
	}
}

func seq(from, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = from + i
	}
	return out
}

func TestWalkForwardVisitsEveryItemOnceAcrossProvidersAndPageSizes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		sizes     []int // items per provider
		pageSizes []int // vendor page size per provider
		first     int
	}{
		{"one provider, pages align", []int{40}, []int{10}, 10},
		{"one provider, pages do not align", []int{41}, []int{7}, 10},
		{"three providers, odd page", []int{13, 0, 29}, []int{5, 3, 100}, 37},
		{"first of one", []int{3, 4}, []int{2, 2}, 1},
		{"page bigger than everything", []int{5, 5}, []int{100, 100}, 100},
		{"empty providers only", []int{0, 0}, []int{10, 10}, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var segs []Segment[int]
			var want []int
			calls := 0
			for i, n := range tc.sizes {
				items := seq(i*1000, n)
				want = append(want, items...)
				segs = append(segs, sliceSegment(ds.ProviderID(i+1), items, tc.pageSizes[i], &calls, nil))
			}
			got := walkAll(t, segs, tc.first)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("got %v\nwant %v", got, want)
			}
		})
	}
}

func TestWalkForwardPostFilterKeepsOnlyMatchesAndStillEnds(t *testing.T) {
	calls := 0
	seg := sliceSegment(ds.Kintsugi, seq(0, 100), 10, &calls, nil)
	seg.Match = func(v int) bool { return v%7 == 0 }
	got := walkAll(t, []Segment[int]{seg}, 3)
	var want []int
	for v := 0; v < 100; v += 7 {
		want = append(want, v)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v want %v", got, want)
	}
}

func TestWalkForwardPassesOverAFailingProviderAndComesBackToIt(t *testing.T) {
	calls := 0
	boom := ds.ProviderErrorf(ds.DigitalRiver, ds.CodeProviderUnavailable, "down")
	segs := []Segment[int]{
		sliceSegment(ds.Kintsugi, seq(0, 5), 10, &calls, nil),
		sliceSegment(ds.DigitalRiver, seq(100, 5), 10, &calls, map[int]error{0: boom}),
		sliceSegment(ds.Telness, seq(200, 5), 10, &calls, nil),
	}
	w, err := WalkForward(context.Background(), segs, nil, 8)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Errs) != 1 || !errors.Is(w.Errs[0], boom) || !w.HasNext {
		t.Fatalf("hasNext=%v errs=%v", w.HasNext, w.Errs)
	}
	if got := nodes(w.Edges); fmt.Sprint(got) != fmt.Sprint([]int{0, 1, 2, 3, 4, 200, 201, 202}) {
		t.Fatalf("first page %v: Telness must answer although Digital River failed", got)
	}
	r := w.Resume
	if len(r.Deferred) != 1 || r.Deferred[0].Provider != ds.DigitalRiver {
		t.Fatalf("resume %+v does not remember Digital River", r)
	}
	w, err = WalkForward(context.Background(), segs, &r, 8)
	if err != nil || len(w.Errs) > 0 {
		t.Fatal(err, w.Errs)
	}
	if got := nodes(w.Edges); fmt.Sprint(got) != fmt.Sprint([]int{203, 204, 100, 101, 102, 103, 104}) || w.HasNext {
		t.Fatalf("second page %v hasNext=%v: want the rest of Telness, then Digital River", got, w.HasNext)
	}
}

func TestWalkForwardStopsAtAProviderThatFailsTwiceAndResumesThere(t *testing.T) {
	calls := 0
	boom := ds.ProviderErrorf(ds.DigitalRiver, ds.CodeProviderUnavailable, "down")
	down := map[int]error{0: boom}
	segs := []Segment[int]{
		sliceSegment(ds.Kintsugi, seq(0, 3), 10, &calls, nil),
		sliceSegment(ds.DigitalRiver, seq(100, 3), 10, &calls, down),
		sliceSegment(ds.Telness, seq(200, 3), 10, &calls, nil),
	}
	var got []int
	var pos *ds.Position
	for page := 0; page < 3; page++ { // Digital River stays down for three pages
		down[0] = boom
		w, err := WalkForward(context.Background(), segs, pos, 50)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, nodes(w.Edges)...)
		if len(w.Errs) == 0 || !w.HasNext || w.Resume.Provider != ds.DigitalRiver || !w.Resume.Tail {
			t.Fatalf("page %d: errs=%v hasNext=%v resume=%+v", page, w.Errs, w.HasNext, w.Resume)
		}
		r := w.Resume
		pos = &r
	}
	delete(down, 0) // back up
	w, err := WalkForward(context.Background(), segs, pos, 50)
	if err != nil || len(w.Errs) > 0 || w.HasNext {
		t.Fatal(err, w.Errs, w.HasNext)
	}
	got = append(got, nodes(w.Edges)...)
	if fmt.Sprint(got) != fmt.Sprint([]int{0, 1, 2, 200, 201, 202, 100, 101, 102}) {
		t.Fatalf("got %v", got)
	}
}

func TestWalkForwardRejectsACursorDeferringAProviderNotInTheList(t *testing.T) {
	calls := 0
	segs := []Segment[int]{sliceSegment(ds.Kintsugi, seq(0, 3), 10, &calls, nil)}
	_, err := WalkForward(context.Background(), segs, &ds.Position{Provider: ds.Kintsugi, Deferred: []ds.Position{{Provider: ds.Telness}}}, 5)
	if ds.ErrorCode(err) != ds.CodeBadUserInput || calls != 0 {
		t.Fatalf("err=%v calls=%d", err, calls)
	}
}

func nodes(edges []Edge[int]) []int {
	out := make([]int, len(edges))
	for i, e := range edges {
		out[i] = e.Node
	}
	return out
}

func TestWalkForwardBoundsUpstreamCallsWhenNothingMatches(t *testing.T) {
	calls := 0
	seg := sliceSegment(ds.Kintsugi, seq(0, 10000), 10, &calls, nil)
	seg.Match = func(int) bool { return false }
	w, err := WalkForward(context.Background(), []Segment[int]{seg}, nil, 20)
	if err != nil {
		t.Fatal(err)
	}
	if calls != maxFetchesPerWalk || !w.HasNext || len(w.Edges) != 0 {
		t.Fatalf("calls=%d hasNext=%v edges=%d", calls, w.HasNext, len(w.Edges))
	}
	if w.Resume.Token == "" {
		t.Fatal("resume position did not advance")
	}
}

func TestWalkForwardRejectsAVendorThatDoesNotAdvance(t *testing.T) {
	seg := Segment[int]{Provider: ds.Telness, Fetch: func(ctx context.Context, token string, limit int) (ds.Page[int], error) {
		return ds.Page[int]{Next: "same"}, nil
	}}
	start := ds.Position{Provider: ds.Telness, Token: "same"}
	_, err := WalkForward(context.Background(), []Segment[int]{seg}, &start, 5)
	if ds.ErrorCode(err) != ds.CodeProviderUnavailable {
		t.Fatalf("err = %v", err)
	}
}

func TestWalkForwardHonoursCancellation(t *testing.T) {
	calls := 0
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := WalkForward(ctx, []Segment[int]{sliceSegment(ds.Kintsugi, seq(0, 5), 10, &calls, nil)}, nil, 5)
	if !errors.Is(err, context.Canceled) || calls != 0 {
		t.Fatalf("err=%v calls=%d", err, calls)
	}
}
