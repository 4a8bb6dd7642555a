package rest

import (
	"encoding/base64"
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	ds "github.com/federated-customers/gateway/datasource"
)

// redacted replaces a secret in any message that leaves the client.
const redacted = "[REDACTED]"

// minSecret is the shortest value scrubbed: shorter ones would mangle
// ordinary words and are not credentials worth the name.
const minSecret = 4

// Secrets is the set of a provider's configured and fetched credentials
// (API keys, bearer and access tokens, passwords, client secrets). Every
// error the client returns, and every line it logs, has each of them
// replaced by [REDACTED], whatever the vendor echoed in its body. It is safe
// for concurrent use; the zero value holds none.
type Secrets struct {
	mu   sync.RWMutex
	vals []string
	// forms are every way a secret may be written in a message, lower
	// case, longest first: plain, URL-escaped (query and path), base64 in
	// each alphabet at each of the three byte alignments it may take
	// inside a longer encoded value (an Authorization: Basic header).
	forms []string
}

// NewSecrets returns a set holding vals (empty ones are ignored).
func NewSecrets(vals ...string) *Secrets {
	s := &Secrets{}
	s.Add(vals...)
	return s
}

// Add remembers more secrets, e.g. a token fetched at run time.
func (s *Secrets) Add(vals ...string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range vals {
		if len(v) < minSecret {
			continue
		}
		dup := false
		for _, have := range s.vals {
			dup = dup || have == v
		}
		if !dup {
			s.vals = append(s.vals, v)
		}
	}
	seen := map[string]bool{}
	s.forms = s.forms[:0]
	for _, v := range s.vals {
		for _, f := range forms(v) {
			if f = asciiLower(f); len(f) >= minSecret && !seen[f] {
				seen[f] = true
				s.forms = append(s.forms, f)
			}
		}
	}
	// longest first, so a secret containing another is replaced whole
	slices.SortStableFunc(s.forms, func(a, b string) int { return len(b) - len(a) })
}

// forms is every way v may be written in a vendor's message.
func forms(v string) []string {
	out := []string{v, url.QueryEscape(v), url.PathEscape(v)}
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		for align := 0; align < 3; align++ {
			// the characters that encode v's bits alone, whatever bytes
			// come before and after it
			e := enc.EncodeToString(append(make([]byte, align), v...))
			from := (8*align + 5) / 6
			to := (8*(align+len(v)) - 6) / 6
			if to+1 > from && to < len(e) {
				out = append(out, e[from:to+1])
			}
		}
	}
	return out
}

// asciiLower lowers ASCII letters only, so byte offsets stay the same.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

// minPartial is the shortest start of a secret scrubbed where a message
// ends: what a cut left of a longer secret.
const minPartial = 6

// userinfo matches the credentials of a URL written in a message (scheme://user:pass@host).
var userinfo = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@`)

// Scrub returns m with every secret, in any of its forms and in any case,
// and any URL user:password, replaced; a message that ends in the start of
// a secret (cut short before it reached here) loses that start too.
func (s *Secrets) Scrub(m string) string {
	m = userinfo.ReplaceAllString(m, "${1}"+redacted+"@")
	if s == nil {
		return m
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, f := range s.forms {
		m = replaceFold(m, f)
	}
	body, cut := strings.CutSuffix(m, "…")
	lower := asciiLower(body)
	for _, f := range s.forms {
		for n := len(f) - 1; n >= minPartial; n-- {
			if strings.HasSuffix(lower, f[:n]) {
				m = body[:len(body)-n] + redacted
				if cut {
					m += "…"
				}
				return m
			}
		}
	}
	return m
}

// replaceFold replaces every occurrence of lower (ASCII lower case) in m,
// whatever the case of m's letters.
func replaceFold(m, lower string) string {
	lm := asciiLower(m)
	if !strings.Contains(lm, lower) {
		return m
	}
	var b strings.Builder
	for {
		i := strings.Index(lm, lower)
		if i < 0 {
			b.WriteString(m)
			return b.String()
		}
		b.WriteString(m[:i])
		b.WriteString(redacted)
		m, lm = m[i+len(lower):], lm[i+len(lower):]
	}
}

// scrubbed is an error whose text has been scrubbed; it still unwraps to
// the original so errors.Is/As (context deadlines, *url.Error) keep working.
type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }

// ScrubError returns err with its message and cause text scrubbed. A
// *ds.Error stays a *ds.Error (a copy), so its code, provider and reason
// reach the presenter unchanged.
func (s *Secrets) ScrubError(err error) error {
	if err == nil {
		return nil
	}
	var e *ds.Error
	if errors.As(err, &e) {
		c := *e
		c.Message = s.Scrub(e.Message)
		if e.Err != nil {
			c.Err = &scrubbed{msg: s.Scrub(e.Err.Error()), err: e.Err}
		}
		return &c
	}
	return &scrubbed{msg: s.Scrub(err.Error()), err: err}
}
