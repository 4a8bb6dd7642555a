// Package carecloud is the client of CareCloud's enterprise interface
// (https://{project_url}/webservice/rest-api/enterprise-interface/v1.0). CareCloud
// has no customer list in this gateway: it contributes customer source records,
// "CareCloud customer X is known in external system S under id E", and
// implements ds.SourceProvider.
package carecloud

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // the project time zone must load even where the host has no zoneinfo

	"golang.org/x/sync/singleflight"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
)

const (
	// maxCount is the most records the client asks for in one call. The API
	// documents no maximum for count; 100 is its default.
	maxCount = 100
	// maxBatch is how many external ids one external_ids[] lookup carries
	// (the API accepts up to 1000; 100 keeps URLs short).
	maxBatch = 100
	// maxExternalIDs is the API's documented maxItems for external_ids[].
	maxExternalIDs = 1000
	// lookupConcurrency bounds the per-customer GETs of SourcesByCustomers:
	// the default links lookup budget, so one request's lookups go out
	// together (one round) rather than eight at a time.
	lookupConcurrency = 20
	// catalogueTTL is how long the customer-source catalogue is reused.
	catalogueTTL = 10 * time.Minute
	// catalogueMinAge is how old the catalogue must be before a record naming
	// a source it does not know makes the client fetch it again.
	catalogueMinAge = time.Minute
	// tokenSkew renews a login token this long before its valid_to.
	tokenSkew = 30 * time.Second
	// loginRejectedFor is how long a rejected login is remembered, so a wrong
	// password does not hammer the login endpoint (and lock the account).
	loginRejectedFor = 30 * time.Second
	// backgroundTimeout bounds a login or catalogue fetch shared by several
	// callers (it outlives any one caller's cancellation).
	backgroundTimeout = 30 * time.Second
	// maxPages bounds one collecting loop against a vendor that never ends.
	maxPages = 1000

	timeLayout = "2006-01-02 15:04:05"
)

// Config is the `providers.carecloud` block.
type Config struct {
	// BaseURL is https://{project_url}/webservice/rest-api/enterprise-interface/v1.0.
	BaseURL string `yaml:"base_url"`
	// BearerToken is a ready-made token; or use Login, Password and
	// UserExternalApplicationID and let the client log in.
	BearerToken               string `yaml:"bearer_token"`
	Login                     string `yaml:"login"`
	Password                  string `yaml:"password"`
	UserExternalApplicationID string `yaml:"user_external_application_id"`
	// Timezone is the project's IANA time zone (CareCloud sends local times); default UTC.
	Timezone string `yaml:"timezone"`
	Simulate bool   `yaml:"simulate"`
}

// Validate checks the block; messages name the key.
func (c Config) Validate() error {
	if err := rest.CheckBaseURL(ds.CareCloud, c.BaseURL, true); err != nil {
		return err
	}
	loginSet := c.Login != "" || c.Password != "" || c.UserExternalApplicationID != ""
	switch {
	case c.BearerToken != "" && loginSet:
		return errors.New("carecloud: set either bearer_token or login + password + user_external_application_id, not both")
	case c.BearerToken == "" && !loginSet:
		return errors.New("carecloud: bearer_token (or login + password + user_external_application_id) is required")
	case loginSet:
		var missing []string
		if c.Login == "" {
			missing = append(missing, "login")
		}
		if c.Password == "" {
			missing = append(missing, "password")
		}
		if c.UserExternalApplicationID == "" {
			missing = append(missing, "user_external_application_id")
		}
		if len(missing) > 0 {
			return fmt.Errorf("carecloud: %s is required with login + password + user_external_application_id", strings.Join(missing, " and "))
		}
	}
	if _, err := loadLocation(c.Timezone); err != nil {
		return err
	}
	return nil
}

func loadLocation(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	if name == "Local" {
		return nil, fmt.Errorf("carecloud: timezone %q is not an IANA time zone name (e.g. Europe/Prague)", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("carecloud: timezone %q is not an IANA time zone name (e.g. Europe/Prague)", name)
	}
	return loc, nil
}

// Client is CareCloud's customer-source provider.
type Client struct {
	cfg   Config
	loc   *time.Location
	api   *rest.Client // authorized calls
	login *rest.Client // POST /users/actions/login only
	now   func() time.Time

	sf singleflight.Group
	mu sync.Mutex
	// login state (login form only)
	token       string
	validTo     time.Time // zero: unknown, rely on a 401
	rejected    error
	rejectedTil time.Time
	// the customer-source catalogue
	cat *catalogue
}

var (
	_ ds.SourceProvider = (*Client)(nil)
	_ ds.Credentialed   = (*Client)(nil)
)

// New builds a client; a nil hc is a client with a 30 s timeout.
func New(cfg Config, hc *http.Client) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	loc, err := loadLocation(cfg.Timezone)
	if err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, loc: loc, now: time.Now}
	cred := []string{"bearer", cfg.BearerToken}
	if cfg.BearerToken == "" {
		cred = []string{"login", cfg.UserExternalApplicationID, cfg.Login, cfg.Password}
	}
	c.api, err = rest.NewClient(rest.Options{
		Provider: ds.CareCloud, BaseURL: cfg.BaseURL, HTTP: hc,
		Credential:   cred,
		Secrets:      []string{cfg.BearerToken, cfg.Password},
		Authorize:    c.authorize,
		ErrorMessage: ErrorMessage,
		// No Retry-After is documented: back off exponentially with jitter.
		BaseBackoff: 250 * time.Millisecond,
	})
	if err != nil {
		return nil, err
	}
	if cfg.BearerToken == "" {
		c.api.Reauthorize = c.dropToken
		c.login = c.api.Unauthorized()
	}
	return c, nil
}

