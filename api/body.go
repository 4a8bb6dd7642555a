package api

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
)

// readBody reads a POST request's body, bounded in size and in time,
// before the request may take an in-flight or queue slot: a client that
// trickles its body (a byte a second) then holds a connection, never the
// capacity every other caller shares. GET requests carry the query in the
// URL, which the server's header deadline already bounds. It answers the
// request itself and returns false when the body is refused.
func readBody(w http.ResponseWriter, r *http.Request, l Limits) (body []byte, ok bool) {
	if r.Method != http.MethodPost {
		if len(r.URL.RawQuery) > int(l.MaxBodyBytes) {
			writeError(w, r, http.StatusRequestURITooLong, ds.CodeBadUserInput, "the query string is too long; use POST")
			return nil, false
		}
		return nil, true
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && mt != "application/graphql-response+json") {
		writeError(w, r, http.StatusUnsupportedMediaType, ds.CodeBadUserInput, "POST /graphql takes Content-Type: application/json")
		return nil, false
	}
	rc := http.NewResponseController(w)
	deadline := rc.SetReadDeadline(time.Now().Add(l.BodyTimeout)) == nil   // not every writer has a connection under it (tests)
	body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, l.MaxBodyBytes)) // security: bounded body
	if deadline {
		_ = rc.SetReadDeadline(time.Time{})
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeError(w, r, http.StatusRequestEntityTooLarge, ds.CodeBadUserInput, "the request body is larger than "+humanBytes(l.MaxBodyBytes))
		return nil, false
	case err != nil:
		w.Header().Set("Connection", "close")
		writeError(w, r, http.StatusRequestTimeout, ds.CodeBadUserInput,
			"the request body did not arrive within "+l.BodyTimeout.String()+": send it whole, at once")
		return nil, false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, true
}
