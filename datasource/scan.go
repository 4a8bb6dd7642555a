// LookupByScan: finding ids by reading a list from its start, for vendors with no bulk id filter.

package datasource

import (
	"context"
)

// LookupByScan finds ids by reading a provider's list from its start, for
// vendors with no bulk id filter: at most maxPages calls. It returns the
// records found and the ids it did not reach (none when the list ended, since
// then the others do not exist).
func LookupByScan(ctx context.Context, list func(ctx context.Context, token string) (Page[*Customer], error), ids []string, maxPages int) ([]*Customer, []string, error) {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	var found []*Customer
	token := ""
	for i := 0; i < maxPages && len(want) > 0; i++ {
		page, err := list(ctx, token)
		if err != nil {
			return nil, nil, err
		}
		for _, c := range page.Items {
			if want[c.ProviderID] {
				delete(want, c.ProviderID)
				found = append(found, c)
			}
		}
		if page.Next == "" || page.Next == token {
			return found, nil, nil
		}
		token = page.Next
	}
	var rest []string
	for _, id := range ids {
		if want[id] {
			rest = append(rest, id)
			delete(want, id)
		}
	}
	return found, rest, nil
}
