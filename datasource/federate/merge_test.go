package federate

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"testing"

	ds "github.com/federated-customers/gateway/datasource"
)

type rec struct{ v, p int }

// sortedSegment serves items (already in order) in pages of pageSize.
func sortedSegment(p ds.ProviderID, items []rec, pageSize int, fail error) Segment[rec] {
	return Segment[rec]{
		Provider: p,
		Fetch: func(ctx context.Context, token string, limit int) (ds.Page[rec], error) {
			if fail != nil {
				return ds.Page[rec]{}, fail
			}
			off, _ := strconv.Atoi(token)
			end := min(off+min(limit, pageSize), len(items))
			page := ds.Page[rec]{Items: items[off:end]}
			if end < len(items) {
				page.Next = strconv.Itoa(end)
			}
			return page, nil
		},
	}
}

func recs(p, n, step, from int) []rec {
	out := make([]rec, n)
	for i := range out {
		out[i] = rec{from + i*step, p}
	}
	return out
}

func lessRec(a, b rec) bool { return a.v < b.v || a.v == b.v && a.p < b.p }

// mergeAll walks a merged list page by page through real cursors.
func mergeAll(t *testing.T, segs []Segment[rec], first int) []rec {
	t.Helper()
	cc := CursorCodec{Key: []byte("k")}
	var out []rec
	var start []ds.Position
	for page := 0; page < 1000; page++ {
		w := pageOf[rec](t, first)(MergeForward(context.Background(), segs, start, first, lessRec))
		for _, e := range w.Edges {
			out = append(out, e.Node)
		}
		if !w.HasNext {
			// the cursor of the last record goes on to an empty page
			if len(w.Edges) > 0 {
				last, err := cc.Decode("m", "f", cc.Encode("m", "f", w.Edges[len(w.Edges)-1].After))
				if err != nil {
					t.Fatal(err)
				}
				rest, err := MergeForward(context.Background(), segs, decodeMerge(last), first, lessRec)
				if err != nil || len(rest.Edges) != 0 || rest.HasNext {
					t.Fatalf("after the last record: %d edges, hasNext %v, %v", len(rest.Edges), rest.HasNext, err)
				}
			}
			return out
		}
		pos, err := cc.Decode("m", "f", cc.Encode("m", "f", w.Resume))
		if err != nil {
			t.Fatal(err)
		}
		start = decodeMerge(pos)
	}
	t.Fatal("the walk did not end")
	return nil
}

func TestMergeForwardReturnsEveryRecordOnceInOrder(t *testing.T) {
	for _, tc := range []struct {
		name      string
		pageSizes []int
		first     int
	}{
		{"small pages, small first", []int{3, 5, 7}, 4},
		{"vendor pages smaller than first", []int{2, 25, 10}, 20},
		{"first larger than every list", []int{100, 100, 100}, 100},
		{"first of one", []int{4, 1, 9}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lists := [][]rec{recs(1, 40, 3, 0), recs(3, 25, 5, 1), recs(4, 7, 11, 2)}
			var segs []Segment[rec]
			var want []rec
			for i, l := range lists {
				segs = append(segs, sortedSegment(ds.ProviderID(i+1), l, tc.pageSizes[i], nil))
				want = append(want, l...)
			}
			// give the segments provider ids matching the records'
			for i := range segs {
				segs[i].Provider = ds.ProviderID(lists[i][0].p)
			}
			sort.Slice(want, func(i, j int) bool { return lessRec(want[i], want[j]) })
			got := mergeAll(t, segs, tc.first)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("got %d records %v\nwant %d %v", len(got), got, len(want), want)
			}
		})
	}
}

func TestMergeForwardFiltersExactlyAndFailsOnAProviderError(t *testing.T) {
	a, b := recs(1, 30, 2, 0), recs(2, 30, 3, 0)
	even := func(r rec) bool { return r.v%2 == 0 }
	segs := []Segment[rec]{sortedSegment(1, a, 7, nil), sortedSegment(2, b, 4, nil)}
	for i := range segs {
		segs[i].Match = even
	}
	var want []rec
	for _, r := range append(append([]rec(nil), a...), b...) {
		if even(r) {
			want = append(want, r)
		}
	}
	sort.Slice(want, func(i, j int) bool { return lessRec(want[i], want[j]) })
	if got := mergeAll(t, segs, 6); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("filtered merge: %v, want %v", got, want)
	}
	boom := ds.ProviderErrorf(2, ds.CodeProviderUnavailable, "down")
	_, err := MergeForward(context.Background(), []Segment[rec]{sortedSegment(1, a, 7, nil), sortedSegment(2, b, 4, boom)}, nil, 5, lessRec)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the provider's failure (leaving it out would misorder)", err)
	}
	if _, err := MergeForward(context.Background(), segs, []ds.Position{{Provider: ds.Telness}}, 5, lessRec); ds.ErrorCode(err) != ds.CodeBadUserInput {
		t.Fatalf("a cursor naming a provider outside the list: %v, want BAD_USER_INPUT", err)
	}
}

func TestCustomerLessOrdersByFieldWithMissingValuesLast(t *testing.T) {
	s := func(v string) *string { return &v }
	cs := []*ds.Customer{
		{Provider: ds.Telness, ProviderID: "t1", Email: s("b@x")},
		{Provider: ds.Kintsugi, ProviderID: "k1"},
		{Provider: ds.CommerceLayer, ProviderID: "c1", Email: s("A@x")},
		{Provider: ds.Kintsugi, ProviderID: "k2", Email: s("b@x")},
	}
	sort.SliceStable(cs, func(i, j int) bool { return CustomerLess(ds.Order{Field: ds.OrderEmail})(cs[i], cs[j]) })
	var got []string
	for _, c := range cs {
		got = append(got, c.ProviderID)
	}
	if fmt.Sprint(got) != "[c1 k2 t1 k1]" {
		t.Fatalf("order = %v, want [c1 k2 t1 k1] (case-insensitive, ties by provider, no email last)", got)
	}
}
