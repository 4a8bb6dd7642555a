package datasource

import (
	"context"
	"sync"
)

// requestMemo is what one request has read from its providers (records,
// pages, lookups), by cache key: a request reads each at most once,
// whatever the cache's TTL, even ttl 0 (always live across requests).
type requestMemo struct {
	mu sync.Mutex
	m  map[string]any
}

// Remember keeps v as the request's answer for key (no-op outside a
// request: a background sync has no report).
func Remember(ctx context.Context, key string, v any) {
	r := ReportFrom(ctx)
	if r == nil {
		return
	}
	r.memo.mu.Lock()
	defer r.memo.mu.Unlock()
	if r.memo.m == nil {
		r.memo.m = map[string]any{}
	}
	r.memo.m[key] = v
}

// Recall returns what the request already read for key.
func Recall(ctx context.Context, key string) (any, bool) {
	r := ReportFrom(ctx)
	if r == nil {
		return nil, false
	}
	r.memo.mu.Lock()
	defer r.memo.mu.Unlock()
	v, ok := r.memo.m[key]
	return v, ok
}

// ForgetRemembered drops the request's memo: a write in the request may
// have changed what it read.
func ForgetRemembered(ctx context.Context) {
	if r := ReportFrom(ctx); r != nil {
		r.memo.mu.Lock()
		r.memo.m = nil
		r.memo.mu.Unlock()
	}
}
