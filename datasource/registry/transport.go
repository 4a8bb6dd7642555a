package registry

import (
	"net"
	"net/http"
	"time"
)

// Connection pool sizes of the shared upstream transport. Go's default keeps
// 2 idle connections per host, so a burst of concurrent calls to one vendor
// dials, uses and closes a connection per call and leaves the sockets in
// TIME-WAIT; these keep a pool sized for the gateway's concurrency instead.
const (
	// MaxIdleConnsPerHost is the idle keep-alive pool kept per vendor host.
	MaxIdleConnsPerHost = 64
	// MaxConnsPerHost caps connections (idle and in use) to one vendor host,
	// so a slow vendor cannot make the gateway open sockets without bound:
	// calls beyond it queue for a connection (still under their deadline).
	MaxConnsPerHost = 128
	// MaxIdleConns is the pool across all hosts (five vendors plus token endpoints).
	MaxIdleConns = 512

	DialTimeout           = 3 * time.Second
	TLSHandshakeTimeout   = 5 * time.Second
	ResponseHeaderTimeout = 30 * time.Second // a backstop; per-provider call timeouts are shorter
	IdleConnTimeout       = 90 * time.Second
)

// NewTransport is the tuned transport every provider's client shares:
// keep-alive pools sized for concurrency, bounded dial and TLS handshake
// timeouts, and HTTP/2 where the vendor offers it over TLS (ALPN).
func NewTransport() *http.Transport {
	d := &net.Dialer{Timeout: DialTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          MaxIdleConns,
		MaxIdleConnsPerHost:   MaxIdleConnsPerHost,
		MaxConnsPerHost:       MaxConnsPerHost,
		IdleConnTimeout:       IdleConnTimeout,
		TLSHandshakeTimeout:   TLSHandshakeTimeout,
		ResponseHeaderTimeout: ResponseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
	}
}
