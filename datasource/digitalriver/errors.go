package digitalriver

import (
	"encoding/json"
	"strings"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
)

func unreadable(what string) error { return rest.Unreadable(ds.DigitalRiver, what) }

// drErrors is the documented Errors body of every non-2xx response.
type drErrors struct {
	Type   string `json:"type"`
	Errors []struct {
		Code      string `json:"code"`
		Parameter string `json:"parameter"`
		Message   string `json:"message"`
	} `json:"errors"`
}

// errorMessage joins errors[].message; "" when the body has none.
func errorMessage(_ int, body []byte) string {
	var e drErrors
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	var msgs []string
	for _, x := range e.Errors {
		if m := strings.TrimSpace(x.Message); m != "" {
			msgs = append(msgs, m)
		}
	}
	return strings.Join(msgs, "; ")
}
