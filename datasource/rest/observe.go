package rest

import (
	"context"
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	ds "github.com/federated-customers/gateway/datasource"
)

// TracerName names the spans this package starts.
const TracerName = "github.com/federated-customers/gateway/datasource/rest"

// propagator writes W3C traceparent and tracestate on upstream calls.
var propagator = propagation.TraceContext{}

// setRequestHeaders stamps an upstream request with what lets the vendor's
// logs be matched with the gateway's: the GraphQL request's X-Request-Id.
func setRequestHeaders(ctx context.Context, hr *http.Request) {
	if id := ds.RequestID(ctx); id != "" {
		hr.Header.Set("X-Request-Id", id)
	}
}

// Traced wraps a provider's transport (its Guard) so that every attempt is
// a client span, child of the span in the request's context, and carries
// W3C traceparent to the vendor. With no recording span in the context the
// tracer is a no-op, and an incoming traceparent is still passed on. The
// wrapper unwraps (Unwrap), so Client still finds the Guard beneath it.
func Traced(p ds.ProviderID, base http.RoundTripper) http.RoundTripper {
	return &tracedTransport{provider: p, base: base}
}

type tracedTransport struct {
	provider ds.ProviderID
	base     http.RoundTripper
}

// Unwrap is the transport this one wraps.
func (t *tracedTransport) Unwrap() http.RoundTripper { return t.base }

func (t *tracedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	tracer := trace.SpanFromContext(ctx).TracerProvider().Tracer(TracerName)
	// Only the path: the query may hold a caller's search terms or emails.
	ctx, span := tracer.Start(ctx, req.Method+" "+t.provider.Key(), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			attribute.String("http.request.method", req.Method),
			attribute.String("server.address", req.URL.Hostname()),
			attribute.String("url.path", req.URL.Path),
			attribute.String("gateway.provider", t.provider.String()),
			attribute.String("gateway.freshness", string(ds.Live)),
		))
	if n := attemptOf(req.Context()); n > 0 {
		span.SetAttributes(attribute.Int("http.request.resend_count", n))
	}
	out := req.WithContext(ctx) // a RoundTripper must not change the caller's request
	out.Header = req.Header.Clone()
	propagator.Inject(ctx, propagation.HeaderCarrier(out.Header))
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		// the code only: a transport error's text may carry the URL's query
		span.SetStatus(codes.Error, "upstream call failed: "+string(ds.ErrorCode(err)))
	} else {
		span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
		if resp.StatusCode >= 400 {
			span.SetStatus(codes.Error, "HTTP "+strconv.Itoa(resp.StatusCode))
		}
	}
	span.End()
	return resp, err
}
