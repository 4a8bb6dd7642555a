package commercelayer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/sync/singleflight"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
)

const (
	// tokenSlack renews a token this long before it expires (tokens last 2 h).
	tokenSlack = time.Minute
	// tokenTimeout bounds one shared token request.
	tokenTimeout = 30 * time.Second
)

// tokenSource caches a client-credentials token (POST token_url with
// grant_type, client_id, client_secret and scope). Concurrent callers share
// one token request (singleflight); each waits only as long as its own
// context allows. After a 401 from the API, drop forgets the token so the
// retry fetches a fresh one.
type tokenSource struct {
	cfg   *clientcredentials.Config // security: holds the client secret; never logged
	hc    *http.Client
	group singleflight.Group
	// secrets learns each fetched token, so no error or log line shows it.
	secrets *rest.Secrets

	mu  sync.Mutex // guards tok; never held across a network call
	tok *oauth2.Token
}

func (t *tokenSource) cached() *oauth2.Token {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tok != nil && t.tok.AccessToken != "" && (t.tok.Expiry.IsZero() || time.Until(t.tok.Expiry) > tokenSlack) {
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
		return tok.AccessToken, nil
	}
	ch := t.group.DoChan("token", func() (any, error) {
		// The shared fetch outlives any one caller's cancellation, not tokenTimeout.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tokenTimeout)
		defer cancel()
		fctx = context.WithValue(fctx, oauth2.HTTPClient, t.hc)
		tok, err := t.cfg.Token(fctx)
		if err != nil {
			return nil, tokenError(err)
		}
		if tok.AccessToken == "" {
			return nil, tokenError(errors.New("the token response has no access_token"))
		}
		t.secrets.Add(tok.AccessToken, tok.RefreshToken)
		t.mu.Lock()
		t.tok = tok
		t.mu.Unlock()
		return tok, nil
	})
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(*oauth2.Token).AccessToken, nil
	}
}

// tokenError maps any failure to get a token to PROVIDER_UNAVAILABLE naming
// Commerce Layer: the gateway has no credential to call it with, and that is
// not the caller's fault. Refused client credentials carry reason
// PROVIDER_AUTH; a token endpoint that rate limits is PROVIDER_RATE_LIMITED.
// The status is kept for logs; the token endpoint's body is not (it may echo
// the request).
func tokenError(err error) error {
	p := ds.CommerceLayer
	e := &ds.Error{Code: ds.CodeProviderUnavailable, Provider: &p,
		Message: "could not obtain an access token from the provider's token endpoint"}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		e.Status = re.Response.StatusCode
		switch s := re.Response.StatusCode; {
		case s == http.StatusBadRequest || s == http.StatusUnauthorized || s == http.StatusForbidden:
			e.Message = "the provider rejected the gateway's client credentials"
			e.Reason = ds.ReasonProviderAuth
		case s == http.StatusTooManyRequests:
			e.Code = ds.CodeProviderRateLimited
			e.Message = "the provider's token endpoint is rate limiting the gateway"
		default:
			e.Message = fmt.Sprintf("the provider's token endpoint failed (HTTP %d)", s)
		}
		e.Err = fmt.Errorf("commercelayer token endpoint: HTTP %d %s", e.Status, re.ErrorCode)
		return e
	}
	e.Err = err
	return e
}
