package telness

import (
	"encoding/json"
	"strings"
	"unicode"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
)

func unreadable(what string) error { return rest.Unreadable(ds.Telness, what) }

// errorMessage reads error.message of the (undocumented, assumed) body
// {"error":{"code":"…","message":"…"}}. Any other JSON, a non-JSON or an
// empty body gives "": the status alone then decides the error code.
func errorMessage(_ int, body []byte) string {
	var env struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &env) != nil || len(env.Error) == 0 {
		return ""
	}
	var e struct {
		Message json.RawMessage `json:"message"`
	}
	if json.Unmarshal(env.Error, &e) != nil || len(e.Message) == 0 {
		return ""
	}
	var msg string
	if json.Unmarshal(e.Message, &msg) != nil {
		return ""
	}
	msg = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, msg)
	return strings.TrimSpace(msg)
}
