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
	"strings"
	"sync/atomic"
	"time"

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
	// Header holds static credential headers, set on every request.
	Header http.Header
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
	for k, vs := range c.Header {
		hr.Header.Del(k)
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

func (c *Client) logger() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	if g := c.guard(); g != nil {
		return g.Logger()
	}
	return slog.Default()
}
