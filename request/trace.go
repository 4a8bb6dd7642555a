package request

import (
	"context"

	"github.com/graph-gophers/dataloader/v7"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// tracerName names the spans this package starts.
const tracerName = "github.com/federated-customers/gateway/request"

// traced makes each batch of a loader a span, child of the request's (the
// upstream calls it makes are its children), when the request is traced.
func traced[K comparable, V any](name string, attrs []attribute.KeyValue, fn dataloader.BatchFunc[K, V]) dataloader.BatchFunc[K, V] {
	return func(ctx context.Context, keys []K) []*dataloader.Result[V] {
		parent := trace.SpanFromContext(ctx)
		if !parent.IsRecording() {
			return fn(ctx, keys)
		}
		ctx, span := parent.TracerProvider().Tracer(tracerName).Start(ctx, "batch "+name,
			trace.WithAttributes(append(attrs, attribute.Int("gateway.batch.keys", len(keys)))...))
		defer span.End()
		out := fn(ctx, keys)
		failed := 0
		for _, r := range out {
			if r != nil && r.Error != nil {
				failed++
			}
		}
		if failed > 0 {
			span.SetAttributes(attribute.Int("gateway.batch.failed", failed))
		}
		return out
	}
}

func providerAttr(name string) []attribute.KeyValue {
	return []attribute.KeyValue{attribute.String("gateway.provider", name)}
}
