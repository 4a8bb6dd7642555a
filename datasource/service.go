package datasource

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Pagination limits of the federated connections.
const (
	DefaultFirst  = 20
	MaxFirst      = 100
	MaxFilterIDs  = 100
	maxFilterText = 256
	maxExternalID = 1000
)

// Service is the federation layer: it turns the configured providers into
// one customer connection and one customer-source connection.
type Service struct {
	// Customers holds the configured providers with a customer list.
	Customers map[ProviderID]CustomerProvider
	// Sources is the customer-source provider (CareCloud), nil when not configured.
	Sources SourceProvider
	// Simulated marks providers served by the built-in simulator.
	Simulated map[ProviderID]bool
	Cursors   CursorCodec
	// Denied are providers outside the caller's scope (see Restrict).
	Denied map[ProviderID]bool
	// Index is the identity index (nil when none is kept).
	Index IdentityIndex
	// SyncStatus reports a provider's background sync; ok false when the
	// provider is not synced at all. Nil when there is no syncer.
	SyncStatus func(ctx context.Context, p ProviderID) (st SyncStatus, ok bool)
	// SyncComplete reports whether a full walk of provider p has finished: a
	// single lookup, for the hot path (SyncStatus also counts the index).
	SyncComplete func(ctx context.Context, p ProviderID) bool
	// Calls is each provider's call model, for the cost estimate.
	Calls map[ProviderID]CallModel
	// LookupBudget is how many records one request may look up for links at
	// a provider without a bulk lookup (default DefaultLookupBudget).
	LookupBudget int
	// Synced is the synced store (nil without Postgres), and ServeMaxAge
	// how old each provider's last complete walk may be for it to serve
	// (absent: the provider is not served from it). See synced.go.
	Synced      SyncedStore
	ServeMaxAge map[ProviderID]time.Duration
	// PeopleScopeSet names the configuration people are grouped over (all
	// its providers, whatever an API key may see).
	PeopleScopeSet string
	// Idempotency remembers mutations' idempotency keys and outcomes (nil:
	// keys still reach the vendors, but repeats are not recognised).
	Idempotency IdempotencyStore
}

// DefaultLookupBudget is the per-request, per-provider lookup budget of links.
const DefaultLookupBudget = 20

// LinkLookupBudget is the lookup budget of links in force: LookupBudget, or
// DefaultLookupBudget when it is not set. The loaders spend it and the cost
// estimate charges it, so both read it here.
func (s *Service) LinkLookupBudget() int {
	if s.LookupBudget > 0 {
		return s.LookupBudget
	}
	return DefaultLookupBudget
}

// Scopes are the provider credentials of this service, for index look-ups.
func (s *Service) Scopes() []Scope {
	var out []Scope
	for _, p := range AllProviders {
		if prov, ok := s.Customers[p]; ok {
			c, _ := prov.(Credentialed)
			if c != nil {
				out = append(out, Scope{Provider: p, Credential: c.CredentialID()})
			}
		}
	}
	if s.Sources != nil {
		if c, ok := s.Sources.(Credentialed); ok {
			out = append(out, Scope{Provider: s.Sources.ID(), Credential: c.CredentialID()})
		}
	}
	return out
}

// ConnectionArgs are the Relay arguments of a connection field.
type ConnectionArgs struct {
	First, Last   *int
	After, Before *string
}

// size is the page size a connection asks for, and whether it pages
// backward (last/before); first and last are both checked here so the two
// connections name the argument the caller got wrong alike.
func (a ConnectionArgs) size() (n int, backward bool, err error) { return a.sizeUpTo(MaxFirst) }

// sizeUpTo is size with a page bound of most (the synced path's is larger).
func (a ConnectionArgs) sizeUpTo(most int) (n int, backward bool, err error) {
	backward = a.Last != nil || a.Before != nil
	if backward && (a.First != nil || a.After != nil) {
		return 0, backward, Errorf(CodeBadUserInput, "page with first/after or with last/before, not both")
	}
	name, v := "first", a.First
	if backward {
		name, v = "last", a.Last
	}
	if v == nil {
		return DefaultFirst, backward, nil
	}
	if *v < 1 || *v > most {
		msg := ""
		if most == MaxFirst && *v > MaxFirst {
			msg = fmt.Sprintf(" (up to %d when every selected provider is served from the synced store)", MaxSyncedFirst)
		}
		return 0, backward, Errorf(CodeBadUserInput, "%s must be between 1 and %d, got %d%s", name, most, *v, msg)
	}
	return *v, backward, nil
}

