// Package datasource holds the domain of the gateway: customers and their
// sources, the provider interfaces every vendor package implements, opaque
// IDs, the one coded error type, and the per-request primitives (call budget,
// report, memo) the layers below share. It knows no vendor's URL, header or
// envelope (that lives in datasource/<vendor>) and no walk: the federation
// engine is datasource/federate.
package datasource

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ProviderID names one upstream vendor. The numeric order is the GraphQL enum
// order, which is also the default order of a federated customer list.
type ProviderID int

const (
	CareCloud ProviderID = iota
	Kintsugi
	DigitalRiver
	Telness
	CommerceLayer
	numProviders
)

// AllProviders lists every provider in enum order.
var AllProviders = []ProviderID{CareCloud, Kintsugi, DigitalRiver, Telness, CommerceLayer}

var providerEnum = [...]string{"CARECLOUD", "KINTSUGI", "DIGITAL_RIVER", "TELNESS", "COMMERCE_LAYER"}
var providerKey = [...]string{"carecloud", "kintsugi", "digitalriver", "telness", "commercelayer"}

// Valid reports whether p is one of the five known providers.
func (p ProviderID) Valid() bool { return p >= 0 && p < numProviders }

// String is the GraphQL enum value, e.g. DIGITAL_RIVER.
func (p ProviderID) String() string {
	if !p.Valid() {
		return "UNKNOWN(" + strconv.Itoa(int(p)) + ")"
	}
	return providerEnum[p]
}

// Key is the configuration key, e.g. digitalriver.
func (p ProviderID) Key() string {
	if !p.Valid() {
		return ""
	}
	return providerKey[p]
}

// ParseProvider accepts an enum value (DIGITAL_RIVER) or a config key (digitalriver).
func ParseProvider(s string) (ProviderID, bool) {
	for i := range providerEnum {
		if strings.EqualFold(s, providerEnum[i]) || strings.EqualFold(s, providerKey[i]) {
			return ProviderID(i), true
		}
	}
	return 0, false
}

// MarshalGQL writes the enum value; gqlgen binds the Provider enum to this type.
func (p ProviderID) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(p.String())) }

// UnmarshalGQL reads an enum value from a GraphQL input.
func (p *ProviderID) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("Provider must be a string")
	}
	for i := range providerEnum {
		if s == providerEnum[i] {
			*p = ProviderID(i)
			return nil
		}
	}
	return fmt.Errorf("%q is not a valid Provider", s)
}
