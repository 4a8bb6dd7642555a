// Package link finds the same person's records at the other providers: by
// the explicit references records carry (Kintsugi source/external_id,
// Telness referenceId, Commerce Layer reference_origin/reference), by
// CareCloud source records that name several providers' ids for one
// CareCloud customer, and by email (trimmed, case-insensitive, nothing
// fuzzier). Each link says why. It reads through an Env, which the caller
// backs with per-request dataloaders and the identity index, so the calls it
// causes are batched.
package link

import (
	"context"
	"io"
	"slices"
	"strconv"
	"strings"

	ds "github.com/federated-customers/gateway/datasource"
)

// Reason says why two records are linked.
type Reason string

const (
	// SourceRecord: one CareCloud customer's source records name both.
	SourceRecord Reason = "SOURCE_RECORD"
	// Reference: one record references the other (directly or through a
	// chain of references).
	Reference Reason = "REFERENCE"
	// Email: both carry the same email, and that email is personal.
	Email Reason = "EMAIL"
)

// Link is one linked record.
type Link struct {
	Customer  *ds.Customer
	MatchedBy []Reason
}

// Env is what linking reads.
type Env interface {
	// Serves reports whether provider p can be looked up in this request.
	Serves(p ds.ProviderID) bool
	// Refs are the references record k carries; ok false when it is unknown.
	Refs(ctx context.Context, k ds.CustomerKey) (refs []ds.Ref, ok bool, err error)
	// ByEmail returns the indexed records with this (normalized) email.
	ByEmail(ctx context.Context, email string) ([]ds.Identity, error)
	// SourceSiblings returns, for each CareCloud customer with a source
	// record naming k, the records all of its source records name.
	SourceSiblings(ctx context.Context, k ds.CustomerKey) ([]ds.CustomerKey, error)
	// Load returns the record, nil when it does not exist (or was not looked
	// up, in which case the Env has said so in a warning).
	Load(ctx context.Context, k ds.CustomerKey) func() (*ds.Customer, error)
}

// maxReferenceHops bounds how far a chain of references is followed; there
// are five providers, so a person's chain is never longer.
const maxReferenceHops = 4

// roleLocalParts are mailboxes that name a role, not a person: two records
// sharing one of them are not linked by it.
var roleLocalParts = map[string]bool{
	"info": true, "sales": true, "support": true, "admin": true, "billing": true, "accounts": true,
	"office": true, "contact": true, "hello": true, "team": true, "orders": true, "help": true,
	"noreply": true, "no-reply": true, "invoices": true, "finance": true, "service": true,
}

// Personal reports whether an email may link records: not a role mailbox.
func Personal(email string) bool {
	at := strings.LastIndexByte(email, '@')
	if at <= 0 || at == len(email)-1 {
		return false
	}
	local := email[:at]
	if i := strings.IndexByte(local, '+'); i > 0 {
		local = local[:i]
	}
	return !roleLocalParts[local]
}

// Find returns c's links at the other providers, in provider order, and the
// errors met on the way (partial: what was found still stands).
func Find(ctx context.Context, env Env, c *ds.Customer) ([]Link, []error) {
	self := ds.CustomerKey{Provider: c.Provider, ProviderID: c.ProviderID}
	reasons := map[ds.CustomerKey][]Reason{}
	var order []ds.CustomerKey
	add := func(k ds.CustomerKey, r Reason) {
		if k == self || k.Provider == ds.CareCloud || !env.Serves(k.Provider) {
			return
		}
		if _, ok := reasons[k]; !ok {
			order = append(order, k)
		}
		if !slices.Contains(reasons[k], r) {
			reasons[k] = append(reasons[k], r)
		}
	}
	var errs []error

	// References, followed hop by hop; visited keys stop cycles.
	visited := map[ds.CustomerKey]bool{self: true}
	frontier := targets(c.Provider, c.Refs)
	for hop := 0; hop < maxReferenceHops && len(frontier) > 0; hop++ {
		var next []ds.CustomerKey
		for _, k := range frontier {
			if visited[k] || !env.Serves(k.Provider) {
				continue
			}
			visited[k] = true
			add(k, Reference)
			refs, ok, err := env.Refs(ctx, k)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if ok {
				next = append(next, targets(k.Provider, refs)...)
			}
		}
		frontier = next
	}

	// CareCloud source records.
	sibs, err := env.SourceSiblings(ctx, self)
	if err != nil {
		errs = append(errs, err)
	}
	for _, k := range sibs {
		add(k, SourceRecord)
	}

	// Email, when it is personal and names one record per provider.
	if c.Email != nil {
		email := ds.NormalizeEmail(*c.Email)
		if Personal(email) {
			ids, err := env.ByEmail(ctx, email)
			if err != nil {
				errs = append(errs, err)
			}
			perProvider := map[ds.ProviderID]int{}
			for _, id := range ids {
				perProvider[id.Provider]++
			}
			shared := perProvider[c.Provider] > 1
			for _, n := range perProvider {
				shared = shared || n > 1
			}
			if !shared {
				for _, id := range ids {
					add(ds.CustomerKey{Provider: id.Provider, ProviderID: id.VendorID}, Email)
				}
			}
		}
	}

	// Load every linked record at once; a reference to a record that no
	// longer exists links nothing.
	thunks := make([]func() (*ds.Customer, error), len(order))
	for i, k := range order {
		thunks[i] = env.Load(ctx, k)
	}
	out := make([]Link, 0, len(order))
	for i, th := range thunks {
		got, err := th()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if got == nil {
			continue
		}
		out = append(out, Link{Customer: got, MatchedBy: reasons[order[i]]})
	}
	slices.SortStableFunc(out, func(a, b Link) int { return int(a.Customer.Provider) - int(b.Customer.Provider) })
	return out, errs
}

// targets are the customer keys references point at: a SYSTEM reference
// whose source names another provider, with exactly one external id.
func targets(from ds.ProviderID, refs []ds.Ref) []ds.CustomerKey {
	var out []ds.CustomerKey
	for _, r := range refs {
		if r.Kind != ds.SourceSystem || len(r.ExternalIDs) != 1 {
			continue
		}
		if p, ok := ds.ParseProvider(r.SourceID); ok && p != from {
			out = append(out, ds.CustomerKey{Provider: p, ProviderID: r.ExternalIDs[0]})
		}
	}
	return out
}

// MarshalGQL writes the enum value; gqlgen binds LinkReason to this type.
func (r Reason) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(r))) }

// UnmarshalGQL reads an enum value.
func (r *Reason) UnmarshalGQL(v any) error {
	s, _ := v.(string)
	switch Reason(s) {
	case SourceRecord, Reference, Email:
		*r = Reason(s)
		return nil
	}
	return ds.Errorf(ds.CodeBadUserInput, "%q is not a valid LinkReason", s)
}
