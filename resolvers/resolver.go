// Package resolvers holds the thin GraphQL resolvers. They convert arguments,
// call the federation service or the request's dataloaders, and return; no
// vendor knowledge lives here.
package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	ds "github.com/federated-customers/gateway/datasource"
)

// Resolver is the root resolver. It holds nothing: the service a request
// may use (narrowed to its API key's providers) and its dataloaders come
// from the request context, built after authentication.
type Resolver struct{}

// service is the federation service of this request's caller.
func service(ctx context.Context) *ds.Service { return loadersFrom(ctx).svc }

// reportPartial adds provider failures next to the data a field still returns.
func reportPartial(ctx context.Context, errs []error) {
	for _, err := range errs {
		graphql.AddError(ctx, err)
	}
}
