package datasource

import (
	"encoding/json"
)

// Record is one item of a vendor's JSON list, decoded where it lies: V holds
// the item's typed fields, Raw the item exactly as received, and Err why the
// item is not a T (nil when it is). Its UnmarshalJSON never fails, so one
// malformed item does not fail the envelope's decoding: the vendor package
// looks at Err (and Raw) and answers with its own error for that record.
// A JSON null item is a zero V with Raw "null" and no Err.
//
// Raw is not a copy: it points into the buffer being decoded. encoding/json
// documents that an UnmarshalJSON must copy what it keeps, because a
// json.Decoder reuses its buffer; a Record is therefore only decoded with
// json.Unmarshal over a body this process owns and never writes again (a
// rest.Client response body, read into a fresh buffer per call and never
// pooled), so every record of a page shares that one buffer. Raw's capacity
// is its length, so an append to it copies instead of writing over the next
// record. Holding one Record keeps the whole body alive.
type Record[T any] struct {
	V   T
	Raw json.RawMessage
	Err error
}

// UnmarshalJSON decodes b into V and keeps b itself as Raw (see Record).
func (r *Record[T]) UnmarshalJSON(b []byte) error {
	var zero T
	r.V, r.Raw = zero, b[:len(b):len(b)]
	r.Err = json.Unmarshal(b, &r.V)
	return nil
}
