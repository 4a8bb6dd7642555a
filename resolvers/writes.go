package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	ds "github.com/federated-customers/gateway/datasource"
)

// idempotent runs a mutation field under the caller's idempotency key (the
// argument, else the Idempotency-Key header); args are what the field's
// outcome depends on, fingerprinted with the field's name.
func idempotent[T any](ctx context.Context, key *string, args any, run func(context.Context) (T, error)) (T, error) {
	name, alias := "", ""
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		name, alias = fc.Field.Name, fc.Field.Alias
	}
	return ds.Idempotent(ctx, service(ctx).Idempotency, name, alias, key, args, run)
}
