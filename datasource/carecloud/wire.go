package carecloud

import (
	"bytes"
	"encoding/json"
	"strings"

	ds "github.com/federated-customers/gateway/datasource"
)

// recordsEnvelope is GET /customer-source-records and
// GET /customers/{customer_id}/customer-source-records.
type recordsEnvelope struct {
	Data struct {
		Records    []ds.Record[wireRecord] `json:"customer_source_records"`
		TotalItems *int                    `json:"total_items"`
	} `json:"data"`
}

// wireRecord is one customer source record. Only customer_source_id is
// required by the spec; each record has exactly one external_id.
type wireRecord struct {
	CustomerSourceRecordID string  `json:"customer_source_record_id"`
	CustomerSourceID       string  `json:"customer_source_id"`
	CustomerID             string  `json:"customer_id"`
	ExternalID             *string `json:"external_id"`
	LastChange             *string `json:"last_change"`
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
		TotalItems *int         `json:"total_items"`
	} `json:"data"`
}

type wireSource struct {
	CustomerSourceID     string `json:"customer_source_id"`
	Name                 string `json:"name"`
	CustomerSourceTextID string `json:"customer_source_text_id"`
	State                *int   `json:"state"`
	LastChange           string `json:"last_change"`
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
