package datasource

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"strings"
)

// AnswerLost reports whether err leaves a write's outcome unknown: the
// request may have reached the vendor, but no usable answer came back (an
// attempt or budget timeout, a reset, a cut-off body, a 5xx). A vendor that
// answered 4xx, an open circuit, the gateway's quota or rejected credentials
// are not lost answers: the write was refused or never sent.
func AnswerLost(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code == CodeProviderUnavailable && e.Reason == "" && (e.Status == 0 || e.Status >= 500) && !neverSent(err)
}

// neverSent: the connection was never made, so the vendor cannot have acted.
func neverSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// AbsentOutcome is the outcome of a lost write whose effect a read does not
// show: NOT_APPLIED when the vendor had finished with the request (a 5xx, a
// reset or cut-off answer), UNCERTAIN after a timeout, since the vendor may
// still be working on it.
func AbsentOutcome(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return OutcomeUncertain
	}
	return OutcomeNotApplied
}

// WithOutcome returns err (a lost write's error) carrying outcome, for
// extensions.outcome; the message says what it means for a retry.
func WithOutcome(err error, outcome string) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	c := *e
	c.Outcome = outcome
	switch outcome {
	case OutcomeUncertain:
		c.Message += "; whether the write was applied is unknown (retry with the same idempotency key)"
	case OutcomeNotApplied:
		c.Message += "; the write was not applied"
	}
	return &c
}

// NewWriteID is a fresh id for a record the gateway creates at a vendor that
// lets the client choose it: the write's idempotency key (WriteKey) when
// there is one, so a repeat names the same record, else random. prefix keeps
// it recognisable.
func NewWriteID(writeKey, prefix string) string {
	if writeKey != "" {
		return prefix + writeKey
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// InputApplied reports whether record c shows every field in carries: how
// a write whose answer was lost is read back and compared. Emails compare
// case-insensitively, locales ignore case and - versus _, countries case.
func InputApplied(in CustomerInput, c *Customer) bool {
	if c == nil {
		return false
	}
	same := func(want, got *string, fold bool) bool {
		if want == nil {
			return true
		}
		g := ""
		if got != nil {
			g = *got
		}
		if fold {
			return strings.EqualFold(strings.ReplaceAll(*want, "_", "-"), strings.ReplaceAll(g, "_", "-"))
		}
		return *want == g
	}
	if !same(in.Email, c.Email, true) || !same(in.Name, c.Name, false) || !same(in.Phone, c.Phone, false) || !same(in.Locale, c.Locale, true) {
		return false
	}
	if in.Type != nil && (c.Type == nil || *c.Type != *in.Type) {
		return false
	}
	if a := in.Address; a != nil {
		got := c.Address
		if got == nil {
			got = &Address{}
		}
		nonEmpty := func(p *string) *string {
			if p == nil || *p == "" {
				return nil
			}
			return p
		}
		for _, f := range []struct {
			want, got *string
			fold      bool
		}{{a.Line1, got.Line1, false}, {a.Line2, got.Line2, false}, {a.City, got.City, false}, {a.State, got.State, false},
			{a.PostalCode, got.PostalCode, false}, {a.Country, got.Country, true}} {
			if !same(nonEmpty(f.want), f.got, f.fold) {
				return false
			}
		}
	}
	for k, v := range in.Metadata {
		want, _ := json.Marshal(v)
		have, _ := json.Marshal(c.Metadata[k])
		if string(want) != string(have) {
			return false
		}
	}
	return true
}
