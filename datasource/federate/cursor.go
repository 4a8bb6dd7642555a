// Cursors: CursorCodec signs and checks positions, bound to a connection kind and filter fingerprint.

package federate

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"

	ds "github.com/federated-customers/gateway/datasource"
)

// cursorV1 is the wire form of a cursor: self-contained, so no server-side
// session is needed and it survives restarts and replicas.
type cursorV1 struct {
	V int    `json:"v"`
	K string `json:"k"` // list kind: "c" customers, "s" sources
	H string `json:"h"` // fingerprint of filter and order the cursor was issued for
	P int    `json:"p"`
	T string `json:"t,omitempty"`
	S int    `json:"s,omitempty"`
	// D are deferred providers (p, t, s only); E marks the tail pass.
	D []cursorV1 `json:"d,omitempty"`
	E bool       `json:"e,omitempty"`
	N bool       `json:"n,omitempty"` // Position.NoneBefore
}

const maxCursorLength = 2048 // security: bounds decoding work and vendor tokens we replay

// CursorCodec signs cursors so a client cannot hand-craft the vendor tokens
// inside them (security: tokens are replayed to vendors with our credentials).
// Every replica must share the key for cursors to survive a hop between them.
type CursorCodec struct{ Key []byte }

func (c CursorCodec) mac(payload string) string {
	m := hmac.New(sha256.New, c.Key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:12])
}

// Encode makes an opaque cursor for pos in a list of kind with fingerprint fp.
func (c CursorCodec) Encode(kind, fp string, pos ds.Position) string {
	w := cursorV1{V: 1, K: kind, H: fp, P: int(pos.Provider), T: pos.Token, S: pos.Skip, E: pos.Tail, N: pos.NoneBefore}
	for _, d := range pos.Deferred {
		w.D = append(w.D, cursorV1{P: int(d.Provider), T: d.Token, S: d.Skip})
	}
	b, _ := json.Marshal(w)
	payload := base64.RawURLEncoding.EncodeToString(b)
	return payload + "." + c.mac(payload)
}

// Decode checks and decodes a cursor. Anything wrong is BAD_USER_INPUT.
func (cc CursorCodec) Decode(kind, fp, s string) (ds.Position, error) {
	bad := func(why string) (ds.Position, error) {
		return ds.Position{}, ds.Errorf(ds.CodeBadUserInput, "invalid cursor %s: %s", ds.QuoteShort(s), why)
	}
	if s == "" {
		return bad("empty")
	}
	if len(s) > maxCursorLength {
		return bad("too long")
	}
	payload, sig, ok := strings.Cut(s, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(cc.mac(payload))) {
		return bad("not a cursor issued by this gateway")
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return bad("not a cursor issued by this gateway")
	}
	var c cursorV1
	if err := json.Unmarshal(raw, &c); err != nil || c.V != 1 || c.K == "" {
		return bad("not a cursor issued by this gateway")
	}
	if c.K != kind {
		return bad("issued for another list")
	}
	if c.H != fp {
		return bad("issued for a different filter or order; start again without after/before")
	}
	p := ds.ProviderID(c.P)
	if !p.Valid() || c.S < 0 || c.S > 10000 || len(c.D) > len(ds.AllProviders) {
		return bad("malformed")
	}
	pos := ds.Position{Provider: p, Token: c.T, Skip: c.S, Tail: c.E, NoneBefore: c.N}
	seen := map[ds.ProviderID]bool{p: true}
	for _, d := range c.D {
		dp := ds.ProviderID(d.P)
		if !dp.Valid() || seen[dp] || d.S < 0 || d.S > 10000 || d.D != nil || d.E || d.N || d.V != 0 || d.K != "" || d.H != "" {
			return bad("malformed")
		}
		seen[dp] = true
		pos.Deferred = append(pos.Deferred, ds.Position{Provider: dp, Token: d.T, Skip: d.S})
	}
	return pos, nil
}
