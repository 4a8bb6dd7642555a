package cache

import (
	"context"

	ds "github.com/federated-customers/gateway/datasource"
)

// The request memo (ds.Remember) sits in front of both cache levels: what
// a request has read, it reads again from the memo, whatever the TTL, so a
// short TTL (or ttl 0) never makes one request fetch a record twice.

// recalled is the request's earlier answer for key, typed.
func recalled[T any](ctx context.Context, key string) (T, bool) {
	v, ok := ds.Recall(ctx, key)
	t, typed := v.(T)
	return t, ok && typed
}

// rememberPage keeps a page and each of its records for the request.
func (c *Provider) rememberPage(ctx context.Context, key string, p ds.Page[*ds.Customer]) {
	ds.Remember(ctx, key, p)
	for _, cu := range p.Items {
		ds.Remember(ctx, c.recordKey(cu.ProviderID), cu)
	}
}

// splitRecalled returns the records the request already read (an id the
// vendor said it does not have is remembered as nil) and the ids to ask.
func (c *Provider) splitRecalled(ctx context.Context, ids []string) (have map[string]*ds.Customer, ask []string) {
	for _, id := range ids {
		cu, ok := recalled[*ds.Customer](ctx, c.recordKey(id))
		if !ok {
			ask = append(ask, id)
			continue
		}
		if have == nil {
			have = map[string]*ds.Customer{}
		}
		have[id] = cu
	}
	return have, ask
}
