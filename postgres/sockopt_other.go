//go:build !linux

package postgres

import (
	"syscall"
	"time"
)

// setUserTimeout is Linux only; elsewhere keepalives alone find a dead peer.
func setUserTimeout(time.Duration) func(network, address string, c syscall.RawConn) error {
	return nil
}
