package datasource

import (
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"time"
)

// CustomerType is INDIVIDUAL or BUSINESS where the vendor says which.
type CustomerType string

const (
	Individual CustomerType = "INDIVIDUAL"
	Business   CustomerType = "BUSINESS"
)

func (t CustomerType) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(t))) }

func (t *CustomerType) UnmarshalGQL(v any) error {
	return unmarshalEnum(v, t, "CustomerType", Individual, Business)
}

// unmarshalEnum sets *dst to v when v is one of values, else says it is not
// a valid name.
func unmarshalEnum[T ~string](v any, dst *T, name string, values ...T) error {
	s, _ := v.(string)
	if slices.Contains(values, T(s)) {
		*dst = T(s)
		return nil
	}
	return Errorf(CodeBadUserInput, "%q is not a valid %s", s, name)
}

// Address is the federated postal address.
type Address struct {
	Line1      *string `json:"line1,omitempty"`
	Line2      *string `json:"line2,omitempty"`
	City       *string `json:"city,omitempty"`
	County     *string `json:"county,omitempty"`
	State      *string `json:"state,omitempty"`
	PostalCode *string `json:"postalCode,omitempty"`
	Country    *string `json:"country,omitempty"`
}

// Ref is a cross-reference a vendor record carries to another system:
// "this customer is known in system SourceID (named SourceName) as ExternalIDs".
// Vendor packages fill it from their documented fields (Kintsugi source and
// external_id, Telness referenceId, Commerce Layer reference_origin and
// reference, Digital River payment sources).
type Ref struct {
	Kind        SourceKind
	SourceID    string
	SourceName  string
	ExternalIDs []string
}

// Customer is one vendor's customer record mapped to the federated shape.
type Customer struct {
	Provider   ProviderID
	ProviderID string
	Name       *string
	Email      *string
	Phone      *string
	Type       *CustomerType
	Status     *string
	Locale     *string
	Address    *Address
	CreatedAt  *time.Time
	UpdatedAt  *time.Time
	Metadata   map[string]any
	Raw        json.RawMessage
	Refs       []Ref
}

// NodeID is the opaque global ID of the customer.
func (c *Customer) NodeID() string { return CustomerNodeID(c.Provider, c.ProviderID) }

// ID is the GraphQL id field. A plain method, not a resolver: gqlgen runs
// resolver fields through a goroutine-safe path that cost 20% of a warm page.
func (c *Customer) ID() string { return c.NodeID() }

// IsNode marks Customer as a GraphQL Node.
func (*Customer) IsNode() {}

// GetID satisfies gqlgen's generated Node interface.
func (c *Customer) GetID() string { return c.NodeID() }

// SourceKind says what a CustomerSource is.
type SourceKind string

const (
	SourceSystem  SourceKind = "SYSTEM"
	SourcePayment SourceKind = "PAYMENT"
)

func (k SourceKind) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(k))) }

func (k *SourceKind) UnmarshalGQL(v any) error {
	return unmarshalEnum(v, k, "CustomerSourceKind", SourceSystem, SourcePayment)
}

// CustomerSource is one link between a customer and another system.
// For CareCloud records, RecordID is customer_source_record_id and
// CustomerID the CareCloud customer it belongs to.
type CustomerSource struct {
	Provider    ProviderID
	Kind        SourceKind
	RecordID    string
	CustomerID  string
	SourceID    string
	SourceName  *string
	ExternalIDs []string
	// Target is the federated customer the source points to, when known:
	// the provider that system is and that provider's id.
	Target *CustomerKey
	Raw    json.RawMessage
}

// NodeID is the opaque global ID of the source.
func (s *CustomerSource) NodeID() string {
	return SourceNodeID(s.Provider, s.CustomerID, s.RecordID)
}

// ID is the GraphQL id field (a plain method, as Customer.ID).
func (s *CustomerSource) ID() string { return s.NodeID() }

func (*CustomerSource) IsNode()         {}
func (s *CustomerSource) GetID() string { return s.NodeID() }

// CustomerKey identifies one customer record at one provider.
type CustomerKey struct {
	Provider   ProviderID
	ProviderID string
}

// RefSources turns a record's own cross-references into CustomerSources.
// A SYSTEM reference whose source names a provider (by config key or enum,
// as Commerce Layer's reference_origin does) points at that provider's customer.
func RefSources(c *Customer) []*CustomerSource {
	out := make([]*CustomerSource, 0, len(c.Refs))
	for _, r := range c.Refs {
		s := &CustomerSource{
			Provider:    c.Provider,
			Kind:        r.Kind,
			CustomerID:  c.ProviderID,
			SourceID:    r.SourceID,
			ExternalIDs: r.ExternalIDs,
			RecordID:    "ref:" + r.SourceID,
		}
		if r.Kind == SourcePayment {
			s.RecordID = r.SourceID
		}
		if r.SourceName != "" {
			name := r.SourceName
			s.SourceName = &name
		}
		if p, ok := ParseProvider(r.SourceID); ok && r.Kind == SourceSystem && len(r.ExternalIDs) == 1 && p != c.Provider {
			s.Target = &CustomerKey{Provider: p, ProviderID: r.ExternalIDs[0]}
		}
		out = append(out, s)
	}
	return out
}

// NonEmpty is nil for "" (an absent vendor field) and &s otherwise.
func NonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
