package rest

import (
	"errors"
	"net/url"
	"regexp"
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
	// longest first, so a secret containing another is replaced whole
	for i := 1; i < len(s.vals); i++ {
		for j := i; j > 0 && len(s.vals[j]) > len(s.vals[j-1]); j-- {
			s.vals[j], s.vals[j-1] = s.vals[j-1], s.vals[j]
		}
	}
}

// userinfo matches the credentials of a URL written in a message (scheme://user:pass@host).
var userinfo = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@`)

// Scrub returns m with every secret, in plain and URL-escaped form, and any
// URL user:password, replaced.
func (s *Secrets) Scrub(m string) string {
	m = userinfo.ReplaceAllString(m, "${1}"+redacted+"@")
	if s == nil {
		return m
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, v := range s.vals {
		m = strings.ReplaceAll(m, v, redacted)
		if q := url.QueryEscape(v); q != v {
			m = strings.ReplaceAll(m, q, redacted)
		}
	}
	return m
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
