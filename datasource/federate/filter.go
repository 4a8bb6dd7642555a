// Arguments: connection sizes (first/last) and filter validation (NormalizeFilter).

package federate

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	ds "github.com/federated-customers/gateway/datasource"
)

// Pagination limits of the federated connections.
const (
	DefaultFirst  = 20
	MaxFirst      = 100
	MaxFilterIDs  = 100
	maxFilterText = 256
	maxExternalID = 1000
)

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
		return 0, backward, ds.Errorf(ds.CodeBadUserInput, "page with first/after or with last/before, not both")
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
			msg = fmt.Sprintf(" (up to %d when every selected provider is served from the synced store)", ds.MaxSyncedFirst)
		}
		return 0, backward, ds.Errorf(ds.CodeBadUserInput, "%s must be between 1 and %d, got %d%s", name, most, *v, msg)
	}
	return *v, backward, nil
}

// NormalizeFilter validates a filter and puts it in canonical form (so equal
// filters have equal cursor fingerprints). Bad input is BAD_USER_INPUT.
func NormalizeFilter(f ds.Filter) (ds.Filter, error) {
	seen := map[ds.ProviderID]bool{}
	var ps []ds.ProviderID
	for _, p := range f.Providers {
		if !p.Valid() {
			return f, ds.Errorf(ds.CodeBadUserInput, "unknown provider %d", p)
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
			return f, ds.Errorf(ds.CodeBadUserInput, "filter.email %s is not an email address", ds.QuoteShort(*f.Email))
		}
		e = strings.ToLower(e)
		f.Email = &e
	}
	if f.Search != nil {
		q := strings.TrimSpace(*f.Search)
		if q == "" {
			f.Search = nil
		} else if len(q) > maxFilterText || !utf8.ValidString(q) {
			return f, ds.Errorf(ds.CodeBadUserInput, "filter.search must be valid text of at most %d bytes", maxFilterText)
		} else {
			f = f.WithSearch(q)
		}
	}
	if f.Country != nil {
		var cs []string
		have := map[string]bool{}
		for _, c := range f.Country {
			u, ok := ds.CountryCode(strings.ToUpper(strings.TrimSpace(c)))
			if !ok {
				return f, ds.Errorf(ds.CodeBadUserInput, "filter.country %s is not an ISO 3166-1 alpha-2 code", ds.QuoteShort(c))
			}
			if !have[u] {
				have[u] = true
				cs = append(cs, u)
			}
		}
		if len(cs) == 0 {
			return f, ds.Errorf(ds.CodeBadUserInput, "filter.country must name at least one country")
		}
		sort.Strings(cs)
		f.Country = cs
	}
	if len(f.IDs) > MaxFilterIDs {
		return f, ds.Errorf(ds.CodeBadUserInput, "filter.ids takes at most %d ids, got %d", MaxFilterIDs, len(f.IDs))
	}
	return f, nil
}
