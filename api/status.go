package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	ds "github.com/federated-customers/gateway/datasource"
)

// statusFixer answers 200 instead of 422 for request errors when the client
// accepts only application/json, as GraphQL over HTTP recommends for legacy
// clients (application/graphql-response+json keeps gqlgen's 4xx). A request
// that failed before execution (any 4xx from gqlgen) carries no data entry,
// as the GraphQL spec asks; gqlgen writes "data": null there.
type statusFixer struct {
	http.ResponseWriter
	wrote       bool
	rejected    bool
	notModified bool
	x           *exchange // its quota refusal, the request's method and the answer's cache headers
}

func (s *statusFixer) WriteHeader(code int) {
	if s.wrote {
		return
	}
	s.wrote = true
	code = s.x.quota.apply(s.Header(), code)
	s.rejected = code >= 400 && code < 500
	if code == http.StatusNotAcceptable && s.x.pending.get {
		// gqlgen's GET transport refuses a mutation with 406; it is the
		// method that is wrong (GraphQL over HTTP: 405, Allow: POST)
		code = http.StatusMethodNotAllowed
		s.Header().Set("Allow", "POST")
	}
	if code == http.StatusUnprocessableEntity && strings.HasPrefix(s.Header().Get("Content-Type"), "application/json") {
		code = http.StatusOK
	}
	if s.x.pending.get {
		if code != http.StatusOK {
			s.x.pending.state = uncached
		}
		if s.x.pending.headers(s.Header()) {
			code, s.notModified = http.StatusNotModified, true // the client's copy is current
		}
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusFixer) Write(b []byte) (int, error) {
	if !s.wrote {
		s.WriteHeader(http.StatusOK)
	}
	if s.notModified {
		return len(b), nil
	}
	if s.rejected {
		var body map[string]json.RawMessage
		if json.Unmarshal(b, &body) == nil && (codeless(body) || string(body["data"]) == "null") {
			delete(body, "data")
			if nb, err := json.Marshal(body); err == nil {
				if _, err := s.ResponseWriter.Write(append(nb, '\n')); err != nil {
					return 0, err
				}
				return len(b), nil
			}
		}
	}
	return s.ResponseWriter.Write(b)
}

// codeless gives BAD_USER_INPUT to request errors that gqlgen's transports
// wrote without the error presenter (a mutation over GET), and reports
// whether it changed any.
func codeless(body map[string]json.RawMessage) bool {
	var errs []map[string]any
	if json.Unmarshal(body["errors"], &errs) != nil {
		return false
	}
	changed := false
	for _, e := range errs {
		ext, _ := e["extensions"].(map[string]any)
		if _, ok := ext["code"]; ok {
			continue
		}
		if ext == nil {
			ext = map[string]any{}
			e["extensions"] = ext
		}
		ext["code"] = string(ds.CodeBadUserInput)
		changed = true
	}
	if changed {
		body["errors"], _ = json.Marshal(errs)
	}
	return changed
}

// writeError answers a request the GraphQL engine never saw, still with a GraphQL body.
func writeError(w http.ResponseWriter, r *http.Request, status int, code ds.Code, msg string) {
	noteError(r.Context(), string(code), "")
	w.Header().Set("Content-Type", responseType(r))
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{
		"message": msg, "extensions": map[string]any{"code": string(code)},
	}}})
}
func humanBytes(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + " MiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// capResponse replaces data larger than max bytes with an error: the
// caller asked for more than one response may carry.
func capResponse(resp *graphql.Response, max int) {
	if len(resp.Data) <= max {
		return
	}
	n := len(resp.Data)
	resp.Data = nil
	resp.Errors = append(resp.Errors, &gqlerror.Error{
		Message: fmt.Sprintf("the response would be %s, over the limit of %s: ask for fewer fields or smaller pages",
			humanBytes(int64(n)), humanBytes(int64(max))),
		Extensions: map[string]any{"code": string(ds.CodeQueryTooComplex)},
	})
}
