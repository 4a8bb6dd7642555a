package api

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	ds "github.com/federated-customers/gateway/datasource"
)

// presentError is the only place that writes extensions.code and
// extensions.provider. Unknown errors become INTERNAL with a generic message
// and a full log line.
func presentError(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		var e *ds.Error
		if errors.As(err, &e) {
			gqlErr.Message = e.Message
			if e.Provider != nil && !strings.HasPrefix(e.Message, e.Provider.String()) {
				gqlErr.Message = e.Provider.String() + ": " + e.Message
			}
			ext := map[string]any{"code": string(e.Code)}
			if e.Provider != nil {
				ext["provider"] = e.Provider.String()
			}
			if e.Reason != "" {
				ext["reason"] = e.Reason
			}
			if e.Outcome != "" {
				ext["outcome"] = e.Outcome
			}
			if e.RetryAfter > 0 {
				ext["retryAfter"] = int(math.Ceil(e.RetryAfter.Seconds()))
			}
			gqlErr.Extensions = ext
			if e.Code == ds.CodeInternal {
				// security: the detail (a vendor's own message among it) goes
				// to the log line the request id points to, never to the caller
				gqlErr.Message = internalMessage(ctx)
				ext["requestId"] = requestID(ctx)
			}
			if e.Code == ds.CodeInternal || e.Code == ds.CodeProviderUnavailable {
				logOnce(ctx, log, e, gqlErr)
			}
			return gqlErr
		}
		var ge *gqlerror.Error
		if errors.As(err, &ge) {
			// gqlgen's own request errors (parse, validation, variables) and our
			// limits' (complexity and cost are checked by api/limits.go).
			code, _ := ge.Extensions["code"].(string)
			switch code {
			case "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED":
				gqlErr.Extensions = map[string]any{"code": string(ds.CodeBadUserInput)}
				return gqlErr
			case "PERSISTED_QUERY_NOT_FOUND":
				// Apollo's APQ protocol: clients retry with the query text on
				// exactly this code and message, so it passes through beside
				// the contract's codes.
				return gqlErr
			case string(ds.CodeQueryTooComplex), string(ds.CodeBadUserInput), string(ds.CodeProviderUnavailable),
				string(ds.CodeProviderRateLimited):
				return gqlErr
			}
			if code == "" && ge.Path == nil {
				// a transport-level complaint about the request itself
				if strings.HasPrefix(ge.Message, "json request body could not be decoded") {
					gqlErr.Message = "the request body is not valid JSON"
				}
				gqlErr.Extensions = map[string]any{"code": string(ds.CodeBadUserInput)}
				return gqlErr
			}
			if code == "" && isInputError(ge.Message) {
				gqlErr.Extensions = map[string]any{"code": string(ds.CodeBadUserInput)}
				return gqlErr
			}
		}
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			log.Info("request ended before the answer", "error", err.Error(), "path", gqlErr.Path.String())
			return &gqlerror.Error{Message: "the request was cancelled or timed out", Path: gqlErr.Path,
				Extensions: map[string]any{"code": string(ds.CodeProviderUnavailable)}}
		}
		log.Error("internal error", "error", err.Error(), "path", gqlErr.Path.String(), "request_id", requestID(ctx))
		return &gqlerror.Error{Message: internalMessage(ctx), Path: gqlErr.Path,
			Extensions: map[string]any{"code": string(ds.CodeInternal), "requestId": requestID(ctx)}}
	}
}

// isInputError recognises gqlgen's argument-coercion errors (a bad enum or
// scalar in variables), which are the client's fault.
func isInputError(msg string) bool {
	for _, s := range []string{"is not a valid", "must be a string", "cannot be null", "must be defined", "could not unmarshal", "not an int", "invalid type", "JSON:"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// recoverFunc turns a panic into INTERNAL; the stack goes to the log only.
func recoverFunc(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, v any) error {
		log.Error("panic in resolver", "panic", v, "request_id", requestID(ctx))
		return &ds.Error{Code: ds.CodeInternal, Message: "internal error"}
	}
}

// requestID is what ties an INTERNAL error to its log line ("" outside a
// request): the request's X-Request-Id (the one on the response, the access
// line and the vendors' calls), which the observer gives every /graphql request.
func requestID(ctx context.Context) string {
	return ds.RequestID(ctx)
}

// internalMessage is what a caller reads of a fault of the gateway's own.
func internalMessage(ctx context.Context) string {
	if id := requestID(ctx); id != "" {
		return "internal error: the gateway's log has the detail under request id " + id
	}
	return "internal error"
}

// logOnce logs a provider failure once per request, provider and kind, not
// once per field that met it.
func logOnce(ctx context.Context, log *slog.Logger, e *ds.Error, gqlErr *gqlerror.Error) {
	if !firstLog(ctx, failureKey(gqlErr)) {
		return
	}
	log.Warn("request error", "code", e.Code, "error", e.Error(), "path", gqlErr.Path.String(), "request_id", requestID(ctx))
}

// failureKey is a provider failure's kind: provider, code and reason.
func failureKey(e *gqlerror.Error) string {
	p, _ := e.Extensions["provider"].(string)
	c, _ := e.Extensions["code"].(string)
	r, _ := e.Extensions["reason"].(string)
	return p + "|" + c + "|" + r
}

// dedupeProviderErrors keeps one error per provider and kind of failure in a
// response (the first, with its path), counting the others in
// extensions.occurrences: a provider that is down is one error, not one per
// node that needed it. Errors that name no provider are all kept.
func dedupeProviderErrors(resp *graphql.Response) {
	if len(resp.Errors) < 2 {
		return
	}
	first := map[string]*gqlerror.Error{}
	count := map[string]int{}
	out := resp.Errors[:0]
	for _, e := range resp.Errors {
		if p, _ := e.Extensions["provider"].(string); p == "" {
			out = append(out, e)
			continue
		}
		k := failureKey(e)
		count[k]++
		if first[k] == nil {
			first[k] = e
			out = append(out, e)
		}
	}
	for k, e := range first {
		if n := count[k]; n > 1 {
			e.Extensions["occurrences"] = n
		}
	}
	resp.Errors = out
}
