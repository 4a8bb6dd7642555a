package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func (m *testGateway) postRaw(t *testing.T, body any, header http.Header) (*http.Response, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", "http://"+m.Addr+"/graphql", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	// the default transport would ask for gzip and undo it itself: this test looks at the wire
	resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, raw
}

func TestAutomaticPersistedQueries(t *testing.T) {
	t.Parallel()
	m := startGateway(t)
	const q = `{ customers(first: 3) { nodes { id email } } }`
	sum := sha256.Sum256([]byte(q))
	hash := hex.EncodeToString(sum[:])
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}

	// a hash the gateway has not seen: PersistedQueryNotFound, as Apollo clients expect
	_, raw := m.postRaw(t, map[string]any{"extensions": ext}, nil)
	var miss gqlResponse
	_ = json.Unmarshal(raw, &miss)
	if len(miss.Errors) != 1 || miss.Errors[0].Message != "PersistedQueryNotFound" || miss.Errors[0].Extensions["code"] != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("miss: %s", raw)
	}
	// hash and text together: answered and remembered
	_, raw = m.postRaw(t, map[string]any{"query": q, "extensions": ext}, nil)
	var full gqlResponse
	if err := json.Unmarshal(raw, &full); err != nil || len(full.Errors) > 0 {
		t.Fatalf("register: %s", raw)
	}
	// the hash alone now, over POST and GET
	_, raw = m.postRaw(t, map[string]any{"extensions": ext}, nil)
	var hit gqlResponse
	_ = json.Unmarshal(raw, &hit)
	if len(hit.Errors) > 0 || string(hit.Data) != string(full.Data) {
		t.Fatalf("hit over POST: %s", raw)
	}
	e, _ := json.Marshal(ext)
	resp, err := http.Get("http://" + m.Addr + "/graphql?extensions=" + url.QueryEscape(string(e)))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	var get gqlResponse
	_ = json.Unmarshal(raw, &get)
	if len(get.Errors) > 0 || string(get.Data) != string(full.Data) {
		t.Fatalf("hit over GET: %s", raw)
	}
	// a hash that is not the text's
	bad := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(make([]byte, 32))}}
	_, raw = m.postRaw(t, map[string]any{"query": q, "extensions": bad}, nil)
	var mismatch gqlResponse
	_ = json.Unmarshal(raw, &mismatch)
	if len(mismatch.Errors) != 1 || mismatch.Errors[0].Extensions["code"] != "BAD_USER_INPUT" {
		t.Fatalf("mismatch: %s", raw)
	}
}

func TestResponsesAreGzippedWhenTheClientAcceptsIt(t *testing.T) {
	t.Parallel()
	m := startGateway(t)
	body := map[string]any{"query": `{ customers(first: 50) { nodes { id email name raw } } }`}
	plainResp, plain := m.postRaw(t, body, nil)
	if plainResp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("no Accept-Encoding, yet Content-Encoding %q", plainResp.Header.Get("Content-Encoding"))
	}
	zResp, z := m.postRaw(t, body, http.Header{"Accept-Encoding": {"gzip"}})
	if zResp.Header.Get("Content-Encoding") != "gzip" || zResp.Header.Get("Vary") == "" {
		t.Fatalf("Content-Encoding %q, Vary %q; want gzip and Vary", zResp.Header.Get("Content-Encoding"), zResp.Header.Get("Vary"))
	}
	r, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, _ := io.ReadAll(r)
	var a, b gqlResponse
	if json.Unmarshal(plain, &a) != nil || json.Unmarshal(unzipped, &b) != nil || string(a.Data) != string(b.Data) {
		t.Fatal("the gzipped answer differs from the plain one")
	}
	if len(z) >= len(plain)/2 {
		t.Fatalf("gzip gave %d bytes for %d", len(z), len(plain))
	}
	t.Logf("50 customers with raw: %d bytes plain, %d gzipped", len(plain), len(z))
}

// Compression is negotiated the same way whether the answer is executed or
// replayed from a stored response (the second and later requests here).
func TestCompressionIsNegotiatedForExecutedAndReplayedAnswers(t *testing.T) {
	t.Parallel()
	m := startGateway(t)
	body := map[string]any{"query": `{ customers(first: 30, filter: {providers: [KINTSUGI]}) { nodes { id email name raw } } }`}
	_, plain := m.postRaw(t, body, nil)
	var want gqlResponse
	if err := json.Unmarshal(plain, &want); err != nil {
		t.Fatal(err)
	}
	decode := map[string]func([]byte) ([]byte, error){
		"": func(b []byte) ([]byte, error) { return b, nil },
		"gzip": func(b []byte) ([]byte, error) {
			r, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return nil, err
			}
			return io.ReadAll(r)
		},
		"zstd": func(b []byte) ([]byte, error) {
			d, err := zstd.NewReader(nil)
			if err != nil {
				return nil, err
			}
			defer d.Close()
			return d.DecodeAll(b, nil)
		},
	}
	for _, tc := range []struct{ accept, want string }{
		{"gzip", "gzip"},
		{"zstd", "zstd"},
		{"gzip, deflate, br", "gzip"},
		{"gzip;q=0", ""},
		{"identity", ""},
		{"", ""},
	} {
		t.Run("Accept-Encoding "+tc.accept, func(t *testing.T) {
			for round := range 3 {
				h := http.Header{}
				if tc.accept != "" {
					h.Set("Accept-Encoding", tc.accept)
				}
				resp, raw := m.postRaw(t, body, h)
				if got := resp.Header.Get("Content-Encoding"); got != tc.want {
					t.Fatalf("round %d: Content-Encoding %q, want %q", round, got, tc.want)
				}
				text, err := decode[tc.want](raw)
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				var got gqlResponse
				if err := json.Unmarshal(text, &got); err != nil || string(got.Data) != string(want.Data) {
					t.Fatalf("round %d: the answer differs from the plain one (%v):\n%.300s\n%.300s", round, err, got.Data, want.Data)
				}
			}
		})
	}
	if responseHits(t, m) == 0 {
		t.Fatal("no answer was replayed: the test did not reach the stored-response path")
	}
}
