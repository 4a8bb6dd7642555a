package federate

import (
	"context"
	"fmt"

	ds "github.com/federated-customers/gateway/datasource"
)

// warnScanBound says why a page stopped before it was full while saying
// more may follow: its exact post-filter read as many upstream pages of
// provider p as one page may (maxFetchesPerWalk) without filling it. A
// forward page's hasNextPage, or a backward page's hasPreviousPage, then
// means "may be", not "is".
func warnScanBound(ctx context.Context, p *ds.ProviderID, backward bool) {
	if p == nil {
		return
	}
	how := "hasNextPage is true because records remain to be read there: page on with after: endCursor"
	if backward {
		how = "hasPreviousPage is true because records remain to be read there (some may not match): page on with before: startCursor"
	}
	ds.Warn(ctx, ds.Warning{Code: ds.CodeQueryTooComplex, Provider: p, Message: fmt.Sprintf(
		"%s: this page read %d upstream pages, the most one page may, without finding enough matching records; %s", *p, maxFetchesPerWalk, how)})
}

// earlierMatch reads a forward page's start: whether a matching record
// comes before it (hasPreviousPage), and the start to walk from, without
// the NoneBefore mark (the page's edges have records before them).
func earlierMatch(start *ds.Position) (*ds.Position, bool) {
	if start == nil {
		return nil, false
	}
	if !start.NoneBefore {
		return start, true
	}
	s := *start
	s.NoneBefore = false
	return &s, false
}
