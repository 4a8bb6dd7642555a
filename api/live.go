package api

import (
	"crypto/sha256"
	"net/http"
	"slices"
	"sync/atomic"

	"github.com/rs/cors"
	"golang.org/x/time/rate"

	ds "github.com/federated-customers/gateway/datasource"
)

// Handler is the gateway's HTTP handler; Reload swaps the settings that can
// change while it serves (API keys, CORS) without dropping a request.
type Handler struct {
	http.Handler
	svc  *ds.Service
	live atomic.Pointer[liveSettings]
}

// liveSettings are the parts of the handler a reload replaces whole.
type liveSettings struct {
	keys    []APIKey
	callers map[[32]byte]caller // by the key's SHA-256; empty: the endpoint is open
	cors    *cors.Cors          // nil: no CORS headers
}

// Reload replaces the API keys and CORS settings. A key whose settings did
// not change keeps its rate and quota state.
func (h *Handler) Reload(keys []APIKey, c *CORS) {
	old := h.live.Load()
	next := &liveSettings{keys: keys, callers: map[[32]byte]caller{}, cors: newCORS(c)}
	for _, k := range keys {
		sum := sha256.Sum256([]byte(k.Key))
		if old != nil {
			if i := slices.IndexFunc(old.keys, func(o APIKey) bool { return sameKey(o, k) }); i >= 0 {
				next.callers[sum] = old.callers[sum]
				continue
			}
		}
		next.callers[sum] = h.newCaller(k)
	}
	h.live.Store(next)
}

func sameKey(a, b APIKey) bool {
	return a.Key == b.Key && a.Rate == b.Rate && a.Burst == b.Burst && a.CallsPerMinute == b.CallsPerMinute &&
		(a.Providers == nil) == (b.Providers == nil) && slices.Equal(a.Providers, b.Providers)
}

func (h *Handler) newCaller(k APIKey) caller {
	c := caller{svc: h.svc} // no providers listed: every configured one
	if k.Providers != nil {
		c.svc = h.svc.Restrict(k.Providers)
	}
	if k.Rate > 0 {
		burst := k.Burst
		if burst == 0 {
			burst = max(1, int(2*k.Rate))
		}
		c.rate = rate.NewLimiter(rate.Limit(k.Rate), burst)
	}
	if k.CallsPerMinute > 0 {
		c.calls = newCallQuota(k.CallsPerMinute)
	}
	return c
}

func (h *Handler) callers() map[[32]byte]caller { return h.live.Load().callers }

// withCORS answers preflights and adds CORS headers per the live settings.
func (h *Handler) withCORS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c := h.live.Load().cors; c != nil {
			c.ServeHTTP(w, r, next.ServeHTTP)
			return
		}
		next.ServeHTTP(w, r)
	})
}
