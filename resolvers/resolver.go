// Package resolvers holds the thin GraphQL resolvers. They convert arguments,
// call the federation service or the request's loaders (package request),
// and return; no vendor knowledge lives here.
package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/federate"
	"github.com/federated-customers/gateway/datasource/rest"
	"github.com/federated-customers/gateway/request"
)

// Resolver is the root resolver. The service a request may use (narrowed to
// its API key's providers) and its dataloaders come from the request
// context, built after authentication; Health is process-wide.
type Resolver struct {
	// Health is a provider's circuit breaker state; nil when unknown.
	Health func(ds.ProviderID) (rest.Health, bool)
}

// service is the federation service of this request's caller.
func service(ctx context.Context) *federate.Service { return request.From(ctx).Service() }

// reportPartial adds provider failures next to the data a field still returns.
func reportPartial(ctx context.Context, errs []error) {
	for _, err := range errs {
		graphql.AddError(ctx, err)
	}
}