// ID is CARECLOUD.
func (c *Client) ID() ds.ProviderID { return ds.CareCloud }

// CredentialID identifies the configured credential without revealing it.
func (c *Client) CredentialID() string { return c.api.CredentialID() }

// authorize sets the bearer token, logging in first when needed.
func (c *Client) authorize(ctx context.Context, r *http.Request) error {
	tok := c.cfg.BearerToken
	if tok == "" {
		var err error
		if tok, err = c.loginToken(ctx); err != nil {
			return err
		}
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	return nil
}

// cached returns the usable token, or the remembered login rejection.
func (c *Client) cached() (string, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.token != "" && (c.validTo.IsZero() || now.Add(tokenSkew).Before(c.validTo)) {
		return c.token, true, nil
	}
	if c.rejected != nil && now.Before(c.rejectedTil) {
		return "", true, c.rejected
	}
	return "", false, nil
}

// loginToken returns a cached token or logs in; concurrent callers share one login.
func (c *Client) loginToken(ctx context.Context) (string, error) {
	if tok, ok, err := c.cached(); ok {
		return tok, err
	}
	return rest.Shared(ctx, &c.sf, "login", backgroundTimeout, func(lctx context.Context) (string, error) {
		if tok, ok, err := c.cached(); ok {
			return tok, err
		}
		return c.doLogin(lctx)
	})
}

type loginRequest struct {
	UserExternalApplicationID string `json:"user_external_application_id"`
	Login                     string `json:"login"`
	Password                  string `json:"password"`
}

type loginResponse struct {
	Data struct {
		BearerToken string `json:"bearer_token"`
		ValidTo     string `json:"valid_to"`
	} `json:"data"`
}

func (c *Client) doLogin(ctx context.Context) (string, error) {
	var out loginResponse
	_, err := c.login.Do(ctx, rest.Request{
		Method: http.MethodPost,
		Path:   "/users/actions/login",
		Header: header(),
		Body:   loginRequest{UserExternalApplicationID: c.cfg.UserExternalApplicationID, Login: c.cfg.Login, Password: c.cfg.Password},
		// Not retried here: a 429/503 reaches the call that needed the token,
		// whose own retry logs in again after backing off.
	}, &out)
	if err != nil {
		var e *ds.Error
		if errors.As(err, &e) && e.Status >= 400 && e.Status < 500 && e.Status != http.StatusTooManyRequests {
			p := ds.CareCloud
			rej := &ds.Error{Code: ds.CodeProviderUnavailable, Reason: ds.ReasonProviderAuth, Provider: &p, Status: e.Status, Err: e,
				Message: "the provider rejected the configured login (login, password, user_external_application_id): " + e.Message}
			c.mu.Lock()
			c.rejected, c.rejectedTil = rej, c.now().Add(loginRejectedFor)
			c.mu.Unlock()
			return "", rej
		}
		return "", err
	}
	if out.Data.BearerToken == "" {
		p := ds.CareCloud
		return "", &ds.Error{Code: ds.CodeProviderUnavailable, Provider: &p, Message: "the provider's login answer carried no bearer_token"}
	}
	now := c.now()
	validTo, ok := c.parseTime(out.Data.ValidTo)
	if !ok || !now.Add(tokenSkew).Before(validTo) {
		// Unknown, or already past (a wrong timezone setting): rely on a 401 instead
		// of logging in on every call.
		validTo = time.Time{}
	}
	c.api.Secrets.Add(out.Data.BearerToken)
	c.mu.Lock()
	c.token, c.validTo, c.rejected = out.Data.BearerToken, validTo, nil
	c.mu.Unlock()
	return out.Data.BearerToken, nil
}

// header is sent with every call: CareCloud localises error messages by
// Accept-Language (default Czech first), and they reach the gateway's clients.
func header() http.Header { return http.Header{"Accept-Language": {"en"}} }

// dropToken is rest.Client.Reauthorize: the next call logs in again.
func (c *Client) dropToken() {
	c.mu.Lock()
	c.token, c.validTo = "", time.Time{}
	c.mu.Unlock()
}

// timeLayouts are the forms parseTime reads. The docs promise only the first
// ("YYYY-MM-DD HH:MM:SS", project-local); the client also takes the ISO 8601
// "T" form and an explicit offset (which then wins over the project's zone).
// Fractional seconds are accepted by every layout.
var timeLayouts = []string{timeLayout, "2006-01-02T15:04:05", "2006-01-02 15:04:05Z07:00", time.RFC3339}

// parseTime reads CareCloud's "YYYY-MM-DD HH:MM:SS" in the project's time zone, as UTC.
func (c *Client) parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range timeLayouts {
		if t, err := time.ParseInLocation(layout, s, c.loc); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// LastChange is a record's last_change converted from the project's time zone
// to UTC (ds.CustomerSource has no field for it; the raw record keeps the
// vendor's local string).
func (c *Client) LastChange(s *ds.CustomerSource) (time.Time, bool) {
	if s == nil || s.Provider != ds.CareCloud {
		return time.Time{}, false
	}
	w, err := decodeRecord(s.Raw)
	if err != nil || w.LastChange == nil {
		return time.Time{}, false
	}
	return c.parseTime(*w.LastChange)
}

// pathID reports whether id can be a path segment as sent: CareCloud ids
// are hex-like, and rest.Client cannot escape a '/' inside a segment.
func pathID(id string) bool {
	if id == "" || len(id) > 256 || id == "." || id == ".." {
		return false
	}
	for _, r := range id {
		if r <= ' ' || r == 0x7f || strings.ContainsRune(`/\?#%`, r) {
			return false
		}
	}
	return true
}
