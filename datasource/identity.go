package datasource

import (
	"context"
	"strings"
	"time"
)

// Identity is one customer record as the identity index knows it: enough to
// link the same person across providers (normalized email, the record's own
// cross-references) without holding the record itself.
type Identity struct {
	Provider   ProviderID
	Credential string
	VendorID   string
	// Email is trimmed and lower-cased; "" when the record has none.
	Email     string
	Refs      []Ref
	UpdatedAt *time.Time
	SeenAt    time.Time
}

// Scope is one provider and the credential identity it is read with; index
// look-ups name the scopes of the calling configuration, so two
// configurations sharing one database never see each other's records.
type Scope struct {
	Provider   ProviderID
	Credential string
}

// IdentityIndex finds records across providers without asking them: by
// normalized email, by key, and by the external ids their references carry.
// Every method reads only within scopes (the caller's configuration).
type IdentityIndex interface {
	ByEmail(ctx context.Context, scopes []Scope, emails []string) ([]Identity, error)
	ByKeys(ctx context.Context, scopes []Scope, keys []CustomerKey) ([]Identity, error)
	ByExternalID(ctx context.Context, scopes []Scope, externalIDs []string) ([]Identity, error)
}

// NormalizeEmail is the one email normalization links use: trimmed and
// lower-cased, nothing fuzzier.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// IdentityOf is the index entry of a mapped record.
func IdentityOf(c *Customer, cred string, seen time.Time) Identity {
	id := Identity{Provider: c.Provider, Credential: cred, VendorID: c.ProviderID, Refs: c.Refs, UpdatedAt: c.UpdatedAt, SeenAt: seen}
	if c.Email != nil {
		id.Email = NormalizeEmail(*c.Email)
	}
	return id
}

// SyncStatus is where one provider's background sync stands.
type SyncStatus struct {
	// Enabled is false when no sync is configured for the provider.
	Enabled bool
	// Complete is true once a full walk of the provider's list has finished.
	Complete bool
	// Records is how many of the provider's records the identity index holds.
	Records   int
	LastRunAt *time.Time
	LastError *string
}
