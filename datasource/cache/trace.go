package cache

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

const tracerName = "github.com/federated-customers/gateway/datasource/cache"

// traceLookup is a span for one read of the cache's levels, when the
// request is traced; done records which level answered (memory, postgres,
// or none: every key goes upstream) and how many keys each held.
func traceLookup(ctx context.Context, keys int) (done func(memory, postgres int)) {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return func(int, int) {}
	}
	_, span := parent.TracerProvider().Tracer(tracerName).Start(ctx, "cache lookup",
		trace.WithAttributes(attribute.Int("gateway.cache.keys", keys)))
	return func(memory, postgres int) {
		level := "none"
		switch {
		case postgres > 0:
			level = "postgres"
		case memory > 0:
			level = "memory"
		}
		span.SetAttributes(attribute.String("gateway.cache.level", level),
			attribute.Int("gateway.cache.memory_hits", memory), attribute.Int("gateway.cache.postgres_hits", postgres))
		span.End()
	}
}
