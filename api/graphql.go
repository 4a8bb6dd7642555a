package api

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"golang.org/x/time/rate"

	"github.com/federated-customers/gateway/graph"
	"github.com/federated-customers/gateway/request"
	"github.com/federated-customers/gateway/resolvers"
)

func newGraphQLServer(l Limits, o Options, apq graphql.Cache[string]) *handler.Server {
	log := o.Log
	cfg := graph.Config{Resolvers: &resolvers.Resolver{Health: o.Health}}
	request.SetComplexity(&cfg)
	srv := handler.New(graph.NewExecutableSchema(cfg))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetParserTokenLimit(15000) // security: bounds parser work on huge documents
	if !o.NoIntrospection {
		srv.Use(extension.Introspection{})
	}
	// Trusted documents first: an id from the manifest is answered from it,
	// and with Require nothing else runs (no list and no Require: nothing to do).
	if len(o.Persisted.Manifest) > 0 || o.Persisted.Require {
		srv.Use(newTrustedDocuments(o.Persisted))
	}
	// Automatic persisted queries (Apollo APQ, sha256, GET and POST): clients
	// send a query's hash instead of its text once the gateway has seen it;
	// per API key, and shared by replicas through Postgres when configured.
	srv.Use(extension.AutomaticPersistedQuery{Cache: apq})
	srv.Use(&queryLimits{Limits: l, heavy: &lane{slots: make(chan struct{}, l.MaxHeavy), wait: l.HeavyWait},
		pace: rate.NewLimiter(rate.Limit(l.HeavyRate), max(1, l.HeavyFanOut))})
	srv.SetErrorPresenter(errorPresenter(log))
	srv.SetRecoverFunc(recoverFunc(log))
	srv.AroundRootFields(traceRootField)
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		noteOperation(ctx)
		if _, dry := wantsCost(graphql.GetOperationContext(ctx)); dry {
			// extensions: {dryRun: true} shows the estimate and runs nothing
			done := false
			return func(ctx context.Context) *graphql.Response {
				if done {
					return nil
				}
				done = true
				resp := &graphql.Response{}
				addCost(ctx, resp) // the response middleware runs inside next only
				return resp
			}
		}
		return next(ctx)
	})
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		resp := next(ctx)
		if resp != nil {
			dedupeProviderErrors(resp)
			capResponse(resp, l.MaxResponseBytes)
			addReport(ctx, resp)
			addCost(ctx, resp)
			settle(ctx, resp)
			noteResponse(ctx, resp)
		}
		return resp
	})
	return srv
}
