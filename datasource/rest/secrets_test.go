package rest

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	ds "github.com/federated-customers/gateway/datasource"
)

func TestSecretsAreScrubbedInEveryForm(t *testing.T) {
	s := NewSecrets("sk_live_a+b/c=d", "", "abc", "tok_123456")
	for _, tc := range []struct{ in, absent string }{
		{"bad key sk_live_a+b/c=d", "sk_live_a+b/c=d"},
		{"GET /x?key=sk_live_a%2Bb%2Fc%3Dd failed", "sk_live_a%2Bb%2Fc%3Dd"},
		{`Post "https://user:hunter2@api.example.com/v1": refused`, "hunter2"},
		{"tok_123456tok_123456", "tok_123456"},
		// issue 15, finding 7: any case, path-escaped, base64 at any
		// alignment (a Basic header), and the start a cut left
		{"bad key SK_LIVE_A+B/C=D", "SK_LIVE_A+B/C=D"},
		{"GET /v1/keys/sk_live_a+b%2Fc=d", "sk_live_a+b%2Fc=d"},
		{"Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("user:tok_123456")), base64.StdEncoding.EncodeToString([]byte("user:tok_123456"))[8:20]},
		{"token " + base64.RawURLEncoding.EncodeToString([]byte("tok_123456")), base64.RawURLEncoding.EncodeToString([]byte("tok_123456"))},
		{"the key was sk_live_a+b…", "sk_live_a+b"},
		{"the key was tok_1234", "tok_1234"},
	} {
		if got := s.Scrub(tc.in); strings.Contains(got, tc.absent) || !strings.Contains(got, redacted) {
			t.Errorf("Scrub(%q) = %q", tc.in, got)
		}
	}
	// too short to be a credential: left alone rather than mangling words
	if got := s.Scrub("abc"); got != "abc" {
		t.Errorf("short value scrubbed: %q", got)
	}
	var nilSet *Secrets
	if got := nilSet.Scrub("plain"); got != "plain" {
		t.Errorf("nil set: %q", got)
	}
}

func TestScrubbedErrorsKeepTheirCodeAndCause(t *testing.T) {
	s := NewSecrets("sk_secret_value")
	p := ds.Kintsugi
	err := s.ScrubError(&ds.Error{Code: ds.CodeProviderUnavailable, Provider: &p, Reason: ds.ReasonProviderAuth,
		Message: "bad key sk_secret_value", Err: context.DeadlineExceeded})
	if strings.Contains(err.Error(), "sk_secret_value") {
		t.Fatalf("leaked: %v", err)
	}
	if ds.ErrorCode(err) != ds.CodeProviderUnavailable || ds.ErrorReason(err) != ds.ReasonProviderAuth || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("lost code, reason or cause: %v", err)
	}
}

// logBuffer collects a client's log lines (the client logs from one goroutine here).
func logBuffer(c *Client) *strings.Builder {
	var b strings.Builder
	c.Log = slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug})) // the vendor's message is logged at Debug
	return &b
}

func TestRejectedGatewayCredentialsAreLoggedOncePerChange(t *testing.T) {
	c, _ := server(t, []int{401, 401, 403, 401, 200, 401}, nil, `{}`)
	buf := logBuffer(c)
	c.Secrets = NewSecrets("vendor says no") // the vendor echoes it: never in a log
	for i := range 6 {
		_, err := c.Do(context.Background(), Request{Method: "GET", Path: "/x"}, nil)
		if i == 4 {
			if err != nil {
				t.Fatalf("call %d: %v", i, err)
			}
			continue
		}
		if ds.ErrorCode(err) != ds.CodeProviderUnavailable || ds.ErrorReason(err) != ds.ReasonProviderAuth {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	out := buf.String()
	if n := strings.Count(out, "level=ERROR"); n != 2 {
		t.Errorf("%d ERROR lines for two episodes of rejection, want 2:\n%s", n, out)
	}
	if n := strings.Count(out, "accepts the gateway's credentials again"); n != 1 {
		t.Errorf("recovery logged %d times:\n%s", n, out)
	}
	if !strings.Contains(out, "provider=TELNESS") || !strings.Contains(out, "status=401") || strings.Contains(out, "vendor says no") {
		t.Errorf("log lacks provider/status or leaks: %s", out)
	}
}

func TestARequestTheVendorRefusesIsInternalAndLogged(t *testing.T) {
	c, _ := server(t, []int{http.StatusBadRequest}, nil, `{}`)
	buf := logBuffer(c)
	_, err := c.Do(context.Background(), Request{Method: "GET", Path: "/x"}, nil)
	if ds.ErrorCode(err) != ds.CodeInternal || !strings.Contains(buf.String(), "level=WARN") {
		t.Fatalf("err %v, log %q", err, buf.String())
	}
	// the same status on a write, or on a read carrying the caller's cursor, judges the caller's input
	for _, req := range []Request{{Method: "POST", Path: "/x"}, {Method: "GET", Path: "/x", CallerInput: true}} {
		if _, err := c.Do(context.Background(), req, nil); ds.ErrorCode(err) != ds.CodeBadUserInput {
			t.Errorf("%+v: %v", req, err)
		}
	}
}
