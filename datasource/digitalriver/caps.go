package digitalriver

import ds "github.com/federated-customers/gateway/datasource"

// Caps is what Digital River's customer API can do, as its documentation
// says; Capabilities adds the client's backward read.
var Caps = ds.Capabilities{
	Provider:  ds.DigitalRiver,
	PageLimit: MaxLimit,
	// ids=a,b,c with limit=100 answers up to 100 ids in one call; an id with
	// a comma cannot sit in that list and goes alone.
	LookupBatch: maxBatch,
	LoaderCap:   maxBatch,
	Alone:       FetchedAlone,
	// A next page token is issued only when hasMore says records follow.
	ExactNext: true,
	// endingBefore reads before a customer id (ListBefore).
	Backward: ds.BackwardNative,
	// Native order is createdTime descending.
	NoSort: "its customer list has no sort parameter",
	// Nothing is pushed down (see listQuery): the caller post-filters.
	Pushdown: ds.Pushdown{},
	Writes:   true,
	Attaches: true,
}

// Capabilities is Caps with the client's endingBefore read.
func (c *Client) Capabilities() ds.Capabilities {
	caps := Caps
	caps.ListBefore = c.ListBefore
	return caps
}
