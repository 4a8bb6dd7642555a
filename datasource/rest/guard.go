package rest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
	"golang.org/x/time/rate"

	ds "github.com/federated-customers/gateway/datasource"
)

// Guard is the http.RoundTripper in front of one provider credential's
// calls: it applies the provider's Policy to every attempt, in this order:
//
//  1. an open circuit answers at once (PROVIDER_UNAVAILABLE, reason CIRCUIT_OPEN);
//  2. the outbound quota: the attempt waits for a token while the request's
//     deadline and the provider's budget allow (else PROVIDER_RATE_LIMITED);
//  3. the attempt runs under min(call timeout, the provider's remaining
//     per-request budget);
//  4. its outcome feeds the breaker (a call's first attempt; retries are
//     not counted again), the live rate hints and the metrics.
//
// The registry builds one Guard per configured provider, so the breaker and
// the quota are per provider and credential.
type Guard struct {
	provider ds.ProviderID
	base     http.RoundTripper
	policy   Policy
	log      *slog.Logger
	metrics  *providerMetrics

	breaker *gobreaker.TwoStepCircuitBreaker[struct{}]
	limiter *rate.Limiter // nil: no quota
	retries *retryBudget

	mu        sync.Mutex
	since     time.Time
	lastError string
	share     int // replicas sharing the quota (SetShare); 0 = alone

	// problem and reason: what the provider's answers say is misconfigured
	// (misconfig.go), until an answer shows it fixed
	problem, reason string
}

// NewGuard wraps base (nil: http.DefaultTransport) with policy for provider p.
// quota is the vendor's documented limit, used when the policy sets no rate.
func NewGuard(p ds.ProviderID, base http.RoundTripper, policy Policy, quota Quota, log *slog.Logger) *Guard {
	if base == nil {
		base = http.DefaultTransport
	}
	if log == nil {
		log = slog.Default()
	}
	policy = policy.WithDefaults(quota)
	g := &Guard{provider: p, base: base, policy: policy, log: log, metrics: metricsFor(p), since: time.Now(),
		retries: newRetryBudget(policy.RetryRatio)}
	if policy.Rate > 0 {
		g.limiter = rate.NewLimiter(rate.Limit(policy.Rate), policy.Burst)
	}
	failures := uint32(policy.BreakerFailures)
	g.breaker = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        p.String(),
		MaxRequests: 1, // half-open: one probe
		Timeout:     time.Duration(policy.BreakerOpen),
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
		IsExcluded:  func(err error) bool { return errors.Is(err, errNotCounted) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			g.mu.Lock()
			g.since = time.Now()
			last := g.lastError
			g.mu.Unlock()
			g.metrics.breakerState(to)
			lvl := slog.LevelWarn
			if to == gobreaker.StateClosed {
				lvl = slog.LevelInfo
			}
			g.log.Log(context.Background(), lvl, "provider circuit breaker", "provider", p.String(),
				"from", from.String(), "to", to.String(), "last_error", last)
		},
	})
	breakerStateGauge.WithLabelValues(p.String()).Set(0)
	return g
}

// Policy is the guard's policy, defaults filled in.
func (g *Guard) Policy() Policy { return g.policy }

// Logger is where the clients using this guard log (see Client.logger).
func (g *Guard) Logger() *slog.Logger { return g.log }

// errNotCounted marks an attempt outcome that says nothing about the
// provider's health (the caller went away, the gateway's own quota).
var errNotCounted = errors.New("not counted")

// errFailed marks a provider failure for the breaker.
var errFailed = errors.New("provider failure")

// RoundTrip applies the policy to one attempt.
func (g *Guard) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if g.breaker.State() == gobreaker.StateOpen {
		return nil, g.openError()
	}
	deadline, hasBudget := ds.BudgetDeadline(ctx, g.provider, time.Duration(g.policy.Budget))
	overBudget := func() bool { return hasBudget && !time.Now().Before(deadline) }
	if overBudget() {
		return nil, g.spentError()
	}
	// the attempt spends the provider's budget until it ends (body closed)
	spent := ds.Spend(ctx, g.provider)
	bctx, bcancel := ctx, context.CancelFunc(spent)
	if hasBudget {
		var c context.CancelFunc
		bctx, c = context.WithDeadline(ctx, deadline)
		bcancel = func() { c(); spent() }
	}
	if err := g.waitQuota(bctx); err != nil {
		bcancel()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if overBudget() { // a token was free, but the budget ran out getting here (a busy machine)
		bcancel()
		return nil, g.spentError()
	}
	done, err := g.breaker.Allow()
	if err != nil {
		bcancel()
		return nil, g.openError()
	}
	// The attempt's own deadline: the call timeout, within the budget. Both
	// end when the body is closed (or at once on error).
	actx, acancel := context.WithTimeout(bctx, time.Duration(g.policy.Timeout))
	cancel := func() { acancel(); bcancel() }
	start := time.Now()
	resp, err := g.base.RoundTrip(req.WithContext(actx))
	if err != nil {
		cancel()
		g.metrics.observe(start, "error")
		switch {
		case ctx.Err() != nil: // the caller went away: not the provider's fault
			done(errNotCounted)
			return nil, err
		case errors.Is(actx.Err(), context.DeadlineExceeded):
			e := g.timeoutError(bctx)
			g.record(e.Message)
			done(g.failure(ctx))
			return nil, e
		}
		g.record("the provider could not be reached: " + err.Error())
		done(g.failure(ctx))
		return nil, err
	}
	g.metrics.observe(start, strconv.Itoa(resp.StatusCode/100)+"xx")
	g.hint(resp.Header)
	if resp.StatusCode >= 500 {
		g.record(fmt.Sprintf("HTTP %d", resp.StatusCode))
		done(g.failure(ctx))
	} else {
		done(nil) // 2xx-4xx: the provider answered; 429 is the quota's business
	}
	// The body is read under the attempt's deadline; closing it ends it.
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel, timedOut: func() bool { return errors.Is(actx.Err(), context.DeadlineExceeded) && ctx.Err() == nil }, g: g, bctx: bctx}
	return resp, nil
}

