package datasource

import (
	"context"
	"fmt"
	"strconv"
	"testing"
)

type decimalPager struct{}

func (decimalPager) OffsetToken(n int) string { return OffsetToken(n) }
func (decimalPager) TokenOffset(t string) (int, error) {
	if t == "" {
		return 0, nil
	}
	return strconv.Atoi(t)
}

func TestWalkBackwardReturnsEveryRecordOnceInOrderAcrossProviders(t *testing.T) {
	for _, last := range []int{1, 3, 7, 25, 100} {
		t.Run(fmt.Sprintf("last %d", last), func(t *testing.T) {
			calls := 0
			var back []backSegment[int]
			var fwd []Segment[int]
			for i, n := range []int{9, 0, 23, 4} {
				seg := sliceSegment(ProviderID(i+1), seq(i*100, n), 5, &calls, nil)
				seg.Match = func(v int) bool { return v%7 != 3 } // an exact post-filter
				fwd = append(fwd, seg)
				back = append(back, backSegment[int]{Segment: seg, reader: offsetReader[int]{seg: seg, pager: decimalPager{}}})
			}
			want := walkAll(t, fwd, 10)
			cc := CursorCodec{Key: []byte("k")}
			var got []int
			var before *Position
			for page := 0; page < 200; page++ {
				w, err := WalkBackward(context.Background(), back, before, last)
				if err != nil {
					t.Fatal(err)
				}
				if len(w.Edges) > last {
					t.Fatalf("%d edges for last %d", len(w.Edges), last)
				}
				var nodes []int
				for _, e := range w.Edges {
					nodes = append(nodes, e.Node)
				}
				got = append(nodes, got...)
				if !w.HasNext { // no previous page
					break
				}
				pos, err := cc.Decode("c", "f", cc.Encode("c", "f", w.Edges[0].After))
				if err != nil {
					t.Fatal(err)
				}
				before = &pos
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("backward walk %v\nforward walk  %v", got, want)
			}
			// A backward page's cursors go forward too: after the first edge
			// of the last page comes the rest of that page.
			w, _ := WalkBackward(context.Background(), back, nil, 3)
			fw, err := WalkForward(context.Background(), fwd, &w.Edges[0].After, 5)
			if err != nil || len(fw.Edges) != 2 || fw.Edges[0].Node != w.Edges[1].Node || fw.HasNext {
				t.Fatalf("forward from a backward cursor: %+v %v", fw.Edges, err)
			}
		})
	}
}
