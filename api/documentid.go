package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// documentIDs are the body fields clients name a persisted document by
// instead of extensions.persistedQuery: GraphQL over HTTP's persisted
// documents (documentId) and Relay's examples (doc_id).
var documentIDs = []string{"documentId", "doc_id"}

// documentID reads a request that names its persisted document by
// documentId or doc_id (POST body or GET query string) as one with
// extensions.persistedQuery, and returns the body to use.
func documentID(r *http.Request, body []byte) []byte {
	if r.Method != http.MethodPost {
		documentIDInURL(r.URL)
		return body
	}
	out := documentIDAsPersistedQuery(body)
	r.Body = io.NopCloser(bytes.NewReader(out))
	return out
}

// documentIDAsPersistedQuery turns a POST body naming its document by
// documentId or doc_id (and carrying no query) into the same request with
// extensions.persistedQuery, which the trusted documents and APQ read.
func documentIDAsPersistedQuery(body []byte) []byte {
	if !bytes.Contains(body, []byte(`"documentId"`)) && !bytes.Contains(body, []byte(`"doc_id"`)) {
		return body // the usual case costs a scan, not a decode
	}
	var req map[string]json.RawMessage
	if json.Unmarshal(body, &req) != nil || req["query"] != nil {
		return body
	}
	for _, name := range documentIDs {
		var id string
		if json.Unmarshal(req[name], &id) != nil || id == "" {
			continue
		}
		var ext map[string]any
		_ = json.Unmarshal(req["extensions"], &ext)
		if ext == nil {
			ext = map[string]any{}
		}
		ext["persistedQuery"] = map[string]any{"version": 1, "sha256Hash": id}
		req["extensions"], _ = json.Marshal(ext)
		delete(req, name)
		if out, err := json.Marshal(req); err == nil {
			return out
		}
		return body
	}
	return body
}

// documentIDInURL does the same for GET ?documentId=...
func documentIDInURL(u *url.URL) {
	if !strings.Contains(u.RawQuery, "documentId=") && !strings.Contains(u.RawQuery, "doc_id=") {
		return
	}
	q := u.Query()
	for _, name := range documentIDs {
		id := q.Get(name)
		if id == "" || q.Get("query") != "" || q.Get("extensions") != "" {
			continue
		}
		ext, _ := json.Marshal(map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": id}})
		q.Del(name)
		q.Set("extensions", string(ext))
		u.RawQuery = q.Encode()
		return
	}
}