// failure is how a failed attempt counts for the breaker: a call's first
// attempt counts; its retries do not, so one call and its retries are one
// failure, and "repeated failures" means several calls failing.
func (g *Guard) failure(ctx context.Context) error {
	if attemptOf(ctx) > 0 {
		return errNotCounted
	}
	return errFailed
}

type attemptKey struct{}

// withAttempt marks ctx with the attempt number of a call (0 = first).
func withAttempt(ctx context.Context, n int) context.Context {
	if n == 0 {
		return ctx
	}
	return context.WithValue(ctx, attemptKey{}, n)
}

func attemptOf(ctx context.Context) int {
	n, _ := ctx.Value(attemptKey{}).(int)
	return n
}

// spentError is the answer to an attempt started after the request's
// budget for the provider ran out.
func (g *Guard) spentError() *ds.Error {
	return g.fail(ds.CodeProviderUnavailable, fmt.Sprintf("the provider used up its %s budget for this request", time.Duration(g.policy.Budget)), nil)
}

func (g *Guard) timeoutError(bctx context.Context) *ds.Error {
	// Name the limit that was hit: the attempt's timeout, or the request's
	// budget for the provider running out before the attempt's timeout.
	msg := fmt.Sprintf("the provider did not answer within the %s attempt timeout", time.Duration(g.policy.Timeout))
	if bctx.Err() != nil {
		msg = fmt.Sprintf("the provider did not answer before this request's %s budget for it ran out", time.Duration(g.policy.Budget))
	}
	return g.fail(ds.CodeProviderUnavailable, msg, context.DeadlineExceeded)
}

// cancelBody ends the attempt's deadline when the body is closed, and says
// a read cut off by that deadline is a timeout.
type cancelBody struct {
	io.ReadCloser
	cancel   context.CancelFunc
	timedOut func() bool
	g        *Guard
	bctx     context.Context
}

func (b *cancelBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && b.timedOut() {
		e := b.g.timeoutError(b.bctx)
		b.g.record(e.Message)
		return n, e
	}
	return n, err
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

func (g *Guard) fail(code ds.Code, msg string, cause error) *ds.Error {
	p := g.provider
	return &ds.Error{Code: code, Provider: &p, Message: msg, Err: cause}
}

func (g *Guard) openError() *ds.Error {
	g.mu.Lock()
	since, last := g.since, g.lastError
	g.mu.Unlock()
	e := g.fail(ds.CodeProviderUnavailable, "the provider is failing; the gateway is not calling it for now (circuit open)", nil)
	e.Reason = ds.ReasonCircuitOpen
	if left := time.Until(since.Add(time.Duration(g.policy.BreakerOpen))); left > 0 {
		e.RetryAfter = left
	}
	if last != "" {
		e.Err = errors.New("last failure: " + last)
	}
	g.metrics.shortCircuits.Inc()
	return e
}

func (g *Guard) record(msg string) {
	g.mu.Lock()
	g.lastError = msg
	g.mu.Unlock()
}

// AllowRetry says whether a retry after wait fits the retry budget and
// the provider's per-request budget; it spends from the retry budget when so.
func (g *Guard) AllowRetry(ctx context.Context, wait time.Duration) bool {
	if deadline, ok := ds.BudgetDeadline(ctx, g.provider, time.Duration(g.policy.Budget)); ok && time.Now().Add(wait).After(deadline) {
		return false
	}
	if !g.retries.spend() {
		g.metrics.retriesDenied.Inc()
		return false
	}
	g.metrics.retries.Inc()
	return true
}

// noteCall feeds the retry budget (Client.Do calls it once per logical call).
func (g *Guard) noteCall() { g.retries.deposit() }

// noteError counts a call's final error by code.
func (g *Guard) noteError(code ds.Code) { g.metrics.errors.WithLabelValues(string(code)).Inc() }

// Health is the breaker's state for ProviderStatus.health.
type Health struct {
	State     string // CLOSED, OPEN, HALF_OPEN
	LastError string // "" when none
	Since     time.Time
	// Problem is a configuration problem the provider's answers show
	// (ProblemCredentialsRejected, ProblemBaseURLNotFound), "" when none;
	// Reason says it in words an operator can act on.
	Problem, Reason string
}

// Health reports the breaker state, the last failure and since when.
func (g *Guard) Health() Health {
	st := g.breaker.State() // may move OPEN to HALF_OPEN (and call OnStateChange) first
	g.mu.Lock()
	defer g.mu.Unlock()
	return Health{State: stateName(st), LastError: g.lastError, Since: g.since, Problem: g.problem, Reason: g.reason}
}

func stateName(s gobreaker.State) string {
	switch s {
	case gobreaker.StateOpen:
		return "OPEN"
	case gobreaker.StateHalfOpen:
		return "HALF_OPEN"
	}
	return "CLOSED"
}
