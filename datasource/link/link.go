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
	"sync"

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

// reasonRank is the order reasons are listed in: the schema's enum order.
var reasonRank = map[Reason]int{SourceRecord: 0, Reference: 1, Email: 2}

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
	// ReferencedBy returns the records whose references name k.
	ReferencedBy(ctx context.Context, k ds.CustomerKey) ([]ds.CustomerKey, error)
	// Resolve returns the records, at any provider, whose vendor id is id:
	// for a reference that names its system in a way that is not a provider
	// (Kintsugi's source API or UNKNOWN).
	Resolve(ctx context.Context, id string) ([]ds.CustomerKey, error)
	// SourceSiblings returns, for each CareCloud customer with a source
	// record naming k, the records all of its source records name.
	SourceSiblings(ctx context.Context, k ds.CustomerKey) ([]ds.CustomerKey, error)
	// Load returns the record, nil when it does not exist (or was not looked
	// up, in which case the Env has said so in a warning).
	Load(ctx context.Context, k ds.CustomerKey) func() (*ds.Customer, error)
}

// MaxReferenceHops bounds how far a chain of references is followed; there
// are five providers, so a person's chain is never longer. The call
// estimate (package request) charges one lookup round per hop.
const MaxReferenceHops = 4

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
	var mu sync.Mutex
	var errs []error
	fail := func(err error) {
		if err != nil {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
	}
	found := func(k ds.CustomerKey, r Reason) {
		mu.Lock()
		add(k, r)
		mu.Unlock()
	}
	// The three ways are independent: run them side by side, so their
	// upstream calls overlap instead of adding up.
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); byReferences(ctx, env, self, c.Refs, found, fail) }()
	go func() {
		defer wg.Done()
		sibs, err := env.SourceSiblings(ctx, self)
		fail(err)
		for _, k := range sibs {
			found(k, SourceRecord)
		}
	}()
	go func() { defer wg.Done(); byEmail(ctx, env, c, found, fail) }()
	wg.Wait()

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
		why := reasons[order[i]]
		slices.SortFunc(why, func(a, b Reason) int { return reasonRank[a] - reasonRank[b] })
		out = append(out, Link{Customer: got, MatchedBy: why})
	}
	slices.SortFunc(out, func(a, b Link) int {
		if a.Customer.Provider != b.Customer.Provider {
			return int(a.Customer.Provider) - int(b.Customer.Provider)
		}
		return strings.Compare(a.Customer.ProviderID, b.Customer.ProviderID)
	})
	return out, errs
}

// targets are the customer keys references point at: a SYSTEM reference
// with exactly one external id, whose source names another provider, or
// names no provider and resolves to exactly one record elsewhere.
func targets(ctx context.Context, env Env, from ds.ProviderID, refs []ds.Ref) ([]ds.CustomerKey, error) {
	var out []ds.CustomerKey
	for _, r := range refs {
		if r.Kind != ds.SourceSystem || len(r.ExternalIDs) != 1 {
			continue
		}
		if p, ok := ds.ParseProvider(r.SourceID); ok {
			if p != from {
				out = append(out, ds.CustomerKey{Provider: p, ProviderID: r.ExternalIDs[0]})
			}
			continue
		}
		got, err := env.Resolve(ctx, r.ExternalIDs[0])
		if err != nil {
			return out, err
		}
		var elsewhere []ds.CustomerKey
		for _, k := range got {
			if k.Provider != from && k.Provider != ds.CareCloud {
				elsewhere = append(elsewhere, k)
			}
		}
		if len(elsewhere) == 1 { // an id two records share names neither
			out = append(out, elsewhere[0])
		}
	}
	return out, nil
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

// byReferences follows references both ways, hop by hop; visited keys stop cycles.
func byReferences(ctx context.Context, env Env, self ds.CustomerKey, selfRefs []ds.Ref, found func(ds.CustomerKey, Reason), fail func(error)) {
	visited := map[ds.CustomerKey]bool{self: true}
	frontier := []ds.CustomerKey{self}
	for hop := 0; hop < MaxReferenceHops && len(frontier) > 0; hop++ {
		// Each hop asks for every frontier record at once, so one hop is one
		// round of (batched) look-ups.
		type hopResult struct{ ns []ds.CustomerKey }
		results := make([]hopResult, len(frontier))
		var wg sync.WaitGroup
		for i, k := range frontier {
			wg.Add(1)
			go func() {
				defer wg.Done()
				refs, ok := selfRefs, true
				if k != self {
					var err error
					refs, ok, err = env.Refs(ctx, k)
					fail(err)
				}
				var ns []ds.CustomerKey
				if ok {
					out, err := targets(ctx, env, k.Provider, refs)
					fail(err)
					ns = append(ns, out...)
				}
				back, err := env.ReferencedBy(ctx, k)
				fail(err)
				results[i].ns = append(ns, back...)
			}()
		}
		wg.Wait()
		var next []ds.CustomerKey
		for _, r := range results {
			for _, n := range r.ns {
				if visited[n] || n.Provider == ds.CareCloud || !env.Serves(n.Provider) {
					continue
				}
				visited[n] = true
				found(n, Reference)
				next = append(next, n)
			}
		}
		frontier = next
	}
}

// byEmail links the records that carry c's email, when it is personal and
// names at most one record per provider.
func byEmail(ctx context.Context, env Env, c *ds.Customer, found func(ds.CustomerKey, Reason), fail func(error)) {
	if c.Email == nil {
		return
	}
	email := ds.NormalizeEmail(*c.Email)
	if !Personal(email) {
		return
	}
	ids, err := env.ByEmail(ctx, email)
	fail(err)
	perProvider := map[ds.ProviderID]int{}
	for _, id := range ids {
		perProvider[id.Provider]++
	}
	for _, n := range perProvider {
		if n > 1 {
			return // a shared address: it names no one person
		}
	}
	for _, id := range ids {
		found(ds.CustomerKey{Provider: id.Provider, ProviderID: id.VendorID}, Email)
	}
}
