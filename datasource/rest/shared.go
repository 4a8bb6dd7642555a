package rest

import (
	"context"
	"time"

	"golang.org/x/sync/singleflight"
)

// Shared runs fetch once for all concurrent callers of key in g (a login, a
// token, a catalogue): in a context that outlives any one caller's
// cancellation, bounded by timeout, so one caller giving up does not fail
// the others. Each caller waits only as long as its own ctx allows (then
// ctx's error).
func Shared[T any](ctx context.Context, g *singleflight.Group, key string, timeout time.Duration, fetch func(context.Context) (T, error)) (T, error) {
	ch := g.DoChan(key, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		defer cancel()
		return fetch(fctx)
	})
	var zero T
	select {
	case <-ctx.Done():
		return zero, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return zero, r.Err
		}
		return r.Val.(T), nil
	}
}
