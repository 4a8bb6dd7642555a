package datasource

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
)

// Position is a place in a federated list: inside provider Provider, Skip raw
// (pre-filter) items after the provider-native position Token ("" = start).
// Every pagination style maps to it: offsets and page numbers (CareCloud,
// Kintsugi, Commerce Layer) encode the absolute offset in Token, Digital River
// the id to start after, Telness its opaque nextCursor. Skip lets a cursor
// point inside a vendor page without the vendor supporting that.
//
// Deferred holds providers a walk passed over because they failed, each with
// where it goes on; they are walked after the last provider (Tail marks that
// the main pass is over), so one provider's outage does not hide the others.
type Position struct {
	Provider ProviderID
	Token    string
	Skip     int
	Deferred []Position
	Tail     bool
	// NoneBefore marks the resume position of a page with no edges that
	// nothing matched before: the next page has no previous page.
	NoneBefore bool
}

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
func (c CursorCodec) Encode(kind, fp string, pos Position) string {
	w := cursorV1{V: 1, K: kind, H: fp, P: int(pos.Provider), T: pos.Token, S: pos.Skip, E: pos.Tail, N: pos.NoneBefore}
	for _, d := range pos.Deferred {
		w.D = append(w.D, cursorV1{P: int(d.Provider), T: d.Token, S: d.Skip})
	}
	b, _ := json.Marshal(w)
	payload := base64.RawURLEncoding.EncodeToString(b)
	return payload + "." + c.mac(payload)
}

// Decode checks and decodes a cursor. Anything wrong is BAD_USER_INPUT.
func (cc CursorCodec) Decode(kind, fp, s string) (Position, error) {
	bad := func(why string) (Position, error) {
		return Position{}, Errorf(CodeBadUserInput, "invalid cursor %s: %s", quoteShort(s), why)
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
	p := ProviderID(c.P)
	if !p.Valid() || c.S < 0 || c.S > 10000 || len(c.D) > len(AllProviders) {
		return bad("malformed")
	}
	pos := Position{Provider: p, Token: c.T, Skip: c.S, Tail: c.E, NoneBefore: c.N}
	seen := map[ProviderID]bool{p: true}
	for _, d := range c.D {
		dp := ProviderID(d.P)
		if !dp.Valid() || seen[dp] || d.S < 0 || d.S > 10000 || d.D != nil || d.E || d.N || d.V != 0 || d.K != "" || d.H != "" {
			return bad("malformed")
		}
		seen[dp] = true
		pos.Deferred = append(pos.Deferred, Position{Provider: dp, Token: d.T, Skip: d.S})
	}
	return pos, nil
}

// Fingerprint hashes the canonical JSON of v (a filter and order) so a cursor
// cannot be replayed against a different query.
func Fingerprint(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}