// NormalizeFilter validates a filter and puts it in canonical form (so equal
// filters have equal cursor fingerprints). Bad input is BAD_USER_INPUT.
func NormalizeFilter(f Filter) (Filter, error) {
	seen := map[ProviderID]bool{}
	var ps []ProviderID
	for _, p := range f.Providers {
		if !p.Valid() {
			return f, Errorf(CodeBadUserInput, "unknown provider %d", p)
		}
		if !seen[p] {
			seen[p] = true
			ps = append(ps, p)
		}
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
	f.Providers = ps
	if f.Email != nil {
		e := strings.TrimSpace(*f.Email)
		if e == "" || len(e) > 254 || !strings.Contains(e, "@") {
			return f, Errorf(CodeBadUserInput, "filter.email %s is not an email address", quoteShort(*f.Email))
		}
		e = strings.ToLower(e)
		f.Email = &e
	}
	if f.Search != nil {
		q := strings.TrimSpace(*f.Search)
		if q == "" {
			f.Search = nil
		} else if len(q) > maxFilterText || !utf8.ValidString(q) {
			return f, Errorf(CodeBadUserInput, "filter.search must be valid text of at most %d bytes", maxFilterText)
		} else {
			f.Search, f.searchKey = &q, Fold(q)
		}
	}
	if f.Country != nil {
		var cs []string
		have := map[string]bool{}
		for _, c := range f.Country {
			u, ok := alpha2(strings.ToUpper(strings.TrimSpace(c)))
			if !ok {
				return f, Errorf(CodeBadUserInput, "filter.country %s is not an ISO 3166-1 alpha-2 code", quoteShort(c))
			}
			if !have[u] {
				have[u] = true
				cs = append(cs, u)
			}
		}
		if len(cs) == 0 {
			return f, Errorf(CodeBadUserInput, "filter.country must name at least one country")
		}
		sort.Strings(cs)
		f.Country = cs
	}
	if len(f.IDs) > MaxFilterIDs {
		return f, Errorf(CodeBadUserInput, "filter.ids takes at most %d ids, got %d", MaxFilterIDs, len(f.IDs))
	}
	return f, nil
}

// SelectedProviders returns the configured customer providers the filter
// selects, in enum order, warning about selected ones that cannot take part.
func (s *Service) selectedProviders(ctx context.Context, f Filter) ([]ProviderID, error) {
	for _, k := range f.IDs {
		if s.Denied[k.Provider] {
			return nil, s.Unavailable(k.Provider) // an id outside the key is refused, not dropped
		}
	}
	var out []ProviderID
	for _, p := range AllProviders {
		if !f.Selects(p) {
			continue
		}
		if _, ok := s.Customers[p]; ok {
			out = append(out, p)
			continue
		}
		if len(f.Providers) == 0 {
			continue // not configured and not asked for: nothing to say
		}
		if s.Denied[p] {
			return nil, s.Unavailable(p)
		}
		msg := p.String() + " is not configured in this gateway; left out"
		if p == CareCloud && s.Sources != nil {
			msg = "CARECLOUD has no customer list (it holds customer source records: see customerSources); left out"
		}
		pp := p
		Warn(ctx, Warning{Code: CodeUnsupportedByProvider, Provider: &pp, Message: msg})
	}
	return out, nil
}

// ListCustomers returns one page of the federated customer list.
func (s *Service) ListCustomers(ctx context.Context, a ConnectionArgs, f Filter, o *Order) (*CustomerConnection, error) {
	f, err := NormalizeFilter(f)
	if err != nil {
		return nil, err
	}
	provs, err := s.selectedProviders(ctx, f)
	if err != nil {
		return nil, err
	}
	fp := Fingerprint(struct {
		F Filter
		O *Order
	}{f, o})
	if conn, handled, err := s.listSynced(ctx, a, f, o, provs, fp); handled {
		return conn, err
	}
	first, backward, err := a.size()
	if err != nil {
		return nil, err
	}
	if o != nil {
		for _, p := range provs {
			if err := s.Customers[p].Capabilities().CanOrder(*o); err != nil {
				return nil, s.orderNeedsSync(p, err)
			}
		}
	}
	merged := o != nil && len(provs) > 1
	kind := "c"
	if merged {
		kind = "m" // a k-way merge: the cursor holds every provider's place
	}

	var segs []Segment[*Customer]
	for _, p := range provs {
		prov := s.Customers[p]
		if err := prov.Capabilities().CanFilter(f); err != nil {
			pp := p
			Warn(ctx, Warning{Code: CodeUnsupportedByProvider, Provider: &pp, Message: err.Error()})
			continue
		}
		if len(f.IDs) > 0 {
			if ids := f.IDsFor(p); len(ids) > 0 {
				segs = append(segs, idsSegment(prov, ids, f.Match, o))
			}
			continue
		}
		warnAccentSensitive(ctx, prov, f)
		seg := listSegment(prov, f, o, s.Calls[p].ListPage)
		seg.Count = s.orSyncedCount(p, f, seg.Count)
		segs = append(segs, seg)
	}
	if backward {
		return s.listBackward(ctx, provs, segs, f, o, fp, a.Before, first)
	}
	var start *Position
	if a.After != nil {
		pos, err := s.Cursors.Decode(kind, fp, *a.After)
		if err != nil {
			return nil, err
		}
		start = &pos
	}
	start, earlier := earlierMatch(start)
	var w Walk[*Customer]
	if merged {
		var places []Position
		if start != nil {
			places = decodeMerge(*start)
		}
		w, err = MergeForward(ctx, segs, places, first, CustomerLess(*o))
	} else {
		w, err = WalkForward(ctx, segs, start, first)
	}
	if err != nil {
		return nil, err
	}
	conn := &CustomerConnection{Edges: customerEdges(w.Edges, &cursorMint{s.Cursors, kind, fp})}
	conn.PageInfo = s.pageInfo(fp, kind, earlier, w.HasNext, w.Resume, len(w.Edges),
		func(i int) string { return conn.Edges[i].Cursor() })
	conn.PartialErrors = append(conn.PartialErrors, w.Errs...)
	conn.PageInfo = endsWhenOnlyFailuresRemain(conn.PageInfo, len(conn.Edges), w.Errs)
	warnScanBound(ctx, w.Bounded, false)
	conn.count = countSegments(segs, w.Totals)
	return conn, nil
}

// listBackward serves last/before: every selected provider must page
// backward (offset arithmetic), in a list that is not a merge or an id list.
func (s *Service) listBackward(ctx context.Context, provs []ProviderID, segs []Segment[*Customer], f Filter, o *Order, fp string, before *string, last int) (*CustomerConnection, error) {
	if o != nil && len(provs) > 1 {
		return nil, s.unsupported(provs, "backward pagination (last/before) of an orderBy across several providers")
	}
	if len(f.IDs) > 0 {
		return nil, Errorf(CodeUnsupportedByProvider, "backward pagination (last/before) with filter.ids is not supported: page forward")
	}
	var back []backSegment[*Customer]
	for _, seg := range segs {
		prov := s.Customers[seg.Provider]
		switch caps := prov.Capabilities(); caps.Backward {
		case BackwardOffset:
			back = append(back, backSegment[*Customer]{Segment: seg, reader: offsetReader[*Customer]{seg: seg, parse: caps.ParseOffset}})
			continue
		case BackwardNative:
			back = append(back, backSegment[*Customer]{Segment: seg, reader: listerReader{p: seg.Provider, l: caps.ListBefore, f: f}})
			continue
		}
		p := seg.Provider
		return nil, &Error{Code: CodeUnsupportedByProvider, Provider: &p, Message: fmt.Sprintf(
			"backward pagination (last/before) is not supported by %s: its list pages forward only", p)}
	}
	var pos *Position
	if before != nil {
		p, err := s.Cursors.Decode("c", fp, *before)
		if err != nil {
			return nil, err
		}
		pos = &p
	}
	w, err := WalkBackward(ctx, back, pos, last)
	if err != nil {
		return nil, err
	}
	conn := &CustomerConnection{Edges: customerEdges(w.Edges, &cursorMint{s.Cursors, "c", fp})}
	conn.PageInfo = backwardPageInfo(w.HasNext, before != nil, len(conn.Edges), func(i int) string { return conn.Edges[i].Cursor() })
	warnScanBound(ctx, w.Bounded, true)
	conn.count = countSegments(segs, w.Totals)
	return conn, nil
}

// endsWhenOnlyFailuresRemain keeps a walk from looping: a page with no
// edges because the only providers left failed says hasNextPage false, and
// keeps the endCursor that resumes exactly there; its errors say which
// providers failed and, where known, when to retry (extensions.retryAfter).
func endsWhenOnlyFailuresRemain(pi PageInfo, edges int, errs []error) PageInfo {
	if edges == 0 && pi.HasNextPage && len(errs) > 0 {
		pi.HasNextPage = false
	}
	return pi
}

// backwardPageInfo is a last/before page's info: the cursors of its first
// and last edges, whether records come before it, and whether any come after
// (always, when it ends at a before cursor).
func backwardPageInfo(hasPrev, hasNext bool, n int, cursor func(int) string) PageInfo {
	pi := PageInfo{HasPreviousPage: hasPrev, HasNextPage: hasNext}
	if n > 0 {
		sc, ec := cursor(0), cursor(n-1)
		pi.StartCursor, pi.EndCursor = &sc, &ec
	}
	return pi
}

func (s *Service) pageInfo(fp, kind string, hasPrev, hasNext bool, resume Position, n int, cursor func(int) string) PageInfo {
	pi := PageInfo{HasNextPage: hasNext, HasPreviousPage: hasPrev}
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

func (s *Service) unsupported(provs []ProviderID, what string) error {
	if len(provs) == 0 {
		return Errorf(CodeUnsupportedByProvider, "%s is not supported", what)
	}
	p := provs[0]
	return &Error{Code: CodeUnsupportedByProvider, Provider: &p,
		Message: fmt.Sprintf("%s is not supported by %s", what, joinProviders(provs))}
}

func joinProviders(ps []ProviderID) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.String()
	}
	return strings.Join(names, ", ")
}

