package datasource

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sync"
	"time"
)

// Write outcomes (extensions.outcome) of a write whose answer was lost:
// whether the vendor applied it, when the gateway could find out.
const (
	OutcomeUncertain  = "UNCERTAIN"
	OutcomeApplied    = "APPLIED"
	OutcomeNotApplied = "NOT_APPLIED"
)

// IdempotencyTTL is how long a key and its outcome are remembered.
const IdempotencyTTL = 24 * time.Hour

// IdempotencyLease is how long a running write holds its key: a claim older
// than this (its replica died mid-write) may be taken over by a repeat.
const IdempotencyLease = 2 * time.Minute

// MaxIdempotencyKey is the longest idempotency key accepted (bytes).
const MaxIdempotencyKey = 255

// idempotencyPoll is how often a repeat waiting for a running write looks again.
const idempotencyPoll = 25 * time.Millisecond

// IdempotencyRecord is what a store holds for one key.
type IdempotencyRecord struct {
	Fingerprint string
	// Done is set once the outcome is stored; Outcome is then its JSON.
	Done    bool
	Outcome []byte
}

// IdempotencyStore remembers idempotency keys, the fingerprint of the request
// that first used each and, once known, its outcome. Keys arrive hashed with
// the caller's scope. In process (MemoryIdempotency) or in Postgres, shared by
// replicas.
type IdempotencyStore interface {
	// Claim records key as running with fingerprint unless it is already
	// known (and neither expired nor an abandoned claim); it returns the
	// existing record otherwise.
	Claim(ctx context.Context, key, fingerprint string) (existing *IdempotencyRecord, claimed bool, err error)
	// Complete stores the outcome of a claimed key.
	Complete(ctx context.Context, key string, outcome []byte) error
	// Release forgets a claim whose write may be tried again (its outcome
	// was a transient failure or is uncertain).
	Release(ctx context.Context, key string) error
}

type idemCtxKey struct{}

// idemRequest is the idempotency of one GraphQL request: the caller's
// scope and the key of its Idempotency-Key header, if any.
type idemRequest struct {
	scope  string
	header string
}

// WithIdempotency marks ctx with the caller's scope (its API key's hash, ""
// without keys) and the request's Idempotency-Key header ("" when absent).
func WithIdempotency(ctx context.Context, scope, headerKey string) context.Context {
	return context.WithValue(ctx, idemCtxKey{}, idemRequest{scope: scope, header: headerKey})
}

type writeKeyCtx struct{}

// WriteKey is the stable key of the logical write running under ctx, for a
// vendor's own idempotency (a header, a client-chosen id): derived from the
// caller's idempotency key, so a repeat of the write carries the same one.
// ok is false when the caller gave no key.
func WriteKey(ctx context.Context) (string, bool) {
	k, ok := ctx.Value(writeKeyCtx{}).(string)
	return k, ok && k != ""
}

// Idempotent runs the mutation field op (its arguments in input, its
// response name in field) under the caller's idempotency key, if any: the
// argument key, else the Idempotency-Key header (scoped to the field, so one
// document may carry several mutations). With a key, a repeat with the same
// input replays the first outcome without running again, a repeat while the
// first runs waits for it, and the same key with another input is
// BAD_USER_INPUT naming the key. Transient and uncertain failures are not
// kept: a repeat runs the write again, and the vendor-side key (WriteKey)
// keeps it from being applied twice.
func Idempotent[T any](ctx context.Context, store IdempotencyStore, op, field string, argKey *string, input any, run func(context.Context) (T, error)) (T, error) {
	var zero T
	run = settle(run)
	req, _ := ctx.Value(idemCtxKey{}).(idemRequest)
	key, scoped := req.header, field
	if argKey != nil {
		if req.header != "" && req.header != *argKey {
			return zero, Errorf(CodeBadUserInput, "the Idempotency-Key header and the idempotencyKey argument differ; send one")
		}
		key, scoped = *argKey, ""
	}
	if key == "" && argKey == nil {
		return run(ctx)
	}
	if err := checkIdempotencyKey(key); err != nil {
		return zero, err
	}
	h := sha256.New()
	for _, s := range []string{req.scope, key, scoped} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	stored := hex.EncodeToString(h.Sum(nil))
	in, err := json.Marshal(input)
	if err != nil {
		return zero, Errorf(CodeBadUserInput, "the input cannot be fingerprinted: %v", err)
	}
	f := sha256.Sum256(append([]byte(op+"\x00"), in...))
	fingerprint := hex.EncodeToString(f[:])
	ctx = context.WithValue(ctx, writeKeyCtx{}, stored[:32])
	if store == nil {
		return run(ctx)
	}
	for {
		rec, claimed, err := store.Claim(ctx, stored, fingerprint)
		if err != nil {
			return zero, &Error{Code: CodeProviderUnavailable, Message: "the idempotency store is unavailable; the write was not sent", Err: err}
		}
		if claimed {
			break
		}
		if rec.Fingerprint != fingerprint {
			return zero, Errorf(CodeBadUserInput, "idempotency key %s was already used with a different request (another mutation or input); use a new key", QuoteShort(key))
		}
		if rec.Done {
			return replay[T](rec.Outcome)
		}
		t := time.NewTimer(idempotencyPoll) // the first request with this key is still running
		select {
		case <-ctx.Done():
			t.Stop()
			return zero, &Error{Code: CodeProviderUnavailable, Message: "a request with the same idempotency key is still running", Err: ctx.Err()}
		case <-t.C:
		}
	}
	v, runErr := run(ctx)
	// The outcome is kept even when the caller has gone away.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if keep(runErr) {
		if b, err := json.Marshal(outcomeOf(v, runErr)); err == nil {
			if err := store.Complete(sctx, stored, b); err == nil {
				return v, runErr
			}
		}
	}
	_ = store.Release(sctx, stored) // best effort: an unreleased claim lapses after IdempotencyLease
	return v, runErr
}

