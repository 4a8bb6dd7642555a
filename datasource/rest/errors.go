package rest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	ds "github.com/federated-customers/gateway/datasource"
)

// isRetryable: 429, 5xx, timeouts and connection errors; never an open
// circuit, the gateway's own quota (which already waited what it could),
// the gateway's rejected credentials or a refused redirect.
func isRetryable(e *ds.Error) bool {
	var refused *RedirectRefused
	if e.Reason != "" || errors.As(e.Err, &refused) { // a redirect elsewhere is the vendor's answer, not a glitch
		return false
	}
	switch e.Code {
	case ds.CodeProviderRateLimited:
		return e.Status == http.StatusTooManyRequests
	case ds.CodeProviderUnavailable:
		return e.Status == 0 || e.Status >= 500
	}
	return false
}

// statusError maps an HTTP status to the gateway's codes, saying whose fault
// it is. The vendor message is kept (it is the vendor's message, not its raw
// body); Do scrubs credentials from it.
//
//   - 401 (after a re-login, where there is one) and 403: the vendor rejects
//     the gateway's own credentials. The caller can do nothing about it, so
//     it is PROVIDER_UNAVAILABLE with reason PROVIDER_AUTH, never
//     UNAUTHENTICATED (that code is for the caller's own API key).
//   - 400, 409, 422 on a read: the gateway built a request the vendor refuses,
//     a gateway bug: INTERNAL. On a write, or a read marked CallerInput, they
//     judge the caller's input: BAD_USER_INPUT.
//   - other 4xx (405, 406, 415, ...): INTERNAL.
func (c *Client) statusError(callerInput bool, status int, msg string) *ds.Error {
	code, def, reason := ds.CodeProviderUnavailable, "the provider failed", ""
	switch {
	case status == 401:
		code, def, reason = ds.CodeProviderUnavailable, "the provider rejected the gateway's credentials", ds.ReasonProviderAuth
	case status == 403:
		code, def, reason = ds.CodeProviderUnavailable, "the provider refused the gateway's credentials access", ds.ReasonProviderAuth
	case status == 404:
		code, def = ds.CodeNotFound, "not found at the provider"
	case status == 429:
		code, def = ds.CodeProviderRateLimited, "the provider is rate limiting the gateway"
	case callerInput && (status == 400 || status == 409 || status == 422):
		code, def = ds.CodeBadUserInput, "the provider rejected the request"
	case status >= 400 && status < 500:
		code, def = ds.CodeInternal, "the provider rejected the gateway's request"
	}
	m := def
	if msg != "" {
		// scrubbed before it is cut: a cut through a secret would leave
		// its start, which no longer matches the whole secret
		m = def + ": " + truncate(c.Secrets.Scrub(msg), 300)
	}
	e := &ds.Error{Code: code, Message: m, Status: status, Reason: reason, Err: fmt.Errorf("%s HTTP %d", c.Provider, status)}
	p := c.Provider
	e.Provider = &p
	return e
}

// noteFailure logs what the operator must know: the vendor rejecting the
// gateway's credentials (ERROR, once per change of state) and requests the
// vendor refused as malformed (WARN: a gateway bug). Never a secret.
func (c *Client) noteFailure(ctx context.Context, req Request, err error) {
	var e *ds.Error
	if !errors.As(err, &e) {
		return
	}
	switch {
	case e.Reason == ds.ReasonProviderAuth:
		if c.authFailing.CompareAndSwap(false, true) {
			c.logger().Error("the provider rejects the gateway's credentials; check its configuration",
				"provider", c.Provider.String(), "status", e.Status, "method", req.Method, "path", req.Path)
		}
	case e.Code == ds.CodeInternal && e.Status >= 400:
		c.logger().Warn("the provider refused a request the gateway built", "request_id", ds.RequestID(ctx),
			"provider", c.Provider.String(), "status", e.Status, "method", req.Method, "path", req.Path,
			"message", c.Secrets.Scrub(e.Message))
	}
}

// noteSuccess logs the credentials being accepted again after a rejection.
func (c *Client) noteSuccess() {
	if c.authFailing.CompareAndSwap(true, false) {
		c.logger().Info("the provider accepts the gateway's credentials again", "provider", c.Provider.String())
	}
}

func (c *Client) fail(code ds.Code, status int, msg string, cause error) *ds.Error {
	p := c.Provider
	return &ds.Error{Code: code, Provider: &p, Message: msg, Status: status, Err: cause}
}

func ctxError(p ds.ProviderID, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return &ds.Error{Code: ds.CodeProviderUnavailable, Provider: &p, Message: "the provider did not answer before the request's deadline", Err: err}
	}
	return err
}

// parseRetryAfter reads delta-seconds or an HTTP date; 0 when absent or bad.
func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n-- // never through a character
	}
	return s[:n] + "…"
}

// Unreadable is the error for an answer the vendor package cannot read
// (an envelope or record of another shape): the vendor failed, and what
// names the part, prefixed with the vendor's key for the logs.
func Unreadable(p ds.ProviderID, what string) *ds.Error {
	return &ds.Error{Code: ds.CodeProviderUnavailable, Provider: &p,
		Message: "the provider sent a response this gateway cannot read", Err: errors.New(p.Key() + ": " + what)}
}