// maxEmailScanPage bounds the page an email-filtered walk reads.
const maxEmailScanPage = 100

// listSegment reads prov's list. An email-filtered walk reads pages of the
// vendor's largest size (vendorPage, from its CallModel), up to
// maxEmailScanPage, whatever first is: where the vendor cannot apply the
// email filter and it is post-filtered, "find this person" is then answered
// in a few calls, not an empty page after 25 calls of first+1 records; where
// the vendor applies it, the page holds the few matches either way. The size is the same on every page of a walk, so
// cursors and cache entries stay stable. search and country keep first+1:
// they are exploratory, and large pages would multiply what a costly query
// of many aliases holds (issue 8).
func listSegment(prov CustomerProvider, f Filter, o *Order, vendorPage int) Segment[*Customer] {
	scan := 0
	if f.Email != nil {
		scan = min(vendorPage, maxEmailScanPage)
	}
	fetch := func(ctx context.Context, token string, limit int) (Page[*Customer], error) {
		return prov.ListCustomers(ctx, ListRequest[Filter]{Token: token, Limit: max(limit, scan), Filter: f, Order: o})
	}
	return Segment[*Customer]{
		Provider: prov.ID(),
		Fetch:    fetch,
		Match:    f.Match,
		Page:     vendorPage,
		Exact:    prov.Capabilities().ExactNext && f.Email == nil && f.Search == nil && len(f.Country) == 0 && len(f.IDs) == 0,
		Count: func(ctx context.Context) (*int, error) {
			page, err := fetch(ctx, "", 1)
			if err != nil {
				return nil, err
			}
			return page.Total, nil
		},
	}
}

