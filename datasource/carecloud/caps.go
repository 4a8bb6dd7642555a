package carecloud

import ds "github.com/federated-customers/gateway/datasource"

// Caps is what CareCloud's customer-source-record API can do, as its
// documentation says (it serves source records, not a customer list).
var Caps = ds.Capabilities{
	Provider:  ds.CareCloud,
	PageLimit: maxCount, // count's default; no maximum is documented
	// external_ids[] carries up to maxBatch ids, and each batch is itself
	// paged by offset to its total.
	LookupBatch: maxBatch,
	LoaderCap:   maxBatch,
	PagedLookup: true,
	// A login, the token it yields, and the source catalogue.
	Once: 3,
	// Record tokens are absolute offsets: backward is arithmetic.
	Backward:    ds.BackwardOffset,
	ParseOffset: parseToken,
	NoSort:      "it serves customer source records, not customers",
}

// Capabilities is Caps.
func (c *Client) Capabilities() ds.Capabilities { return Caps }
