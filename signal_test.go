package main

import (
	"strings"
	"testing"
	"time"
)

// TestSIGTERMShutsTheGatewayDownCleanly builds the real binary, starts it in
// demo mode, waits until it serves, sends SIGTERM and expects a clean exit
// (after the default 5 s drain grace).
func TestSIGTERMShutsTheGatewayDownCleanly(t *testing.T) {
	p := startProcess(t)
	if err := p.terminate(t, 25*time.Second); err != nil {
		t.Fatalf("exit: %v\n%s", err, p.logs.String())
	}
	if !strings.Contains(p.logs.String(), "shutting down") {
		t.Fatalf("no shutdown log:\n%s", p.logs.String())
	}
}
