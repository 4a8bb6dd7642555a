package commercelayer

import (
	"encoding/json"
	"strings"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
)

// errorMessage reads the documented error body
// {"errors":[{"title","detail","code","status":"404","source":{"pointer"},"meta"}]}
// liberally: errors may be one object rather than an array, an entry of
// another shape is skipped rather than costing the others, and an
// OAuth-style {"error","error_description"} (what a token-checking layer in
// front of the API may send with a 401) is read too. It joins the errors'
// details (else titles, else codes), naming the attribute of a validation
// error when the detail does not; "" when the body has none. Never the
// whole body.
func errorMessage(_ int, body []byte) string {
	var env map[string]json.RawMessage
	if json.Unmarshal(body, &env) != nil {
		return ""
	}
	var items []json.RawMessage
	if json.Unmarshal(env["errors"], &items) != nil {
		items = []json.RawMessage{env["errors"]}
	}
	var msgs []string
	for _, raw := range items {
		var x map[string]json.RawMessage
		if json.Unmarshal(raw, &x) != nil {
			continue
		}
		m := str(x["detail"])
		if m == "" {
			m = str(x["title"])
		}
		if m == "" {
			m = str(x["code"])
		}
		if m == "" {
			continue
		}
		var src map[string]json.RawMessage
		if json.Unmarshal(x["source"], &src) == nil {
			if attr := strings.TrimPrefix(str(src["pointer"]), "/data/attributes/"); attr != "" && !strings.HasPrefix(m, attr) {
				m = attr + ": " + m
			}
		}
		msgs = append(msgs, m)
	}
	if len(msgs) == 0 {
		if m := str(env["error_description"]); m != "" {
			return m
		}
		return str(env["error"])
	}
	return strings.Join(msgs, "; ")
}

// str is raw as a trimmed string when it is a JSON string, else "".
func str(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return strings.TrimSpace(s)
}

func unreadable(what string) error { return rest.Unreadable(ds.CommerceLayer, what) }
