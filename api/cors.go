package api

import (
	"net/http"
	"time"

	"github.com/rs/cors"
)

// CORS says which browser origins may call the gateway: frontend apps on
// another origin are its first users, and without these headers a browser
// blocks their requests.
type CORS struct {
	// AllowOrigins are origins ("https://app.example.com"), one wildcard
	// per origin ("https://*.example.com"), or "*" for any.
	AllowOrigins []string
	// AllowCredentials lets browsers send cookies and HTTP auth along.
	AllowCredentials bool
	// MaxAge is how long a browser may keep a preflight's answer (default 10m).
	MaxAge time.Duration
}

// corsHeaders are what a browser may read from an answer besides the
// CORS-safelisted ones: the cache validator, when to retry, the request id.
var corsHeaders = []string{"ETag", "Retry-After", "X-Request-Id", "WWW-Authenticate"}

// newCORS builds the CORS middleware; nil (no origin allowed) leaves
// answers without CORS headers, so browsers keep to the same origin.
func newCORS(c *CORS) *cors.Cors {
	if c == nil || len(c.AllowOrigins) == 0 {
		return nil
	}
	age := c.MaxAge
	if age == 0 {
		age = 10 * time.Minute
	}
	return cors.New(cors.Options{
		AllowedOrigins:   c.AllowOrigins,
		AllowedMethods:   []string{http.MethodGet, http.MethodPost},
		AllowedHeaders:   []string{"*"}, // echoes what the page asks for: Authorization, X-API-Key, traceparent, ...
		ExposedHeaders:   corsHeaders,
		AllowCredentials: c.AllowCredentials,
		MaxAge:           int(age / time.Second),
	})
}
