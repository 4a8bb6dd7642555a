// Package rest is the HTTP plumbing shared by the vendor clients: building
// requests, retries that honour the server's hint, bounded body reads, status
// to error-code mapping and per-request call accounting. It knows no vendor:
// each vendor package supplies its auth and its error-body decoding.
package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	ds "github.com/federated-customers/gateway/datasource"
)

const (
	maxBodyBytes  = 16 << 20 // a success body larger than this is refused
	maxErrorBytes = 64 << 10 // error bodies are read only this far
	// MaxRetryWait caps how long one call waits for a server's Retry-After
	// before giving up with PROVIDER_RATE_LIMITED: a GraphQL client is waiting.
	MaxRetryWait = 5 * time.Second
)

// Client calls one vendor's REST API.
type Client struct {
	Provider ds.ProviderID
	BaseURL  *url.URL
	HTTP     *http.Client
	// Authorize sets credentials on the request (may fetch a token first).
	Authorize func(ctx context.Context, r *http.Request) error
	// Reauthorize drops a cached token after a 401; nil for static credentials.
	// The call is then retried once.
	Reauthorize func()
	// ErrorMessage extracts the vendor's human message from an error body;
	// it returns "" when the body has none. Never the whole body.
	ErrorMessage func(status int, body []byte) string
	// Accept is the Accept header (default application/json); ContentType for bodies.
	Accept, ContentType string
	// Retries is how often a retryable call is tried again (default 2).
	Retries int
	// BaseBackoff is the first backoff when the server gives no hint (default 100ms).
	BaseBackoff time.Duration
	// Log receives the client's error lines (default slog.Default()).
	Log *slog.Logger
	// Secrets are scrubbed from every error returned and every line logged.
	Secrets *Secrets

	credID string // see CredentialID

	// authFailing is set while the provider rejects the gateway's credentials,
	// so the ERROR line is written once per change of state, not per call.
	authFailing atomic.Bool
}

// Request is one call.
type Request struct {
	Method string
	Path   string // appended to BaseURL's path
	Query  url.Values
	Body   any
	Header http.Header
	// Idempotent marks a write that may be retried (e.g. it carries an idempotency key).
	Idempotent bool
	// CallerInput marks a read that carries a value the caller chose (a page
	// token from their cursor): the vendor's 400/409/422 then judge the
	// caller's input (BAD_USER_INPUT), not a request the gateway got wrong
	// (INTERNAL). Writes always carry caller input.
	CallerInput bool
	// List marks a read of a collection (a list or bulk lookup): a 404 there
	// means the base_url is wrong, not that a record is missing, and the
	// provider's health says MISCONFIGURED.
	List bool
}

// Response is what a successful call returned.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do performs req and decodes a 2xx JSON body into out (when out != nil).
// Every error it returns is a scrubbed *ds.Error (or the caller's own
// context error): no configured secret survives in its text.
func (c *Client) Do(ctx context.Context, req Request, out any) (*Response, error) {
	resp, err := c.do(ctx, req, out)
	if err != nil {
		c.noteFailure(ctx, req, err)
		if g := c.guard(); g != nil {
			g.noteError(ds.ErrorCode(err))
			g.noteConfigError(req, err)
		}
		return nil, c.Secrets.ScrubError(err)
	}
	c.noteSuccess()
	if g := c.guard(); g != nil {
		g.noteConfigSuccess(req)
	}
	return resp, nil
}

func (c *Client) do(ctx context.Context, req Request, out any) (*Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := json.Marshal(req.Body)
		if err != nil {
			return nil, fmt.Errorf("encode %s body: %w", c.Provider, err)
		}
		body = b
	}
	retries := c.Retries
	if retries == 0 {
		retries = 2
	}
	retryable := req.Method == http.MethodGet || req.Method == http.MethodHead || req.Idempotent
	reauthed := false
	g := c.guard()
	if g != nil {
		g.noteCall()
	}
	for attempt := 0; ; attempt++ {
		resp, err := c.once(withAttempt(ctx, attempt), req, body)
		if err == nil {
			if out != nil && len(resp.Body) > 0 {
				if err := json.Unmarshal(resp.Body, out); err != nil {
					return nil, c.fail(ds.CodeProviderUnavailable, resp.Status, "the provider sent a response this gateway cannot read", err)
				}
			}
			return resp, nil
		}
		var e *ds.Error
		if !errors.As(err, &e) {
			return nil, err
		}
		if e.Status == http.StatusUnauthorized && c.Reauthorize != nil && !reauthed {
			c.Reauthorize()
			reauthed = true
			continue
		}
		if !retryable || attempt >= retries || !isRetryable(e) {
			return nil, err
		}
		wait := c.backoff(attempt)
		if e.RetryAfter > 0 {
			if e.RetryAfter > MaxRetryWait {
				return nil, err // the hint is longer than a client should wait: say so
			}
			wait = e.RetryAfter
		}
		if g != nil && !g.AllowRetry(ctx, wait) {
			return nil, err // the retry budget or the provider's time budget is spent
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctxError(c.Provider, ctx.Err())
		case <-t.C:
		}
	}
}

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

// guard is the Guard in front of this client's calls, when there is one:
// the transport itself or one it wraps (Unwrap, as Traced does), so that a
// wrapper never silently turns the retry budget off.
func (c *Client) guard() *Guard {
	if c.HTTP == nil {
		return nil
	}
	rt := c.HTTP.Transport
	for range 8 { // wrappers do not nest deeper; a cycle must not hang
		switch t := rt.(type) {
		case *Guard:
			return t
		case interface{ Unwrap() http.RoundTripper }:
			rt = t.Unwrap()
		default:
			return nil
		}
	}
	return nil
}

