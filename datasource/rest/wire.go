package rest

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// The vendor envelope helpers: how the vendor packages read a JSON list, a
// count and a timestamp the same way. They sit here, beside the client that
// reads the bodies, because the domain package knows no vendor envelope.

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

// RFC3339UTC reads an RFC 3339 time into UTC for vendor mappings; nil when
// absent or unreadable, so one odd timestamp does not fail a whole page.
func RFC3339UTC(s string) *time.Time {
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil
	}
	t = t.UTC()
	return &t
}

// WholeNumber reads a count from a vendor envelope (a total, a page count)
// as liberally as the vendor mappings agree to: a JSON integer or an integral
// number written as a float (1.0, 1e2, as some serializers emit what a schema
// types "integer"), and, when quoted, the same inside a JSON string ("3").
// ok is false for anything else (fractions, negatives, null, other types) and
// for numbers above max.
func WholeNumber(raw []byte, quoted bool, max int) (n int, ok bool) {
	s := strings.TrimSpace(string(raw))
	if quoted {
		if u, err := strconv.Unquote(s); err == nil {
			s = strings.TrimSpace(u)
		}
	}
	if i, err := strconv.Atoi(s); err == nil {
		if i < 0 || i > max {
			return 0, false
		}
		return i, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > float64(max) || f != math.Trunc(f) {
		return 0, false
	}
	return int(f), true
}

// MapAll maps a page's records in order with the vendor's mapRecord; the
// first record it refuses fails the page.
func MapAll[T, U any](recs []Record[T], mapRecord func(*Record[T]) (U, error)) ([]U, error) {
	out := make([]U, 0, len(recs))
	for i := range recs {
		u, err := mapRecord(&recs[i])
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// MapOne maps one record body (a single lookup's or a write's answer); its
// Raw is raw itself, not a copy (a response body the caller owns).
func MapOne[T, U any](raw []byte, mapRecord func(*Record[T]) (U, error)) (U, error) {
	var rec Record[T]
	_ = rec.UnmarshalJSON(raw) // never fails: a bad record is rec.Err
	return mapRecord(&rec)
}

// PageSize is the page size to ask a vendor for: the caller's limit, def
// when it gives none, never above the vendor's max.
func PageSize(limit, def, max int) int {
	switch {
	case limit <= 0:
		return def
	case limit > max:
		return max
	}
	return limit
}
