// Package federate is the federation engine: it turns the configured
// providers into one customer list, one customer-source list and the people
// grouped from the synced store (Service), walking each provider's pages
// forward, backward or merged, with signed cursors. Types, interfaces, ids and
// errors are the domain's (datasource); this package holds the walks.
package federate

import (
	"context"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
)

// Service is the federation layer: it turns the configured providers into
// one customer connection and one customer-source connection.
type Service struct {
	// Customers holds the configured providers with a customer list.
	Customers map[ds.ProviderID]ds.CustomerProvider
	// Sources is the customer-source provider (CareCloud), nil when not configured.
	Sources ds.SourceProvider
	// Simulated marks providers served by the built-in simulator.
	Simulated map[ds.ProviderID]bool
	Cursors   CursorCodec
	// Denied are providers outside the caller's scope (see Restrict).
	Denied map[ds.ProviderID]bool
	// Index is the identity index (nil when none is kept).
	Index ds.IdentityIndex
	// SyncStatus reports a provider's background sync; ok false when the
	// provider is not synced at all. Nil when there is no syncer.
	SyncStatus func(ctx context.Context, p ds.ProviderID) (st ds.SyncStatus, ok bool)
	// SyncComplete reports whether a full walk of provider p has finished: a
	// single lookup, for the hot path (SyncStatus also counts the index).
	SyncComplete func(ctx context.Context, p ds.ProviderID) bool
	// Calls is each provider's call model, for the cost estimate.
	Calls map[ds.ProviderID]ds.CallModel
	// LookupBudget is how many records one request may look up for links at
	// a provider without a bulk lookup (default DefaultLookupBudget).
	LookupBudget int
	// Synced is the synced store (nil without Postgres), and ServeMaxAge
	// how old each provider's last complete walk may be for it to serve
	// (absent: the provider is not served from it). See synced.go.
	Synced      ds.SyncedStore
	ServeMaxAge map[ds.ProviderID]time.Duration
	// PeopleScopeSet names the configuration people are grouped over (all
	// its providers, whatever an API key may see).
	PeopleScopeSet string
	// Idempotency remembers mutations' idempotency keys and outcomes (nil:
	// keys still reach the vendors, but repeats are not recognised).
	Idempotency ds.IdempotencyStore
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
func (s *Service) Scopes() []ds.Scope {
	var out []ds.Scope
	for _, p := range ds.AllProviders {
		if prov, ok := s.Customers[p]; ok {
			c, _ := prov.(ds.Credentialed)
			if c != nil {
				out = append(out, ds.Scope{Provider: p, Credential: c.CredentialID()})
			}
		}
	}
	if s.Sources != nil {
		if c, ok := s.Sources.(ds.Credentialed); ok {
			out = append(out, ds.Scope{Provider: s.Sources.ID(), Credential: c.CredentialID()})
		}
	}
	return out
}
