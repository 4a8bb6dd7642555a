// Package simkit is what every vendor simulator shares: request counting and
// fault injection, so tests can count upstream calls and make a provider fail
// the way the real one does (its own error body, its own headers).
package simkit

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrorWriter writes a vendor-shaped error body for status with message.
type ErrorWriter func(w http.ResponseWriter, status int, message string)

// Fault is one injected failure.
type Fault struct {
	Status  int
	Message string
	Header  http.Header
	// Delay holds the request this long (or until the client goes away) first.
	Delay time.Duration
	// Path restricts the fault to requests whose path has this prefix ("" = any).
	Path string
	// Method restricts the fault to requests of this method ("" = any).
	Method string
	// After lets the simulator act first (a write is applied), then holds
	// its answer Delay and replaces it by Status, or cuts it (CutBody): a
	// vendor whose answer is lost after it acted.
	After bool
	// CutBody sends the status, the headers (with the full Content-Length)
	// and half the body, then drops the connection.
	CutBody bool
	// EchoCredentials appends the request's credential headers to Message,
	// as some vendors do ("bad key <key>"): the client must scrub them.
	EchoCredentials bool
}

// credentialHeaders are the headers the vendors take credentials in.
var credentialHeaders = []string{"Authorization", "X-Api-Key", "X-Organization-Id"}

// credential is what the request carried in its credential headers, the
// bearer scheme stripped ("" when none).
func credential(r *http.Request) string {
	var parts []string
	for _, h := range credentialHeaders {
		if v := r.Header.Get(h); v != "" {
			parts = append(parts, strings.TrimPrefix(v, "Bearer "))
		}
	}
	return strings.Join(parts, " ")
}

// Call is one request the simulator received.
type Call struct {
	Method string
	Path   string
	Query  string
	// Credential is what the request carried in its credential headers
	// (bearer scheme stripped), so tests can check it never leaks.
	Credential string
	// Header is the request's headers, so a benchmark can replay the very
	// requests the gateway made against the simulator alone.
	Header http.Header
	// At is when the request arrived (a call log's timeline).
	At time.Time
}

// Kit wraps a simulator's handler.
type Kit struct {
	mu         sync.Mutex
	calls      []Call
	faults     []Fault
	latency    time.Duration
	sticky     *Fault
	writeError ErrorWriter
	// rate limit: at most limitN requests in any window of limitPer
	limitN    int
	limitPer  time.Duration
	recent    []time.Time
	throttled int
	// requests being served now, and the most at once since the last reset
	inFlight, maxInFlight int
}

// New returns a Kit whose injected faults are written by we.
func New(we ErrorWriter) *Kit { return &Kit{writeError: we} }

// Wrap counts every request and applies queued faults before h.
func (k *Kit) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k.mu.Lock()
		k.inFlight++
		k.maxInFlight = max(k.maxInFlight, k.inFlight)
		defer func() { k.mu.Lock(); k.inFlight--; k.mu.Unlock() }()
		k.calls = append(k.calls, Call{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Credential: credential(r), Header: r.Header.Clone(), At: time.Now()})
		var f *Fault
		for i := range k.faults {
			if k.faults[i].matches(r) {
				ff := k.faults[i]
				f = &ff
				k.faults = append(k.faults[:i], k.faults[i+1:]...)
				break
			}
		}
		if f == nil && k.sticky != nil && k.sticky.matches(r) {
			ff := *k.sticky
			f = &ff
		}
		lat := k.latency
		limited := f == nil && k.overLimit(time.Now())
		k.mu.Unlock()
		if limited {
			w.Header().Set("Retry-After", "1")
			k.writeError(w, http.StatusTooManyRequests, "rate limit exceeded")
			return
		}
		if f != nil && f.After {
			if lat > 0 && !wait(r.Context(), lat) {
				return
			}
			k.after(w, r, h, f)
			return
		}
		if f != nil && f.Delay > lat {
			lat = f.Delay
		}
		if lat > 0 && !wait(r.Context(), lat) {
			return
		}
		if f != nil && f.Status != 0 {
			for h, vs := range f.Header {
				w.Header()[h] = vs
			}
			msg := f.Message
			if f.EchoCredentials {
				msg += " " + credential(r)
			}
			k.writeError(w, f.Status, msg)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (f *Fault) matches(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, f.Path) && (f.Method == "" || f.Method == r.Method)
}

// after serves r with h, then applies f to the answer (see Fault.After).
func (k *Kit) after(w http.ResponseWriter, r *http.Request, h http.Handler, f *Fault) {
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	h.ServeHTTP(rec, r)
	if f.Delay > 0 && !wait(r.Context(), f.Delay) {
		return // the client gave up; the write stands
	}
	if f.Status != 0 {
		k.writeError(w, f.Status, f.Message)
		return
	}
	for name, vs := range rec.header {
		w.Header()[name] = vs
	}
	body := rec.body.Bytes()
	if !f.CutBody {
		w.WriteHeader(rec.status)
		_, _ = w.Write(body)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rec.status)
	_, _ = w.Write(body[:len(body)/2])
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	panic(http.ErrAbortHandler) // drops the connection: the client reads a cut-off body
}

// recorder keeps a handler's answer for after.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
}

func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// overLimit records a request at now and says whether it exceeds the rate
// limit (a sliding window); k.mu is held.
func (k *Kit) overLimit(now time.Time) bool {
	if k.limitN <= 0 {
		return false
	}
	cut := 0
	for cut < len(k.recent) && now.Sub(k.recent[cut]) >= k.limitPer {
		cut++
	}
	k.recent = k.recent[cut:]
	if len(k.recent) >= k.limitN {
		k.throttled++
		return true
	}
	k.recent = append(k.recent, now)
	return false
}

// SetRateLimit makes the simulator answer 429 (with Retry-After: 1) to any
// request beyond n in a sliding window of per, as a vendor enforcing its
// documented limit does; n <= 0 turns it off.
func (k *Kit) SetRateLimit(n int, per time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.limitN, k.limitPer, k.recent, k.throttled = n, per, nil, 0
}

// Throttled is how many requests the rate limit has answered with 429.
func (k *Kit) Throttled() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.throttled
}

// SetLatency adds d to every later request (it honours the client going away).
func (k *Kit) SetLatency(d time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.latency = d
}

// Inject queues faults; each applies to one matching request.
func (k *Kit) Inject(fs ...Fault) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.faults = append(k.faults, fs...)
}

// SetDown makes every later matching request fail with f until SetDown(nil):
// a provider that stays down, as opposed to Inject's one-shot faults.
func (k *Kit) SetDown(f *Fault) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.sticky = f
}

// Calls returns the requests received so far.
func (k *Kit) Calls() []Call {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]Call(nil), k.calls...)
}

// MaxInFlight is the most requests served at once since the last reset.
func (k *Kit) MaxInFlight() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.maxInFlight
}

// InFlight is how many requests are being served now (a test reads it to
// tell a call still held by the simulator from one that has ended).
func (k *Kit) InFlight() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.inFlight
}

// Count is the number of requests received so far.
func (k *Kit) Count() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.calls)
}

// Reset forgets counted calls and pending faults.
func (k *Kit) Reset() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls, k.faults = nil, nil
	k.maxInFlight = k.inFlight
}

// WriteJSON writes v with status.
func WriteJSON(w http.ResponseWriter, status int, contentType string, v any) {
	if contentType == "" {
		contentType = "application/json"
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
