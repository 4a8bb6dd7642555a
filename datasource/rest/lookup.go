package rest

import (
	"context"

	"golang.org/x/sync/errgroup"

	ds "github.com/federated-customers/gateway/datasource"
)

// The lookup shapes the vendors share: which ids to ask for, one call per
// id (no bulk filter) or one call per chunk (a bulk id filter).

// UniqueIDs is ids in order without repeats and without those the vendor
// cannot hold (ok false): such an id is absent without a call.
func UniqueIDs(ids []string, ok func(id string) bool) []string {
	seen := make(map[string]bool, len(ids))
	var out []string
	for _, id := range ids {
		if seen[id] || !ok(id) {
			continue
		}
		seen[id] = true
		out = append(out, id)
	}
	return out
}

// EachID looks ids up one call each, at most n at once, and returns what was
// found in the ids' order; an id the vendor answers NOT_FOUND is absent.
// The first other error cancels the rest and is returned.
func EachID[T any](ctx context.Context, ids []string, n int, get func(ctx context.Context, id string) (T, error)) ([]T, error) {
	found := make([]T, len(ids))
	ok := make([]bool, len(ids))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(n)
	for i, id := range ids {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err // an earlier lookup failed: no more calls
			}
			v, err := get(gctx, id)
			if ds.IsNotFound(err) {
				return nil
			}
			if err != nil {
				return err
			}
			found[i], ok[i] = v, true
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := make([]T, 0, len(found))
	for i, v := range found {
		if ok[i] {
			out = append(out, v)
		}
	}
	return out, nil
}

// InChunks looks ids up n at a time with one bulk call per chunk (get) and
// keeps each customer whose id was asked for, once: a vendor's filter
// may answer more than it was asked, or a record twice.
func InChunks(ctx context.Context, ids []string, n int, get func(ctx context.Context, chunk []string) ([]*ds.Customer, error)) ([]*ds.Customer, error) {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	var out []*ds.Customer
	for i := 0; i < len(ids); i += n {
		got, err := get(ctx, ids[i:min(i+n, len(ids))])
		if err != nil {
			return nil, err
		}
		for _, v := range got {
			if want[v.ProviderID] {
				out = append(out, v)
				delete(want, v.ProviderID)
			}
		}
	}
	return out, nil
}
