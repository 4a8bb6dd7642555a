package carecloud

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strings"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
)

// recordsEnvelope is GET /customer-source-records and
// GET /customers/{customer_id}/customer-source-records.
type recordsEnvelope struct {
	Data struct {
		Records    []rest.Record[wireRecord] `json:"customer_source_records"`
		TotalItems looseCount                `json:"total_items"`
	} `json:"data"`
}

// wireRecord is one customer source record. Only customer_source_id is
// required by the spec; each record has exactly one external_id.
type wireRecord struct {
	CustomerSourceRecordID string       `json:"customer_source_record_id"`
	CustomerSourceID       string       `json:"customer_source_id"`
	CustomerID             string       `json:"customer_id"`
	ExternalID             *looseString `json:"external_id"`
	LastChange             *string      `json:"last_change"`
}

// looseString is a JSON string, or a JSON number read as its literal text.
// external_id is typed string, but the spec's own example for it is the bare
// number 6, so an implementation built from the spec may well send a number:
// the client accepts both rather than failing the page.
type looseString string

func (s *looseString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')) {
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*s = looseString(n)
		return nil
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = looseString(v)
	return nil
}

// looseCount is total_items. The spec types it integer; the client also takes
// an integral number written as 3.0 or as a string ("3"), and treats anything
// else (null, negative, not a number) as absent instead of failing the page:
// without a total the client pages on until a short page.
type looseCount struct {
	n  int
	ok bool
}

func (c *looseCount) UnmarshalJSON(b []byte) error {
	n, ok := rest.WholeNumber(b, true, math.MaxInt32)
	*c = looseCount{n: n, ok: ok}
	return nil
}

// ptr is the total, nil when the answer carried none the client can read.
func (c looseCount) ptr() *int {
	if !c.ok {
		return nil
	}
	n := c.n
	return &n
}

func decodeRecord(raw json.RawMessage) (wireRecord, error) {
	var w wireRecord
	err := json.Unmarshal(raw, &w)
	return w, err
}

// sourcesEnvelope is GET /customer-sources (the catalogue).
type sourcesEnvelope struct {
	Data struct {
		Sources    []wireSource `json:"customer_sources"`
		TotalItems looseCount   `json:"total_items"`
	} `json:"data"`
}

// wireSource is one catalogue entry: only what the client uses is decoded
// (state and last_change are not, so an unexpected form of either cannot
// fail every record list that needs the catalogue).
type wireSource struct {
	CustomerSourceID     string `json:"customer_source_id"`
	Name                 string `json:"name"`
	CustomerSourceTextID string `json:"customer_source_text_id"`
}

// errorBody is CareCloud's error object:
// {"error":{"type","exception","title","detail","error_data":{...}}}.
type errorBody struct {
	Error *struct {
		Type      string          `json:"type"`
		Exception string          `json:"exception"`
		Title     string          `json:"title"`
		Detail    string          `json:"detail"`
		ErrorData json.RawMessage `json:"error_data"`
	} `json:"error"`
}

type errorData struct {
	InvalidParams []struct {
		Name   string `json:"name"`
		Reason string `json:"reason"`
	} `json:"invalid_params"`
}

// ErrorMessage is rest.Client.ErrorMessage for CareCloud: the detail (or
// title) of the error object plus the names and reasons of invalid_params;
// never the raw body, never the rejected values.
func ErrorMessage(status int, body []byte) string {
	var b errorBody
	if len(bytes.TrimSpace(body)) == 0 || json.Unmarshal(body, &b) != nil || b.Error == nil {
		return ""
	}
	msg := strings.TrimSpace(b.Error.Detail)
	if msg == "" {
		msg = strings.TrimSpace(b.Error.Title)
	}
	var d errorData
	// error_data is an object, or [] when empty: anything else is ignored.
	if len(b.Error.ErrorData) > 0 && b.Error.ErrorData[0] == '{' && json.Unmarshal(b.Error.ErrorData, &d) == nil {
		var ps []string
		for _, p := range d.InvalidParams {
			if p.Name == "" && p.Reason == "" {
				continue
			}
			ps = append(ps, strings.TrimSpace(p.Name+": "+p.Reason))
		}
		if len(ps) > 0 {
			list := strings.Join(ps, "; ")
			if msg == "" {
				msg = "invalid parameters: " + list
			} else {
				msg += " (" + list + ")"
			}
		}
	}
	return msg
}

// unknownID reports whether err is CareCloud's 400 naming one of the given
// parameters with reason not_found ("the request contains a non-existing
// resource ID"). rest.Client keeps only ErrorMessage's text, which lists
// invalid_params as "name: reason" after "(", "; " or "invalid parameters: ".
func unknownID(err error, names ...string) bool {
	var e *ds.Error
	if !errors.As(err, &e) || e.Status != http.StatusBadRequest {
		return false
	}
	for _, n := range names {
		for _, before := range []string{"(", "; ", "invalid parameters: "} {
			if strings.Contains(e.Message, before+n+": not_found") {
				return true
			}
		}
	}
	return false
}
