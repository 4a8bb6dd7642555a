package datasource

import (
	"context"
	"errors"
	"fmt"
)

// Capabilities is what one vendor's API can do, declared once in its
// package (datasource/<vendor>/caps.go). The engine, the cache's
// forwarding, the call model of the cost estimate and the conformance
// suite read it; the suite checks it against what the client really does.
type Capabilities struct {
	// Provider is the vendor the value describes (messages name it).
	Provider ProviderID
	// PageLimit is the most records one list call returns: walks size
	// their pages by it and the estimate counts list calls by it.
	PageLimit int
	// LookupBatch is how many ids one lookup call carries: the bulk id
	// filter's size, or 1 where every id is a GET of its own.
	LookupBatch int
	// LoaderCap is the most ids one GetCustomers call is given (the
	// dataloaders' batch): LookupBatch for a bulk filter, larger where the
	// client fans single GETs out itself. Not a call count.
	LoaderCap int
	// ExactNext: Page.Next is set only when at least one more record
	// follows (page counts, hasMore), so a walk ends a full page without
	// reading one record ahead.
	ExactNext bool
	// Backward is how the list pages backward (last/before); ParseOffset
	// and ListBefore carry the behaviour of its two kinds.
	Backward Backward
	// ParseOffset reads a token the client issued as an absolute offset
	// (tokens are OffsetToken(n)): set with BackwardOffset.
	ParseOffset func(token string) (int, error)
	// ListBefore is the vendor's own backward read: set with BackwardNative.
	ListBefore ListBeforeFunc
	// Sort maps each federated order the vendor sorts natively to its sort
	// parameter; any other order is UNSUPPORTED_BY_PROVIDER.
	Sort map[OrderField]string
	// NoSort is why an order outside Sort cannot be served, in the
	// vendor's words; NoSortBy overrides it for one field.
	NoSort   string
	NoSortBy map[OrderField]string
	// Pushdown says which filters reach the vendor, and as what.
	Pushdown Pushdown
	// NoCountry, when set, is why the vendor's records cannot be filtered
	// by country at all: the provider is then left out with a warning.
	NoCountry string
	// ScanAbove: a lookup of more ids than this first reads the list, up
	// to one page per ScanAbove ids, then looks the rest up one by one.
	ScanAbove int
	// Once is the calls a request may make once besides its reads: a
	// token or a login, a catalogue.
	Once int
	// PagedLookup: a lookup batch is itself paged, one more call per
	// PageLimit records it returns (CareCloud's source records).
	PagedLookup bool
	// Alone reports an id one lookup call cannot carry beside others (a
	// call of its own); nil: none.
	Alone func(id string) bool
	// Writes: the vendor creates, updates and deletes customers
	// (CustomerWriter); Attaches: it attaches payment sources (SourceAttacher).
	Writes, Attaches bool
}

// Backward is how a vendor's list is read backward.
type Backward int

const (
	// BackwardNone: the list pages forward only.
	BackwardNone Backward = iota
	// BackwardOffset: tokens are absolute offsets, so backward is arithmetic.
	BackwardOffset
	// BackwardNative: the vendor reads before a record itself (endingBefore).
	BackwardNative
)

// ListBeforeFunc returns up to limit records right before the position
// (token, skip) in native order, each with the position right after it,
// and the position right before the first of them (atStart when that is
// the start of the list).
type ListBeforeFunc func(ctx context.Context, f Filter, token string, skip, limit int) (items []*Customer, after []Position, start Position, atStart bool, err error)

// Pushdown names the vendor parameter each federated filter is sent as;
// "" means it is not sent and the caller post-filters the whole list.
type Pushdown struct {
	Email, Search, Country string
	// NativeSearch: search is narrowed by the vendor's own free-text
	// search, which ignores case but not accents (a warning says so).
	NativeSearch bool
}

// BulkLookup reports whether one lookup call carries many ids, so a
// lookup costs a call per batch, not per id.
func (c Capabilities) BulkLookup() bool { return c.CallModel().Bulk() }

// CanFilter returns nil when the list returns f's records or a superset
// of them, and UNSUPPORTED_BY_PROVIDER when the vendor's records cannot be
// filtered that way at all.
func (c Capabilities) CanFilter(f Filter) error {
	if len(f.Country) > 0 && c.NoCountry != "" {
		return ProviderErrorf(c.Provider, CodeUnsupportedByProvider, "%s %s", c.Provider, c.NoCountry)
	}
	return nil
}

// CanOrder returns nil when the list returns order o natively.
func (c Capabilities) CanOrder(o Order) error {
	if _, ok := c.Sort[o.Field]; ok {
		return nil
	}
	why := c.NoSort
	if w, ok := c.NoSortBy[o.Field]; ok {
		why = w
	}
	return ProviderErrorf(c.Provider, CodeUnsupportedByProvider, "%s cannot order customers by %s: %s", c.Provider, o.Field, why)
}

// CallModel is what the estimate counts this vendor's calls by.
func (c Capabilities) CallModel() CallModel {
	return CallModel{ListPage: c.PageLimit, LookupBatch: max(1, c.LookupBatch), Once: c.Once,
		ScanAbove: c.ScanAbove, PagedLookup: c.PagedLookup, Alone: c.Alone}
}

// Check reports a declared value that contradicts itself.
func (c Capabilities) Check() error {
	var errs []error
	if !c.Provider.Valid() {
		errs = append(errs, fmt.Errorf("Provider %d is not a provider", c.Provider))
	}
	if c.PageLimit < 1 || c.LookupBatch < 1 {
		errs = append(errs, fmt.Errorf("PageLimit %d and LookupBatch %d must be at least 1", c.PageLimit, c.LookupBatch))
	}
	if c.LoaderCap < c.LookupBatch {
		errs = append(errs, fmt.Errorf("LoaderCap %d is below LookupBatch %d", c.LoaderCap, c.LookupBatch))
	}
	if (c.Backward == BackwardOffset) != (c.ParseOffset != nil) {
		errs = append(errs, errors.New("ParseOffset is set exactly with BackwardOffset"))
	}
	if (c.Backward == BackwardNative) != (c.ListBefore != nil) {
		errs = append(errs, errors.New("ListBefore is set exactly with BackwardNative"))
	}
	return errors.Join(errs...)
}
