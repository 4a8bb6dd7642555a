package commercelayer

import ds "github.com/federated-customers/gateway/datasource"

// Caps is what Commerce Layer's customer API can do, as its documentation
// says.
var Caps = ds.Capabilities{
	Provider:  ds.CommerceLayer,
	PageLimit: MaxPageSize,
	// filter[q][id_in] with page[size]=25 answers a page of ids in one call.
	LookupBatch: MaxPageSize,
	LoaderCap:   MaxPageSize,
	Once:        1, // the client-credentials token
	// A next page token is issued only when links.next and meta.page_count
	// say records follow.
	ExactNext: true,
	// Tokens are absolute offsets (page[number], page[size]).
	Backward:    ds.BackwardOffset,
	ParseOffset: parseOffset,
	// created_at and updated_at sort natively (id breaks ties).
	Sort: map[ds.OrderField]string{ds.OrderCreatedAt: "created_at", ds.OrderUpdatedAt: "updated_at"},
	// Its email sort compares addresses as stored, case and all (nothing
	// documents otherwise), which is not the federated EMAIL order; the
	// synced store serves that one. Customers have no name.
	NoSort:   "its customers have no such attribute",
	NoSortBy: map[ds.OrderField]string{ds.OrderEmail: "it sorts emails as stored, case and all, not case-insensitively"},
	// email matches email_matches in any case; search is email_cont (a
	// customer has no name, so "name or email contains" is the email).
	Pushdown: ds.Pushdown{Email: "filter[q][email_matches]", Search: "filter[q][email_cont]"},
	// A customer carries no address of its own (customer_addresses are a
	// separate resource).
	NoCountry: "customers carry no address, so they cannot be filtered by country",
	Writes:    true,
}

// Capabilities is Caps.
func (c *Client) Capabilities() ds.Capabilities { return Caps }
