package datasource

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
)

// sliceSegment serves items in pages of pageSize with offset tokens; fail
// makes the fetch at that offset fail once.
func sliceSegment(p ProviderID, items []int, pageSize int, calls *int, failAt map[int]error) Segment[int] {
	return Segment[int]{
		Provider: p,
		Fetch: func(ctx context.Context, token string, limit int) (Page[int], error) {
			*calls++
			off := 0
			if token != "" {
				off, _ = strconv.Atoi(token)
			}
			if err, ok := failAt[off]; ok {
				delete(failAt, off)
				return Page[int]{}, err
			}
			n := min(limit, pageSize)
			end := min(off+n, len(items))
			page := Page[int]{Items: items[off:end]}
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
	var pos *Position
	for i := 0; i < 10000; i++ {
		w, err := WalkForward(context.Background(), segs, pos, first)
		if err != nil {
			t.Fatal(err)
		}
		if w.Err != nil {
			t.Fatal(w.Err)
		}
		if len(w.Edges) > first {
			t.Fatalf("page of %d edges for first=%d", len(w.Edges), first)
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
				segs = append(segs, sliceSegment(ProviderID(i+1), items, tc.pageSizes[i], &calls, nil))
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
	seg := sliceSegment(Kintsugi, seq(0, 100), 10, &calls, nil)
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

func TestWalkForwardStopsAtAFailingProviderWithDataBeforeItAndResumesThere(t *testing.T) {
	calls := 0
	boom := ProviderErrorf(DigitalRiver, CodeProviderUnavailable, "down")
	segs := []Segment[int]{
		sliceSegment(Kintsugi, seq(0, 5), 10, &calls, nil),
		sliceSegment(DigitalRiver, seq(100, 5), 10, &calls, map[int]error{0: boom}),
	}
	w, err := WalkForward(context.Background(), segs, nil, 8)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(w.Err, boom) || !w.HasNext || len(w.Edges) != 5 {
		t.Fatalf("edges=%d hasNext=%v err=%v", len(w.Edges), w.HasNext, w.Err)
	}
	if w.Resume.Provider != DigitalRiver {
		t.Fatalf("resume at %v, want DIGITAL_RIVER", w.Resume.Provider)
	}
	r := w.Resume
	w, err = WalkForward(context.Background(), segs, &r, 8)
	if err != nil || w.Err != nil {
		t.Fatal(err, w.Err)
	}
	if len(w.Edges) != 5 || w.Edges[0].Node != 100 || w.HasNext {
		t.Fatalf("after retry: %d edges starting %v, hasNext %v", len(w.Edges), w.Edges, w.HasNext)
	}
}

func TestWalkForwardBoundsUpstreamCallsWhenNothingMatches(t *testing.T) {
	calls := 0
	seg := sliceSegment(Kintsugi, seq(0, 10000), 10, &calls, nil)
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
	seg := Segment[int]{Provider: Telness, Fetch: func(ctx context.Context, token string, limit int) (Page[int], error) {
		return Page[int]{Next: "same"}, nil
	}}
	start := Position{Provider: Telness, Token: "same"}
	_, err := WalkForward(context.Background(), []Segment[int]{seg}, &start, 5)
	if ErrorCode(err) != CodeProviderUnavailable {
		t.Fatalf("err = %v", err)
	}
}

func TestWalkForwardHonoursCancellation(t *testing.T) {
	calls := 0
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := WalkForward(ctx, []Segment[int]{sliceSegment(Kintsugi, seq(0, 5), 10, &calls, nil)}, nil, 5)
	if !errors.Is(err, context.Canceled) || calls != 0 {
		t.Fatalf("err=%v calls=%d", err, calls)
	}
}
