package federate

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	ds "github.com/federated-customers/gateway/datasource"
)

func parseDecimal(t string) (int, error) {
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
				seg := sliceSegment(ds.ProviderID(i+1), seq(i*100, n), 5, &calls, nil)
				seg.Match = func(v int) bool { return v%7 != 3 } // an exact post-filter
				fwd = append(fwd, seg)
				back = append(back, backSegment[int]{Segment: seg, reader: offsetReader[int]{seg: seg, parse: parseDecimal}})
			}
			want := walkAll(t, fwd, 10)
			cc := CursorCodec{Key: []byte("k")}
			var got []int
			var before *ds.Position
			for page := 0; page < 200; page++ {
				w := pageOf[int](t, last)(WalkBackward(context.Background(), back, before, last))
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

// A last page read from the end keeps the lengths it learned, so its
// totalCount asks only the providers it did not reach.
func TestALastPagesTotalCountAsksNoProviderTwice(t *testing.T) {
	calls := map[ds.ProviderID]*int{}
	var back []backSegment[int]
	var segs []Segment[int]
	for i, n := range []int{9, 4} {
		p := ds.ProviderID(i + 1)
		calls[p] = new(int)
		seg := sliceSegment(p, seq(i*100, n), 5, calls[p], nil)
		seg.Count = func(ctx context.Context) (*int, error) {
			page, err := seg.Fetch(ctx, "", 1)
			return page.Total, err
		}
		segs = append(segs, seg)
		back = append(back, backSegment[int]{Segment: seg, reader: offsetReader[int]{seg: seg, parse: parseDecimal}})
	}
	for _, tc := range []struct {
		name      string
		last      int
		wantCalls [2]int // after the page and its totalCount, per provider
		wantEdges int
	}{
		{"inside the last provider", 3, [2]int{1, 2}, 3},
		{"across both providers", 6, [2]int{2, 2}, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			*calls[1], *calls[2] = 0, 0
			w, err := WalkBackward(context.Background(), back, nil, tc.last)
			if err != nil || len(w.Edges) != tc.wantEdges {
				t.Fatalf("%d edges, err %v", len(w.Edges), err)
			}
			total, err := countSegments(segs, w.Totals)(context.Background())
			if err != nil || total == nil || *total != 13 {
				t.Fatalf("total %v, err %v; want 13", total, err)
			}
			if got := [2]int{*calls[1], *calls[2]}; got != tc.wantCalls {
				t.Errorf("calls per provider %v, want %v", got, tc.wantCalls)
			}
		})
	}
}