// backoff is exponential with full jitter.
func (c *Client) backoff(attempt int) time.Duration {
	base := c.BaseBackoff
	if base == 0 {
		base = 100 * time.Millisecond
	}
	d := base << attempt
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

func (c *Client) once(ctx context.Context, req Request, body []byte) (*Response, error) {
	u := *c.BaseURL
	u.Path = strings.TrimRight(u.Path, "/") + req.Path
	u.RawPath = ""
	if len(req.Query) > 0 {
		u.RawQuery = req.Query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, u.String(), rd)
	if err != nil {
		return nil, c.fail(ds.CodeInternal, 0, "could not build the provider request", err)
	}
	accept := c.Accept
	if accept == "" {
		accept = "application/json"
	}
	hr.Header.Set("Accept", accept)
	setRequestHeaders(ctx, hr)
	if body != nil {
		ct := c.ContentType
		if ct == "" {
			ct = "application/json"
		}
		hr.Header.Set("Content-Type", ct)
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	if c.Authorize != nil {
		if err := c.Authorize(ctx, hr); err != nil {
			var e *ds.Error
			if errors.As(err, &e) {
				return nil, err
			}
			if ctx.Err() != nil {
				return nil, ctxError(c.Provider, ctx.Err())
			}
			e = c.fail(ds.CodeProviderUnavailable, 0, "could not obtain credentials for the provider", err)
			e.Reason = ds.ReasonProviderAuth
			return nil, e
		}
	}
	if err := ds.SpendCall(ctx, c.Provider); err != nil {
		return nil, err // the request's budget of upstream calls is spent
	}
	leave, err := ds.EnterCall(ctx) // a costly request's bounded share of calls in flight
	if err != nil {
		return nil, ctxError(c.Provider, err)
	}
	defer leave()
	start := time.Now()
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := withSameOrigin(hc).Do(hr)
	ds.RecordCall(ctx, c.Provider, time.Since(start), ds.Live)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctxError(c.Provider, ctx.Err())
		}
		var refused *RedirectRefused
		if errors.As(err, &refused) {
			c.logger().Warn("the provider redirected to another host; not followed, so the gateway's credentials stay with the configured host",
				"provider", c.Provider.String(), "method", req.Method, "path", req.Path, "target", refused.Target)
			return nil, c.fail(ds.CodeProviderUnavailable, 0, "the provider answered with a redirect to another host, which the gateway refused to follow", refused)
		}
		var ge *ds.Error
		if errors.As(err, &ge) {
			return nil, ge // the guard's answer: open circuit, quota, timeout, budget
		}
		return nil, c.fail(ds.CodeProviderUnavailable, 0, "the provider could not be reached", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		b, err := readBody(resp.Body, resp.ContentLength, maxBodyBytes)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctxError(c.Provider, ctx.Err())
			}
			var ge *ds.Error
			if errors.As(err, &ge) {
				return nil, ge // the guard's deadline cut the body off
			}
			// No whole response arrived: as retryable as a dropped connection.
			return nil, c.fail(ds.CodeProviderUnavailable, 0, "the provider's response was cut off", err)
		}
		if len(b) > maxBodyBytes {
			return nil, c.fail(ds.CodeProviderUnavailable, resp.StatusCode, "the provider's response is too large", nil)
		}
		return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes)) // security: bounded error-body read
	msg := ""
	if c.ErrorMessage != nil {
		msg = c.ErrorMessage(resp.StatusCode, b)
	}
	e := c.statusError(req.Method != http.MethodGet && req.Method != http.MethodHead || req.CallerInput, resp.StatusCode, msg)
	e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"))
	if e.RetryAfter == 0 && resp.StatusCode == http.StatusTooManyRequests {
		e.RetryAfter = rateHintWait(resp.Header) // Commerce Layer: X-Ratelimit-*, no Retry-After
	}
	c.logger().Debug("provider error", "request_id", ds.RequestID(ctx), "provider", c.Provider.String(), "status", resp.StatusCode, "method", req.Method, "path", req.Path, "message", c.Secrets.Scrub(msg))
	return nil, e
}

// scratch holds read buffers for bodies of unknown length; one that grew
// past maxScratch is left to the collector.
var scratch = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxScratch = 4 << 20

// readBody reads r to its end, but at most limit+1 bytes (so a caller sees a
// body over limit as longer than limit). When the length n is known and
// within limit the buffer is allocated once, with one byte to spare so that
// reading the end does not grow it; otherwise (a chunked body) it is read
// into a pooled scratch buffer and copied out once at its final size, rather
// than grown and copied as io.ReadAll does (15% of the cold walk's bytes).
// The returned buffer is the caller's and never reused: decoded records
// keep pointing into it (Record), so only the scratch is pooled.
func readBody(r io.Reader, n int64, limit int) ([]byte, error) {
	if n < 0 || n > int64(limit) {
		buf := scratch.Get().(*bytes.Buffer)
		defer func() {
			if buf.Cap() <= maxScratch {
				buf.Reset()
				scratch.Put(buf)
			}
		}()
		_, err := buf.ReadFrom(io.LimitReader(r, int64(limit)+1))
		return bytes.Clone(buf.Bytes()), err
	}
	lr := io.LimitedReader{R: r, N: int64(limit) + 1}
	b := make([]byte, 0, n+1)
	for {
		m, err := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return b, err
		}
		if len(b) == cap(b) { // longer than announced: grow as io.ReadAll would
			b = append(b, 0)[:len(b)]
		}
	}
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

func (c *Client) logger() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	if g := c.guard(); g != nil {
		return g.Logger()
	}
	return slog.Default()
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