// settle makes a failed write say whether it was applied, where its vendor
// package did not: UNCERTAIN when its answer was lost, NOT_APPLIED when the
// provider refused it or it was never sent.
func settle[T any](run func(context.Context) (T, error)) func(context.Context) (T, error) {
	return func(ctx context.Context) (T, error) {
		v, err := run(ctx)
		var e *Error
		if err == nil || !errors.As(err, &e) || e.Outcome != "" {
			return v, err
		}
		switch {
		case AnswerLost(err):
			err = WithOutcome(err, OutcomeUncertain)
		case e.Provider != nil && (e.Code == CodeProviderUnavailable || e.Code == CodeProviderRateLimited):
			err = WithOutcome(err, OutcomeNotApplied) // refused or never sent: an open circuit, a quota, a 429
		}
		return v, err
	}
}

// keep says whether an outcome is final: a success, or an error the caller
// must fix (a retry would meet it again). Transient failures and uncertain
// outcomes are not kept, so a repeat tries again.
func keep(err error) bool {
	if err == nil {
		return true
	}
	var e *Error
	if !errors.As(err, &e) || e.Outcome != "" {
		return false
	}
	switch e.Code {
	case CodeBadUserInput, CodeNotFound, CodeUnsupportedByProvider, CodeForbidden:
		return true
	}
	return false
}

func checkIdempotencyKey(k string) error {
	if k == "" || len(k) > MaxIdempotencyKey {
		return Errorf(CodeBadUserInput, "an idempotency key must be 1 to %d characters", MaxIdempotencyKey)
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return Errorf(CodeBadUserInput, "an idempotency key must be printable ASCII without spaces")
		}
	}
	return nil
}

// storedOutcome is the JSON a store keeps: the value or the coded error.
type storedOutcome struct {
	Value json.RawMessage `json:"value,omitempty"`
	Error *storedError    `json:"error,omitempty"`
}

type storedError struct {
	Code     Code        `json:"code"`
	Provider *ProviderID `json:"provider,omitempty"`
	Message  string      `json:"message"`
	Reason   string      `json:"reason,omitempty"`
}

func outcomeOf[T any](v T, err error) storedOutcome {
	if err != nil {
		var e *Error
		errors.As(err, &e)
		return storedOutcome{Error: &storedError{Code: e.Code, Provider: e.Provider, Message: e.Message, Reason: e.Reason}}
	}
	b, _ := json.Marshal(v)
	return storedOutcome{Value: b}
}

func replay[T any](b []byte) (T, error) {
	var zero T
	var o storedOutcome
	if err := json.Unmarshal(b, &o); err != nil {
		return zero, &Error{Code: CodeInternal, Message: "internal error", Err: err}
	}
	if o.Error != nil {
		return zero, &Error{Code: o.Error.Code, Provider: o.Error.Provider, Message: o.Error.Message, Reason: o.Error.Reason}
	}
	var v T
	if err := json.Unmarshal(o.Value, &v); err != nil {
		return zero, &Error{Code: CodeInternal, Message: "internal error", Err: err}
	}
	return v, nil
}

// MemoryIdempotency keeps keys in process (no database configured).
type MemoryIdempotency struct {
	mu   sync.Mutex
	keys map[string]*memIdem
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
}

type memIdem struct {
	IdempotencyRecord
	at time.Time
}

func (m *MemoryIdempotency) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// Claim implements IdempotencyStore.
func (m *MemoryIdempotency) Claim(_ context.Context, key, fingerprint string) (*IdempotencyRecord, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if m.keys == nil {
		m.keys = map[string]*memIdem{}
	}
	if len(m.keys) > 4096 && len(m.keys)%1024 == 0 {
		for k, e := range m.keys { // expire in passing, so memory stays bounded by a day's keys
			if now.Sub(e.at) >= IdempotencyTTL {
				delete(m.keys, k)
			}
		}
	}
	if e, ok := m.keys[key]; ok && now.Sub(e.at) < IdempotencyTTL && (e.Done || now.Sub(e.at) < IdempotencyLease) {
		r := e.IdempotencyRecord
		return &r, false, nil
	}
	m.keys[key] = &memIdem{IdempotencyRecord: IdempotencyRecord{Fingerprint: fingerprint}, at: now}
	return nil, true, nil
}

// Complete implements IdempotencyStore.
func (m *MemoryIdempotency) Complete(_ context.Context, key string, outcome []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.keys[key]; ok {
		e.Done, e.Outcome, e.at = true, outcome, m.now()
	}
	return nil
}

// Release implements IdempotencyStore.
func (m *MemoryIdempotency) Release(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.keys, key)
	return nil
}
