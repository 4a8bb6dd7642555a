package api

import (
	"crypto/sha256"
	"net/http"
	"slices"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/rs/cors"
	"golang.org/x/time/rate"

	"github.com/federated-customers/gateway/datasource/federate"
)

// Handler is the gateway's HTTP handler; Reload swaps the settings that can
// change while it serves (API keys, CORS, limits) without dropping a request.
type Handler struct {
	http.Handler
	svc  *federate.Service
	opts Options
	apq  *apqCache // outlives reloads: registrations are kept
	live atomic.Pointer[liveSettings]
}

// serving is what runs GraphQL requests under one set of limits: the
// engine (with the depth, cost and heavy-query limits) and the shedder.
type serving struct {
	limits Limits // with defaults
	gql    *handler.Server
	shed   *shedder
}

// liveSettings are the parts of the handler a reload replaces whole.
type liveSettings struct {
	keys    []APIKey
	callers map[[32]byte]caller // by the key's SHA-256; empty: the endpoint is open
	cors    *cors.Cors          // nil: no CORS headers
	limits  Limits              // as given, before defaults
	serve   *serving
}

// Reload replaces the API keys, CORS settings and limits. A key whose
// settings did not change keeps its rate and quota state. New limits apply
// to requests that start after the reload (those running finish under
// theirs, so for a moment both sets may admit requests).
func (h *Handler) Reload(keys []APIKey, c *CORS, limits Limits) {
	old := h.live.Load()
	next := &liveSettings{keys: keys, callers: map[[32]byte]caller{}, cors: newCORS(c), limits: limits}
	if old != nil && old.limits == limits {
		next.serve = old.serve
	} else {
		l := limits.WithDefaults()
		next.serve = &serving{limits: l, gql: newGraphQLServer(l, h.opts, h.apq), shed: newShedder(l.MaxInFlight, l.MaxQueue, l.QueueWait)}
	}
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
	return a.Name == b.Name && a.Key == b.Key && a.Rate == b.Rate && a.Burst == b.Burst && a.CallsPerMinute == b.CallsPerMinute &&
		(a.Providers == nil) == (b.Providers == nil) && slices.Equal(a.Providers, b.Providers)
}

func (h *Handler) newCaller(k APIKey) caller {
	c := caller{name: k.Name, svc: h.svc} // no providers listed: every configured one
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

func (h *Handler) serving() *serving { return h.live.Load().serve }

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
