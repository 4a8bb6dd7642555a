package datasource

import (
	"errors"
	"fmt"
	"time"
)

// Code is the machine-readable class of an Error; it becomes extensions.code.
// The values are a contract other tools depend on.
type Code string

const (
	CodeBadUserInput          Code = "BAD_USER_INPUT"
	CodeUnauthenticated       Code = "UNAUTHENTICATED"
	CodeForbidden             Code = "FORBIDDEN"
	CodeNotFound              Code = "NOT_FOUND"
	CodeUnsupportedByProvider Code = "UNSUPPORTED_BY_PROVIDER"
	CodeProviderUnavailable   Code = "PROVIDER_UNAVAILABLE"
	CodeProviderRateLimited   Code = "PROVIDER_RATE_LIMITED"
	CodeQueryTooComplex       Code = "QUERY_TOO_COMPLEX"
	CodeInternal              Code = "INTERNAL"
)

// Error is the one coded error type of the gateway. Message is safe to show a
// client; Err (never shown) keeps the cause for logs. Provider is set when
// one upstream is to blame.
type Error struct {
	Code     Code
	Provider *ProviderID
	Message  string
	// Status is the upstream HTTP status, when there was one (for logs and tests).
	Status int
	// RetryAfter is the upstream's hint, when it gave one.
	RetryAfter time.Duration
	// Reason refines Code for the client (extensions.reason), e.g.
	// ReasonProviderAuth; "" when there is nothing to add.
	Reason string
	// Outcome says, for a write whose answer was lost, whether the vendor
	// applied it (OutcomeUncertain, OutcomeApplied, OutcomeNotApplied);
	// "" for reads and for writes whose answer arrived.
	Outcome string
	Err     error
}

// ReasonProviderAuth says a provider rejected the gateway's own credentials
// (not the caller's): the caller can do nothing about it, the operator can.
const ReasonProviderAuth = "PROVIDER_AUTH"

// ReasonCircuitOpen says the gateway did not call the provider because its
// circuit breaker is open after repeated failures.
const ReasonCircuitOpen = "CIRCUIT_OPEN"

// ErrorReason returns the Reason of err, "" when there is none.
func ErrorReason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

func (e *Error) Error() string {
	s := string(e.Code) + ": " + e.Message
	if e.Provider != nil {
		s = e.Provider.String() + ": " + s
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an Error with no provider to blame.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ProviderErrorf builds an Error that names the provider to blame.
func ProviderErrorf(p ProviderID, code Code, format string, args ...any) *Error {
	return &Error{Code: code, Provider: &p, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the Code of err, INTERNAL for anything that is not an *Error.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorProvider returns the provider named by err, if any.
func ErrorProvider(err error) (ProviderID, bool) {
	var e *Error
	if errors.As(err, &e) && e.Provider != nil {
		return *e.Provider, true
	}
	return 0, false
}

// IsNotFound reports whether err means the record does not exist.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == CodeNotFound
}