// idsSegment serves filter.ids from batched lookups: the token is an offset
// into the provider's requested ids, in the order the client gave them.
func idsSegment(prov CustomerProvider, ids []string, match func(*Customer) bool, o *Order) Segment[*Customer] {
	fetch := func(ctx context.Context, token string, limit int) (Page[*Customer], error) {
		off := 0
		if token != "" {
			n, err := strconv.Atoi(token)
			if err != nil || n < 0 || n > len(ids) {
				return Page[*Customer]{}, Errorf(CodeBadUserInput, "invalid cursor")
			}
			off = n
		}
		if o != nil {
			// Ordered: look all of them up (at most MaxFilterIDs, batched)
			// and sort, so offsets index one stable order; the page is a
			// slice of what the lookup returned, with no second lookup.
			got, err := GetCustomersBatched(ctx, prov, ids)
			if err != nil {
				return Page[*Customer]{}, err
			}
			sort.SliceStable(got, func(i, j int) bool { return CustomerLess(*o)(got[i], got[j]) })
			off = min(off, len(got))
			end := min(off+limit, len(got))
			page := Page[*Customer]{Items: got[off:end:end]}
			if end < len(got) {
				page.Next = strconv.Itoa(end)
			}
			return page, nil
		}
		end := min(off+limit, len(ids))
		got, err := GetCustomersBatched(ctx, prov, ids[off:end])
		if err != nil {
			return Page[*Customer]{}, err
		}
		byID := make(map[string]*Customer, len(got))
		for _, c := range got {
			byID[c.ProviderID] = c
		}
		var page Page[*Customer]
		for _, id := range ids[off:end] {
			if c := byID[id]; c != nil {
				page.Items = append(page.Items, c)
			}
		}
		if end < len(ids) {
			page.Next = strconv.Itoa(end)
		}
		return page, nil
	}
	return Segment[*Customer]{
		Provider: prov.ID(),
		Fetch:    fetch,
		Match:    match,
		Count: func(ctx context.Context) (*int, error) {
			page, err := fetch(ctx, "", len(ids))
			if err != nil {
				return nil, err
			}
			n := 0
			for _, c := range page.Items {
				if match(c) {
					n++
				}
			}
			return &n, nil
		},
	}
}

