package datasource

import (
	"context"
)

type requestIDKey struct{}

// WithRequestID puts the request's id (X-Request-Id) in ctx, so the upstream
// calls made for the request carry it to the vendors and their logs can be
// matched with the gateway's.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the id of the request in ctx, "" outside a request.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
