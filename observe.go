package main

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/federated-customers/gateway/config"
)

// newLogger is the gateway's logger per log: {level, format}: text
// (logfmt-like) or JSON lines on w, info and above unless told otherwise.
// level is a LevelVar, so a reload can change it in place.
func newLogger(c config.Log, w io.Writer, level *slog.LevelVar) *slog.Logger {
	if w == nil {
		w = os.Stderr
	}
	var l slog.Level
	_ = l.UnmarshalText([]byte(c.Level)) // checked by config; "" keeps INFO
	level.Set(l)
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// tracerProvider is the tracing the gateway exports: Main.Tracing (tests),
// else an OTLP/HTTP exporter when tracing.otlp_endpoint is set, else none
// (nil). Sampling follows the caller's traceparent when it has one, else
// tracing.sample_ratio.
func (m *Main) tracerProvider(ctx context.Context, c config.Tracing) (trace.TracerProvider, error) {
	if m.Tracing != nil {
		return m.Tracing, nil
	}
	if c.OTLPEndpoint == "" {
		return nil, nil
	}
	endpoint := c.OTLPEndpoint
	if u, err := url.Parse(endpoint); err == nil && strings.Trim(u.Path, "/") == "" {
		u.Path = "/v1/traces" // as OTEL_EXPORTER_OTLP_ENDPOINT: the base, plus the signal's path
		endpoint = u.String()
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, err
	}
	// A collector that fails costs spans, never a request: say so in the
	// gateway's own log (the SDK's default is the standard library's log).
	log := m.Log
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { log.Warn("tracing: spans not exported", "error", err) }))
	ratio := 1.0
	if c.SampleRatio != nil {
		ratio = *c.SampleRatio
	}
	name := c.ServiceName
	if name == "" {
		name = "gateway"
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", name), attribute.String("service.version", Version()))),
	)
	m.stopTracing = tp.Shutdown
	m.Log.Info("tracing", "otlp_endpoint", endpoint, "sample_ratio", ratio, "service_name", name)
	return tp, nil
}
