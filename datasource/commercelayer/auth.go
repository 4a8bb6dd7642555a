package commercelayer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
)

const (
	// tokenSlack renews a token this long before it expires (tokens last 2 h),
	// or a quarter of its lifetime when that is shorter.
	tokenSlack = time.Minute
	// tokenTimeout bounds one shared token request.
	tokenTimeout = 30 * time.Second
	// maxTokenBytes bounds the token response read.
	maxTokenBytes = 64 << 10
)

// tokenRequest is the documented body of POST /oauth/token. Commerce Layer
// documents (and its own js-auth sends) a JSON body, not the RFC 6749 form,
// so that is what the client sends.
type tokenRequest struct {
	GrantType    string `json:"grant_type"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"` // security: sent only to the token endpoint
	Scope        string `json:"scope,omitempty"`
}

// tokenResponse is {access_token, token_type:"bearer", expires_in:7200,
// scope, created_at}. Only access_token is required: expires_in may be a
// number or a numeric string, or absent (the token is then kept until a 401);
// token_type is not checked (bearer, in any case, is the only one).
type tokenResponse struct {
	AccessToken string          `json:"access_token"` // security: never logged
	ExpiresIn   json.RawMessage `json:"expires_in"`
}

// token is a fetched access token.
type token struct {
	value  string    // security: never logged
	expiry time.Time // zero: unknown, kept until a 401
	slack  time.Duration
}

// tokenSource caches a client-credentials token (POST url with grant_type,
// client_id, client_secret and scope as JSON). Concurrent callers share one
// token request (singleflight); each waits only as long as its own context
// allows. After a 401 from the API, drop forgets the token so the retry
// fetches a fresh one.
type tokenSource struct {
	url     string
	req     tokenRequest // security: holds the client secret; never logged
	hc      *http.Client
	group   singleflight.Group
	secrets *rest.Secrets // learns each fetched token, so no error or log line shows it

	mu   sync.Mutex // guards tok and form; never held across a network call
	tok  *token
	form bool // the endpoint took the RFC 6749 form, not JSON
}

func (t *tokenSource) cached() *token {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tok != nil && (t.tok.expiry.IsZero() || time.Until(t.tok.expiry) > t.tok.slack) {
		return t.tok
	}
	return nil
}

// drop forgets the cached token (rest.Client.Reauthorize, after a 401).
func (t *tokenSource) drop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tok = nil
}

// token returns a valid access token, fetching one when none is cached.
func (t *tokenSource) token(ctx context.Context) (string, error) {
	if tok := t.cached(); tok != nil {
		return tok.value, nil
	}
	tok, err := rest.Shared(ctx, &t.group, "token", tokenTimeout, func(fctx context.Context) (*token, error) {
		tok, err := t.fetch(fctx)
		if err != nil {
			return nil, err
		}
		t.mu.Lock()
		t.tok = tok
		t.mu.Unlock()
		return tok, nil
	})
	if err != nil {
		return "", err
	}
	return tok.value, nil
}

// fetch asks the token endpoint for a token: as JSON, the documented form;
// if the endpoint refuses that body (400 or 415), once more as the RFC 6749
// form, which an OAuth2 server written to the standard expects, and from
// then on in whichever form it took.
func (t *tokenSource) fetch(ctx context.Context) (*token, error) {
	t.mu.Lock()
	form := t.form
	t.mu.Unlock()
	tok, status, err := t.fetchAs(ctx, form)
	if err != nil && !form && (status == http.StatusBadRequest || status == http.StatusUnsupportedMediaType) {
		if tok, _, err = t.fetchAs(ctx, true); err == nil {
			t.mu.Lock()
			t.form = true
			t.mu.Unlock()
		}
	}
	return tok, err
}

// fetchAs makes one token request, JSON or form-encoded, and reports the
// status the endpoint answered (0 without an answer).
func (t *tokenSource) fetchAs(ctx context.Context, form bool) (*token, int, error) {
	var body []byte
	ctype := "application/json"
	if form {
		v := url.Values{"grant_type": {t.req.GrantType}, "client_id": {t.req.ClientID}, "client_secret": {t.req.ClientSecret}}
		if t.req.Scope != "" {
			v.Set("scope", t.req.Scope)
		}
		body, ctype = []byte(v.Encode()), "application/x-www-form-urlencoded"
	} else {
		b, err := json.Marshal(t.req)
		if err != nil {
			return nil, 0, tokenError(0, err)
		}
		body = b
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return nil, 0, tokenError(0, err)
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Accept", "application/json")
	start := time.Now()
	resp, err := t.hc.Do(req)
	if err != nil {
		var ge *ds.Error
		if errors.As(err, &ge) {
			return nil, 0, ge // the guard's answer: open circuit, quota, timeout, budget
		}
		return nil, 0, tokenError(0, err)
	}
	defer resp.Body.Close()
	// security: the body is never kept in an error (it may echo the request).
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenBytes))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, resp.StatusCode, tokenError(resp.StatusCode, nil)
	}
	if err != nil {
		return nil, resp.StatusCode, tokenError(0, fmt.Errorf("the token response was cut off: %w", err))
	}
	var tr tokenResponse
	if json.Unmarshal(b, &tr) != nil || tr.AccessToken == "" {
		return nil, resp.StatusCode, tokenError(0, errors.New("the token response has no access_token"))
	}
	t.secrets.Add(tr.AccessToken)
	tok := &token{value: tr.AccessToken}
	if d := seconds(tr.ExpiresIn); d > 0 {
		tok.expiry = start.Add(d) // from before the request: never later than the server's clock
		tok.slack = min(tokenSlack, d/4)
	}
	return tok, resp.StatusCode, nil
}

// seconds reads expires_in, a JSON number or a numeric string; 0 when absent or not a duration.
func seconds(raw json.RawMessage) time.Duration {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || f > 10*365*24*3600 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

// tokenError maps any failure to get a token to PROVIDER_UNAVAILABLE naming
// Commerce Layer: the gateway has no credential to call it with, and that is
// not the caller's fault. Refused client credentials (status 400, 401, 403)
// carry reason PROVIDER_AUTH; a token endpoint that rate limits (429) is
// PROVIDER_RATE_LIMITED. status 0 is a failure without an HTTP answer.
func tokenError(status int, err error) error {
	p := ds.CommerceLayer
	e := &ds.Error{Code: ds.CodeProviderUnavailable, Provider: &p, Status: status,
		Message: "could not obtain an access token from the provider's token endpoint", Err: err}
	if status == 0 {
		return e
	}
	switch {
	case status == http.StatusBadRequest || status == http.StatusUnauthorized || status == http.StatusForbidden:
		e.Message = "the provider rejected the gateway's client credentials"
		e.Reason = ds.ReasonProviderAuth
	case status == http.StatusTooManyRequests:
		e.Code = ds.CodeProviderRateLimited
		e.Message = "the provider's token endpoint is rate limiting the gateway"
	default:
		e.Message = fmt.Sprintf("the provider's token endpoint failed (HTTP %d)", status)
	}
	e.Err = fmt.Errorf("commercelayer token endpoint: HTTP %d", status)
	return e
}
