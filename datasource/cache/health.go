package cache

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The second level leaves service on evidence, not on one slow statement:
// failuresToLeave operations failing in a row, or a failed probe (which an
// operation's failure asks for at once). A single statement slower than
// its bound under load costs its request the bound and nothing more.
const (
	failuresToLeave = 3
	// probeTimeout bounds the probe: longer than one operation's bound, so
	// a probe fails only when the database is really not answering.
	probeTimeout = 2 * time.Second
)

var (
	secondLevelUp = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "gateway_cache_postgres_up",
		Help: "1 while the Postgres second level is in service, 0 while it is out (the gateway serves from the in-process level and live calls).",
	})
	secondLevelFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "gateway_cache_postgres_failures_total",
		Help: "Second-level operations and probes that failed.",
	})
	invalidationsReceived = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "gateway_cache_invalidations_received_total",
		Help: "Drops published by other replicas and applied to this one's in-process levels.",
	})
)

// SecondLevelHealth is the Postgres level's state, for readiness and metrics.
type SecondLevelHealth struct {
	// Configured is false without a database_url (then nothing else is set).
	Configured bool
	// Up is true while the level is in service.
	Up bool
	// Reason says why it is out: "probe failed" or "N operations failed in a row".
	Reason string
	// Since is when it last came into or went out of service.
	Since time.Time
	// LastError is the last failure seen (empty when none since start).
	LastError string
	// ConsecutiveFailures is how many operations failed since the last success.
	ConsecutiveFailures int
}

// Health reports the second level's state (readiness, /metrics). Postgres
// out of service degrades the gateway (no shared copies, no shared index)
// but does not make it unready: requests are still answered.
func (l *Layer) Health() SecondLevelHealth {
	if l.shared == nil {
		return SecondLevelHealth{}
	}
	l.stateMu.Lock()
	defer l.stateMu.Unlock()
	h := SecondLevelHealth{Configured: true, Up: l.healthy.Load(), Reason: l.reason, Since: l.since, ConsecutiveFailures: l.failures}
	if l.lastErr != nil {
		h.LastError = l.lastErr.Error()
	}
	return h
}

// fail counts an operation's failure: the level leaves service after
// failuresToLeave in a row; before that, a probe is asked for at once.
func (l *Layer) fail(err error) {
	if l.shared == nil || err == nil {
		return
	}
	if DataError(err) {
		// Postgres answered, and refused the statement's data: that
		// request's (or record's) problem, not evidence against the level
		l.log.Info("postgres refused a statement's data; the second level stays in use", "error", err)
		return
	}
	secondLevelFailures.Inc()
	l.stateMu.Lock()
	l.lastErr = err
	l.failures++
	n := l.failures
	l.stateMu.Unlock()
	if n >= failuresToLeave {
		l.leave(err, fmt.Sprintf("%d operations failed in a row", n))
		return
	}
	select {
	case l.probeNow <- struct{}{}:
	default:
	}
}

// ok counts an operation's success.
func (l *Layer) ok() {
	l.stateMu.Lock()
	l.failures = 0
	l.stateMu.Unlock()
}

// probe asks the second level whether it answers; a failure takes it out.
func (l *Layer) probe() bool {
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	go func() { // Close ends a probe at once: a shutdown does not wait on a silent database
		select {
		case <-l.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	err := l.shared.Ping(ctx)
	select {
	case <-l.stop:
		return false // closing: no verdict
	default:
	}
	if err != nil {
		secondLevelFailures.Inc()
		l.stateMu.Lock()
		l.lastErr = err
		l.stateMu.Unlock()
		l.leave(err, "probe failed")
		return false
	}
	back := !l.healthy.Load()
	if back || l.pending.len() > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
		err := l.replayPending(ctx)
		cancel()
		if err != nil {
			secondLevelFailures.Inc()
			l.leave(err, "drops made while it was out could not be applied")
			return false
		}
	}
	if back {
		l.forgetUnvouched() // others' drops may have been missed meanwhile
	}
	l.recover()
	return true
}

// leave takes the second level out until a probe succeeds; it logs once per
// change of state, not once per request.
func (l *Layer) leave(err error, reason string) {
	l.stateMu.Lock()
	defer l.stateMu.Unlock()
	if l.healthy.Swap(false) {
		l.reason, l.since = reason, time.Now()
		secondLevelUp.Set(0)
		l.log.Warn("postgres cache out of service: serving from the in-process cache and live calls", "reason", reason, "error", err)
	}
}

func (l *Layer) recover() {
	l.stateMu.Lock()
	defer l.stateMu.Unlock()
	l.failures = 0
	if !l.healthy.Swap(true) {
		l.reason, l.since = "", time.Now()
		secondLevelUp.Set(1)
		l.log.Info("postgres cache back in service")
	}
}
