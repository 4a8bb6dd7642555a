package api

import (
	"crypto/sha256"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/federate"
)

// APIKey is one caller's key and the providers it may use.
type APIKey struct {
	// Name stands for the key in logs, traces and metrics.
	Name string
	Key  string
	// Providers the key may use; nil means every configured provider.
	Providers []ds.ProviderID
	// Rate is the requests per second the key may make (0: no limit), in
	// bursts of up to Burst (default twice the rate, at least 1).
	Rate  float64
	Burst int
	// CallsPerMinute bounds the key's upstream calls (0: no limit).
	CallsPerMinute int
}

// caller is what a key may do: its view of the service and its rate.
type caller struct {
	name  string // the key's name, for logs and traces
	svc   *federate.Service
	rate  *rate.Limiter // nil: no limit
	calls *callQuota    // nil: no limit
}

// authenticate finds the caller of r among the keyed callers: its service,
// quota and key hash. Without keys the endpoint is open (svc, no quota, a
// zero hash). It answers 401 or 429 itself and returns false.
func authenticate(w http.ResponseWriter, r *http.Request, open *federate.Service, keyed map[[32]byte]caller) (svc *federate.Service, quota *callQuota, who [32]byte, ok bool) {
	if len(keyed) == 0 {
		return open, nil, who, true
	}
	key := apiKey(r)
	who = sha256.Sum256([]byte(key))
	c, found := keyed[who]
	// security: keys are looked up by their SHA-256, so no comparison leaks a prefix
	if key == "" || !found {
		w.Header().Set("WWW-Authenticate", `Bearer realm="gateway"`)
		writeError(w, r, http.StatusUnauthorized, ds.CodeUnauthenticated, "a valid API key is required (Authorization: Bearer <key> or X-API-Key)")
		return nil, nil, who, false
	}
	note(r.Context(), func(a *access) { a.key = c.name })
	if c.rate != nil && !allow(w, r, c.rate) {
		return nil, nil, who, false
	}
	return c.svc, c.calls, who, true
}

// allow takes one request from the key's rate, or answers 429 with the
// seconds until the next one is allowed in Retry-After.
func allow(w http.ResponseWriter, r *http.Request, lim *rate.Limiter) bool {
	res := lim.Reserve()
	if res.OK() && res.Delay() == 0 {
		return true
	}
	wait := time.Second
	if res.OK() {
		wait = res.Delay()
		res.Cancel()
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(max(1, math.Ceil(wait.Seconds())))))
	writeError(w, r, http.StatusTooManyRequests, ds.CodeProviderRateLimited, fmt.Sprintf(
		"this API key may make %g requests per second (bursts of %d): retry after the time in Retry-After", float64(lim.Limit()), lim.Burst()))
	return false
}

// apiKey reads the caller's key from Authorization: Bearer or X-API-Key.
func apiKey(r *http.Request) string {
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		return strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
	}
	return r.Header.Get("X-API-Key")
}
