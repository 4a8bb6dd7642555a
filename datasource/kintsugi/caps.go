package kintsugi

import ds "github.com/federated-customers/gateway/datasource"

// Caps is what Kintsugi's customer API can do, as its documentation says.
var Caps = ds.Capabilities{
	Provider:  ds.Kintsugi,
	PageLimit: MaxSize, // size=1..100
	// No bulk id filter: a lookup is one GET /v1/customers/{id} per id,
	// eight at a time; the loaders still hand over up to maxBatch ids.
	LookupBatch: 1,
	LoaderCap:   maxBatch,
	// A next page token is issued only when page < pages says records follow.
	ExactNext: true,
	// Tokens are absolute offsets (page*size+skip): backward is arithmetic.
	Backward:    ds.BackwardOffset,
	ParseOffset: parseToken,
	// Its customer schema has no created_at/updated_at (order_by's example
	// names created_at, but records do not carry it), and how order_by sorts
	// name or email is not documented.
	NoSort: "its customer records have no created_at/updated_at and the order_by semantics for name and email are not documented",
	// search_query searches name "and other details": a superset the caller
	// post-filters; email goes there too (no email filter). Country is
	// native and exact.
	Pushdown: ds.Pushdown{Email: "search_query", Search: "search_query", Country: "country", NativeSearch: true},
	Writes:   true,
}

// Capabilities is Caps.
func (c *Client) Capabilities() ds.Capabilities { return Caps }
