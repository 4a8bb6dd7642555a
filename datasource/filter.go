package datasource

import (
	"strings"
)

// Filter is the federated customer filter. Vendor packages push down what
// they can in their own syntax; the federation layer then applies Match to
// every record, so a vendor that returned a superset never leaks unfiltered
// records into a filtered answer.
type Filter struct {
	Providers []ProviderID `json:"p,omitempty"`
	// Email matches case-insensitively and exactly.
	Email *string `json:"e,omitempty"`
	// Search matches a substring of name or email, ignoring case and accents (Fold).
	Search *string `json:"q,omitempty"`
	// Country is a set of ISO 3166-1 alpha-2 codes (upper case) of the address.
	Country []string `json:"c,omitempty"`
	// IDs restricts to these records.
	IDs []CustomerKey `json:"i,omitempty"`
	// searchKey is Fold(*Search), set by WithSearch (federate.NormalizeFilter) so Match folds
	// the query once, not once per record.
	searchKey string
}

// SearchKey is the folded search text ("" without one).
func (f Filter) SearchKey() string {
	if f.searchKey != "" || f.Search == nil {
		return f.searchKey
	}
	return Fold(*f.Search)
}

// WithSearch is f searching for q, with its folded key kept so Match folds
// the query once, not once per record.
func (f Filter) WithSearch(q string) Filter {
	f.Search, f.searchKey = &q, Fold(q)
	return f
}

// Selects reports whether provider p is selected by the filter.
func (f Filter) Selects(p ProviderID) bool {
	if len(f.Providers) == 0 {
		return true
	}
	for _, q := range f.Providers {
		if q == p {
			return true
		}
	}
	return false
}

// IDsFor returns the vendor ids of provider p named in f.IDs.
func (f Filter) IDsFor(p ProviderID) []string {
	var out []string
	for _, k := range f.IDs {
		if k.Provider == p {
			out = append(out, k.ProviderID)
		}
	}
	return out
}

// Match is the exact semantics of the filter on one mapped record.
func (f Filter) Match(c *Customer) bool {
	if !f.Selects(c.Provider) {
		return false
	}
	if f.Email != nil && (c.Email == nil || !strings.EqualFold(*c.Email, *f.Email)) {
		return false
	}
	if f.Search != nil && *f.Search != "" {
		// Case- and accent-insensitive, over name and email: "vaclav kucera"
		// finds "Václav Kučera" (the synced store compares the same keys).
		q := f.SearchKey()
		hit := (c.Name != nil && strings.Contains(Fold(*c.Name), q)) ||
			(c.Email != nil && strings.Contains(Fold(*c.Email), q))
		if !hit {
			return false
		}
	}
	if len(f.Country) > 0 {
		if c.Address == nil || c.Address.Country == nil {
			return false
		}
		ok := false
		for _, cc := range f.Country {
			if strings.EqualFold(cc, *c.Address.Country) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(f.IDs) > 0 {
		ok := false
		for _, k := range f.IDs {
			if k.Provider == c.Provider && k.ProviderID == c.ProviderID {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// OrderField is a federated sort key.
type OrderField string

const (
	OrderCreatedAt OrderField = "CREATED_AT"
	OrderUpdatedAt OrderField = "UPDATED_AT"
	OrderEmail     OrderField = "EMAIL"
	OrderName      OrderField = "NAME"
)

// Order is a sort request; nil means each provider's native order.
type Order struct {
	Field      OrderField `json:"f"`
	Descending bool       `json:"d,omitempty"`
}

// SourceFilter narrows the customer-source list.
type SourceFilter struct {
	// CustomerID is the owning customer at the source-record provider (CareCloud's customer_id).
	CustomerID *string `json:"c,omitempty"`
	// SourceID is the system (CareCloud's customer_source_id).
	SourceID *string `json:"s,omitempty"`
	// ExternalIDs matches records carrying any of these external ids.
	ExternalIDs []string `json:"x,omitempty"`
}

// Match is the exact semantics of the source filter.
func (f SourceFilter) Match(s *CustomerSource) bool {
	if f.CustomerID != nil && s.CustomerID != *f.CustomerID {
		return false
	}
	if f.SourceID != nil && s.SourceID != *f.SourceID {
		return false
	}
	if len(f.ExternalIDs) > 0 {
		for _, want := range f.ExternalIDs {
			for _, have := range s.ExternalIDs {
				if want == have {
					return true
				}
			}
		}
		return false
	}
	return true
}
