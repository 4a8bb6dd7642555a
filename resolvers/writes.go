package resolvers

import (
	"context"
	"encoding/json"

	"github.com/99designs/gqlgen/graphql"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/graph/model"
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

// writeInput is a validated create/update input and the caller's writer at
// p (the input is checked first).
func writeInput(ctx context.Context, p ds.ProviderID, email, name, phone, locale *string, typ *ds.CustomerType, addr *model.AddressInput, metadata json.RawMessage) (ds.CustomerInput, ds.CustomerWriter, error) {
	in, err := toInput(email, name, phone, locale, typ, addr, metadata)
	if err != nil {
		return in, nil, err
	}
	w, err := service(ctx).Writer(p)
	return in, w, err
}

// customerWriter is the customer behind a global id and the caller's writer at its provider.
func customerWriter(ctx context.Context, id string) (ds.CustomerKey, ds.CustomerWriter, error) {
	k, err := ds.DecodeCustomerID(id)
	if err != nil {
		return k, nil, err
	}
	w, err := service(ctx).Writer(k.Provider)
	return k, w, err
}

// attacher is the customer behind a global id and the caller's source
// attacher at its provider for sourceID.
func attacher(ctx context.Context, customerID, sourceID string) (ds.CustomerKey, ds.SourceAttacher, error) {
	k, err := ds.DecodeCustomerID(customerID)
	if err != nil {
		return k, nil, err
	}
	a, err := service(ctx).Attacher(k.Provider, sourceID)
	return k, a, err
}
