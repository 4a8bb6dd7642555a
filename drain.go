package main

import (
	"os"
	"time"
)

// defaultShutdownGrace is how long a SIGTERM'd gateway keeps serving with
// /readyz at 503 before it closes its listener (shutdown_grace).
const defaultShutdownGrace = 5 * time.Second

// shutdownTimeout bounds the shutdown after the grace: in-flight requests
// finish within it, then whatever still runs is cancelled.
const shutdownTimeout = 15 * time.Second

// drain turns /readyz 503 at once and keeps serving for grace (ended
// early by another signal), so a load balancer stops sending before the
// listener closes; responses meanwhile ask clients to reconnect (no
// keep-alive), which sends them to the other replicas.
func (m *Main) drain(grace time.Duration, again <-chan os.Signal) {
	if m.readiness != nil {
		m.readiness.ShuttingDown() // /readyz: not_ready, "shutting down"
	}
	if m.srv != nil {
		m.srv.SetKeepAlivesEnabled(false)
	}
	if grace <= 0 {
		return
	}
	m.Log.Info("draining: /readyz answers 503, requests are still served", "grace", grace)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-t.C:
	case <-again:
	}
}
