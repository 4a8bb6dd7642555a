package carecloud

import (
	"context"
	"encoding/json"
	"time"
)

// ErrorBody is CareCloud's error object, for tests that read the simulator raw.
type ErrorBody = errorBody

// LookupConcurrency bounds the per-customer lookups in flight.
const LookupConcurrency = lookupConcurrency

// SetNow replaces the client's clock (token expiry, catalogue age); call it
// before the client is used.
func SetNow(c *Client, now func() time.Time) { c.now = now }

// DecodeRecords is what ListSources does with a record-list body once
// rest.Client has read it: decode the envelope, map every record (with the
// client's catalogue, fetched when it has none). It returns the count.
func DecodeRecords(c *Client, body []byte) (int, error) {
	var env recordsEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return 0, err
	}
	recs, _, err := c.mapRecords(context.Background(), &env, "")
	return len(recs), err
}
