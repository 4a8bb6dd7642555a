// Page info: cursors, hasNext/hasPrevious, and the scan-bound warning.

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

// endsWhenOnlyFailuresRemain keeps a walk from looping: a page with no
// edges because the only providers left failed says hasNextPage false, and
// keeps the endCursor that resumes exactly there; its errors say which
// providers failed and, where known, when to retry (extensions.retryAfter).
func endsWhenOnlyFailuresRemain(pi ds.PageInfo, edges int, errs []error) ds.PageInfo {
	if edges == 0 && pi.HasNextPage && len(errs) > 0 {
		pi.HasNextPage = false
	}
	return pi
}

// backwardPageInfo is a last/before page's info: the cursors of its first
// and last edges, whether records come before it, and whether any come after
// (always, when it ends at a before cursor).
func backwardPageInfo(hasPrev, hasNext bool, n int, cursor func(int) string) ds.PageInfo {
	pi := ds.PageInfo{HasPreviousPage: hasPrev, HasNextPage: hasNext}
	if n > 0 {
		sc, ec := cursor(0), cursor(n-1)
		pi.StartCursor, pi.EndCursor = &sc, &ec
	}
	return pi
}

func (s *Service) pageInfo(fp, kind string, hasPrev, hasNext bool, resume ds.Position, n int, cursor func(int) string) ds.PageInfo {
	pi := ds.PageInfo{HasNextPage: hasNext, HasPreviousPage: hasPrev}
	if n > 0 {
		sc, ec := cursor(0), cursor(n-1)
		pi.StartCursor, pi.EndCursor = &sc, &ec
	}
	if hasNext && n == 0 {
		resume.NoneBefore = !hasPrev
		// No edge to take a cursor from: the resume position (past skipped
		// non-matching records, or a provider that failed) goes on. With
		// edges, endCursor is the last edge's cursor, as Relay says; going
		// on from it reads the skipped records again (cached) and nothing
		// is lost or repeated.
		ec := s.Cursors.Encode(kind, fp, resume)
		pi.EndCursor = &ec
	}
	return pi
}
