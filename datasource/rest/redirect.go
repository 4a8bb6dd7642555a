package rest

import (
	"errors"
	"net/http"
	"net/url"
	"time"
)

// maxRedirects is how many same-origin redirects one call follows (Go's own bound).
const maxRedirects = 10

// RedirectRefused is the error of a call whose answer redirected to
// another scheme or host. Target is where to, without its query.
type RedirectRefused struct{ Target string }

func (e *RedirectRefused) Error() string {
	return "refused a redirect to another host: " + e.Target
}

// SameOrigin is the vendor clients' CheckRedirect: a redirect is followed
// only to the scheme and host of the first request. security: Go strips
// only Authorization and cookies when a redirect leaves the host, so
// credentials sent in other headers (X-Api-Key, X-Organization-Id) or a
// token request's body (307, 308) would follow it anywhere.
func SameOrigin(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return errors.New("stopped after 10 redirects")
	}
	first := via[0].URL
	if req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
		u := url.URL{Scheme: req.URL.Scheme, Host: req.URL.Host, Path: req.URL.Path}
		return &RedirectRefused{Target: u.String()}
	}
	return nil
}

// withSameOrigin is hc following redirects only within their origin.
func withSameOrigin(hc *http.Client) *http.Client {
	if hc.CheckRedirect != nil {
		return hc
	}
	c := *hc
	c.CheckRedirect = SameOrigin
	return &c
}

// DefaultHTTPClient is a vendor client's HTTP client when it is given none:
// the guard (if any) bounds each attempt, the timeout is a backstop, and
// redirects are followed only within their origin.
func DefaultHTTPClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, CheckRedirect: SameOrigin}
}