// GetCustomersBatched calls GetCustomers in chunks of the provider's loader cap.
func GetCustomersBatched(ctx context.Context, prov CustomerProvider, ids []string) ([]*Customer, error) {
	size := max(1, prov.Capabilities().LoaderCap)
	var out []*Customer
	for i := 0; i < len(ids); i += size {
		got, err := prov.GetCustomers(ctx, ids[i:min(i+size, len(ids))])
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

// countSegments sums exact totals; any provider that cannot count makes it nil.
func countSegments[T any](segs []Segment[T], known map[ProviderID]int) func(context.Context) (*int, error) {
	return func(ctx context.Context) (*int, error) {
		sum := 0
		for _, seg := range segs {
			if n, ok := known[seg.Provider]; ok {
				sum += n
				continue
			}
			if seg.Count == nil {
				return nil, nil
			}
			n, err := seg.Count(ctx)
			if err != nil {
				return nil, err
			}
			if n == nil {
				return nil, nil
			}
			sum += *n
		}
		return &sum, nil
	}
}

// ListSources returns one page of the customer-source list.
func (s *Service) ListSources(ctx context.Context, a ConnectionArgs, f SourceFilter) (*CustomerSourceConnection, error) {
	first, backward, err := a.size()
	if err != nil {
		return nil, err
	}
	if len(f.ExternalIDs) > maxExternalID {
		return nil, Errorf(CodeBadUserInput, "filter.externalIds takes at most %d ids", maxExternalID)
	}
	for _, v := range []*string{f.CustomerID, f.SourceID} {
		if v != nil && (*v == "" || len(*v) > maxFilterText) {
			return nil, Errorf(CodeBadUserInput, "filter.customerId and filter.sourceId must be non-empty ids of at most %d bytes", maxFilterText)
		}
	}
	fp := Fingerprint(f)
	var start *Position
	if cur := a.After; cur != nil || a.Before != nil {
		if cur == nil {
			cur = a.Before
		}
		pos, err := s.Cursors.Decode("s", fp, *cur)
		if err != nil {
			return nil, err
		}
		start = &pos
	}
	conn := &CustomerSourceConnection{}
	if s.Denied[CareCloud] {
		return nil, s.Unavailable(CareCloud)
	}
	if s.Sources == nil {
		p := CareCloud
		Warn(ctx, Warning{Code: CodeUnsupportedByProvider, Provider: &p, Message: "CARECLOUD is not configured in this gateway: there are no customer source records"})
		return conn, nil
	}
	src := s.Sources
	fetch := func(ctx context.Context, token string, limit int) (Page[*CustomerSource], error) {
		return src.ListSources(ctx, ListRequest[SourceFilter]{Token: token, Limit: limit, Filter: f})
	}
	segs := []Segment[*CustomerSource]{{
		Provider: src.ID(),
		Fetch:    fetch,
		Match:    f.Match,
		Count: func(ctx context.Context) (*int, error) {
			page, err := fetch(ctx, "", 1)
			return page.Total, err
		},
	}}
	if backward {
		caps := src.Capabilities()
		if caps.Backward != BackwardOffset {
			p := src.ID()
			return nil, &Error{Code: CodeUnsupportedByProvider, Provider: &p, Message: p.String() + " cannot page its source records backward"}
		}
		w, err := WalkBackward(ctx, []backSegment[*CustomerSource]{{Segment: segs[0], reader: offsetReader[*CustomerSource]{seg: segs[0], parse: caps.ParseOffset}}}, start, first)
		if err != nil {
			return nil, err
		}
		conn.Edges = sourceEdges(w.Edges, &cursorMint{s.Cursors, "s", fp})
		conn.PageInfo = backwardPageInfo(w.HasNext, start != nil, len(conn.Edges), func(i int) string { return conn.Edges[i].Cursor() })
		conn.count = countSegments(segs, nil)
		return conn, nil
	}
	start, earlier := earlierMatch(start)
	w, err := WalkForward(ctx, segs, start, first)
	if err != nil {
		return nil, err
	}
	conn.Edges = sourceEdges(w.Edges, &cursorMint{s.Cursors, "s", fp})
	conn.PageInfo = s.pageInfo(fp, "s", earlier, w.HasNext, w.Resume, len(w.Edges),
		func(i int) string { return conn.Edges[i].Cursor() })
	conn.PartialErrors = append(conn.PartialErrors, w.Errs...)
	conn.PageInfo = endsWhenOnlyFailuresRemain(conn.PageInfo, len(conn.Edges), w.Errs)
	conn.count = countSegments(segs, w.Totals)
	return conn, nil
}

// IsNotFound reports whether err means the record does not exist.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == CodeNotFound
}

// Writer returns provider p's write side, or UNSUPPORTED_BY_PROVIDER.
func (s *Service) Writer(p ProviderID) (CustomerWriter, error) {
	if err := s.Unavailable(p); err != nil {
		return nil, err
	}
	prov := s.Customers[p]
	w, ok := prov.(CustomerWriter)
	if !ok || !prov.Capabilities().Writes {
		return nil, ProviderErrorf(p, CodeUnsupportedByProvider, "%s does not support writing customers", p)
	}
	return w, nil
}

// Attacher returns provider p's payment-source side, or UNSUPPORTED_BY_PROVIDER.
func (s *Service) Attacher(p ProviderID, sourceID string) (SourceAttacher, error) {
	if sourceID == "" || len(sourceID) > maxFilterText {
		return nil, Errorf(CodeBadUserInput, "sourceId must be a non-empty id of at most %d bytes", maxFilterText)
	}
	if err := s.Unavailable(p); err != nil {
		return nil, err
	}
	prov := s.Customers[p]
	a, ok := prov.(SourceAttacher)
	if !ok || !prov.Capabilities().Attaches {
		return nil, ProviderErrorf(p, CodeUnsupportedByProvider, "%s has no payment sources to attach or detach", p)
	}
	return a, nil
}

// DedupeErrors keeps one error per provider and code, so a failing provider
// is reported once rather than once per node.
func DedupeErrors(errs []error) []error {
	type key struct {
		p    ProviderID
		ok   bool
		code Code
	}
	seen := map[key]bool{}
	var out []error
	for _, err := range errs {
		p, ok := ErrorProvider(err)
		k := key{p, ok, ErrorCode(err)}
		if !seen[k] {
			seen[k] = true
			out = append(out, err)
		}
	}
	return out
}

// Restrict returns a view of the service limited to the allowed providers
// (an API key's scope). Asking for another provider is FORBIDDEN.
func (s *Service) Restrict(allowed []ProviderID) *Service {
	ok := map[ProviderID]bool{}
	for _, p := range allowed {
		ok[p] = true
	}
	v := &Service{Customers: map[ProviderID]CustomerProvider{}, Simulated: s.Simulated, Cursors: s.Cursors, Denied: map[ProviderID]bool{},
		Index: s.Index, SyncStatus: s.SyncStatus, SyncComplete: s.SyncComplete, LookupBudget: s.LookupBudget, Calls: s.Calls,
		Synced: s.Synced, ServeMaxAge: s.ServeMaxAge, PeopleScopeSet: s.PeopleScopeSet, Idempotency: s.Idempotency}
	for _, p := range AllProviders {
		if !ok[p] {
			v.Denied[p] = true
		}
	}
	for p, prov := range s.Customers {
		if ok[p] {
			v.Customers[p] = prov
		}
	}
	if s.Sources != nil && ok[s.Sources.ID()] {
		v.Sources = s.Sources
	}
	return v
}

// Unavailable explains why provider p cannot be used in this request:
// FORBIDDEN for a provider outside the caller's scope, NOT_FOUND-style for
// one this gateway does not serve; nil when it can be used.
func (s *Service) Unavailable(p ProviderID) error {
	if s.Denied[p] {
		return ProviderErrorf(p, CodeForbidden, "this API key may not use %s", p)
	}
	if _, ok := s.Customers[p]; ok {
		return nil
	}
	if s.Sources != nil && s.Sources.ID() == p {
		return nil
	}
	return ProviderErrorf(p, CodeNotFound, "%s is not configured in this gateway", p)
}
