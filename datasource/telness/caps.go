package telness

import ds "github.com/federated-customers/gateway/datasource"

// Caps is what Telness's customer API can do, as its documentation says.
var Caps = ds.Capabilities{
	Provider:  ds.Telness,
	PageLimit: MaxLimit,
	// No bulk id filter: a lookup is one GET per id, eight at a time (or a
	// list scan above ScanAbove ids); the loaders hand over up to maxBatch.
	LookupBatch: 1,
	LoaderCap:   maxBatch,
	ScanAbove:   scanThreshold,
	// The cursor is opaque: it neither says that records follow (ExactNext
	// is false) nor reads backward.
	Backward: ds.BackwardNone,
	NoSort:   "its customer list has no sort parameter",
	// search is "a free text search string": email and search both go
	// there (a superset the caller post-filters); country is not sent.
	Pushdown: ds.Pushdown{Email: "search", Search: "search", NativeSearch: true},
	Writes:   true,
}

// Capabilities is Caps.
func (c *Client) Capabilities() ds.Capabilities { return Caps }
