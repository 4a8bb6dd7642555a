package datasource

import (
	"context"
	"strconv"
)

// ListRequest asks a provider for one page of its native list.
type ListRequest[F any] struct {
	// Token is a provider-native position from an earlier Page.Next or "" for
	// the start. Vendor packages must reject a token they could not have
	// issued with BAD_USER_INPUT (it came from a client-held cursor).
	Token string
	// Limit is how many items the caller wants; the provider caps it at its
	// own maximum and may return fewer (a short page is not the end).
	Limit int
	// Filter is pushed down as far as the vendor can; the caller post-filters.
	Filter F
	// Order is nil for native order. A provider that cannot order natively
	// returns UNSUPPORTED_BY_PROVIDER (see Capabilities.CanOrder).
	Order *Order
}

// Page is one page of a provider's list.
type Page[T any] struct {
	// Items are consecutive in native order starting exactly at the request's Token.
	Items []T
	// Next is the position right after the last item; "" means the list ended.
	Next string
	// Total is the exact number of records matching the request filter across
	// all pages, or nil when the vendor cannot say exactly (never a guess).
	Total *int
	// ListLen is the length of the vendor's list as requested (the filter
	// it was sent, before any post-filter), when the vendor said: what an
	// offset pager reads a list from its end by, even when Total is nil
	// because the vendor's count is not the federated filter's.
	ListLen *int
}

// Len is the number of records in the page.
func (p Page[T]) Len() int { return len(p.Items) }

// CustomerProvider is what every vendor with a customer list implements.
type CustomerProvider interface {
	ID() ProviderID
	// ListCustomers returns one page of customers.
	ListCustomers(ctx context.Context, req ListRequest[Filter]) (Page[*Customer], error)
	// GetCustomers looks up customers by vendor id, in as few calls as the
	// vendor allows (a bulk filter where it has one, bounded concurrency where
	// not). Missing ids are simply absent from the result; order is free.
	GetCustomers(ctx context.Context, ids []string) ([]*Customer, error)
	// Capabilities is what the vendor can do (filters, orders, lookup
	// batches, backward paging, writes), declared in its caps.go.
	Capabilities() Capabilities
}

// SourceProvider is what a vendor with customer-source records implements (CareCloud).
type SourceProvider interface {
	ID() ProviderID
	ListSources(ctx context.Context, req ListRequest[SourceFilter]) (Page[*CustomerSource], error)
	// SourcesByExternalIDs returns every record whose external id is one of ids.
	SourcesByExternalIDs(ctx context.Context, ids []string) ([]*CustomerSource, error)
	// SourcesByCustomers returns every record of the given provider-side customers.
	SourcesByCustomers(ctx context.Context, customerIDs []string) ([]*CustomerSource, error)
	Capabilities() Capabilities
}

// CustomerInput is what createCustomer/updateCustomer carry; nil fields are
// left unchanged on update.
type CustomerInput struct {
	Email    *string
	Name     *string
	Phone    *string
	Type     *CustomerType
	Locale   *string
	Address  *Address
	Metadata map[string]any
}

// CustomerWriter is implemented by vendors whose API can write customers
// (Capabilities.Writes) and by the cache around every provider. A vendor
// that lacks one operation returns UNSUPPORTED_BY_PROVIDER for it.
type CustomerWriter interface {
	CreateCustomer(ctx context.Context, in CustomerInput) (*Customer, error)
	UpdateCustomer(ctx context.Context, id string, in CustomerInput) (*Customer, error)
	DeleteCustomer(ctx context.Context, id string) error
}

// SourceAttacher is implemented by vendors that attach payment sources
// (Capabilities.Attaches: Digital River) and by the cache around every provider.
type SourceAttacher interface {
	AttachSource(ctx context.Context, customerID, sourceID string) (*CustomerSource, error)
	DetachSource(ctx context.Context, customerID, sourceID string) error
}

// Peeker is implemented by providers that can answer a lookup at once from
// memory (the cache layer's first level): loaders try it before queueing a
// key, so a cached record does not wait for the batch window.
type Peeker interface {
	// Peek returns a fresh in-process copy of the record, or false.
	Peek(ctx context.Context, id string) (*Customer, bool)
}

// Credentialed providers say which credential they use, without revealing it,
// so caches can key on it and two configurations never share data.
type Credentialed interface {
	CredentialID() string
}

// OffsetToken is the shared decimal form of offset tokens ("" for 0).
func OffsetToken(n int) string {
	if n <= 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// Position is a place in a federated list: inside provider Provider, Skip raw
// (pre-filter) items after the provider-native position Token ("" = start).
// Every pagination style maps to it: offsets and page numbers (CareCloud,
// Kintsugi, Commerce Layer) encode the absolute offset in Token, Digital River
// the id to start after, Telness its opaque nextCursor. Skip lets a cursor
// point inside a vendor page without the vendor supporting that.
//
// Deferred holds providers a walk passed over because they failed, each with
// where it goes on; they are walked after the last provider (Tail marks that
// the main pass is over), so one provider's outage does not hide the others.
type Position struct {
	Provider ProviderID
	Token    string
	Skip     int
	Deferred []Position
	Tail     bool
	// NoneBefore marks the resume position of a page with no edges that
	// nothing matched before: the next page has no previous page.
	NoneBefore bool
}
