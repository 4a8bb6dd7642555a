package cache

import (
	"context"

	ds "github.com/federated-customers/gateway/datasource"
)

// guardedIndex reads the shared index with a bounded wait and falls back to
// the in-process index when the shared one fails.
type guardedIndex struct {
	l *Layer
	s Shared
}

// read asks the shared index, and the in-process one when that fails (which
// takes the shared level out until a probe succeeds).
func read[T any](ctx context.Context, g guardedIndex, shared func(context.Context) (T, error), local func() (T, error)) (T, error) {
	octx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	v, err := shared(octx)
	if err != nil {
		if ctx.Err() == nil { // the caller going away says nothing of the database
			g.l.fail(err)
		}
		return local()
	}
	g.l.ok()
	return v, nil
}

func (g guardedIndex) ByEmail(ctx context.Context, scopes []ds.Scope, emails []string) ([]ds.Identity, error) {
	return read(ctx, g, func(ctx context.Context) ([]ds.Identity, error) { return g.s.ByEmail(ctx, scopes, emails) },
		func() ([]ds.Identity, error) { return g.l.memIndex.ByEmail(ctx, scopes, emails) })
}

func (g guardedIndex) ByKeys(ctx context.Context, scopes []ds.Scope, keys []ds.CustomerKey) ([]ds.Identity, error) {
	return read(ctx, g, func(ctx context.Context) ([]ds.Identity, error) { return g.s.ByKeys(ctx, scopes, keys) },
		func() ([]ds.Identity, error) { return g.l.memIndex.ByKeys(ctx, scopes, keys) })
}

func (g guardedIndex) ByExternalID(ctx context.Context, scopes []ds.Scope, ids []string) ([]ds.Identity, error) {
	return read(ctx, g, func(ctx context.Context) ([]ds.Identity, error) { return g.s.ByExternalID(ctx, scopes, ids) },
		func() ([]ds.Identity, error) { return g.l.memIndex.ByExternalID(ctx, scopes, ids) })
}

func (g guardedIndex) PutIdentities(ctx context.Context, ids []ds.Identity) error {
	g.l.putIdentities(ctx, ids)
	return nil
}

func (g guardedIndex) DropIdentities(ctx context.Context, p ds.ProviderID, cred string, ids []string) error {
	g.l.dropIdentities(ctx, p, cred, ids)
	return nil
}

func (g guardedIndex) CountIdentities(ctx context.Context, p ds.ProviderID, cred string) (int, error) {
	return read(ctx, g, func(ctx context.Context) (int, error) { return g.s.CountIdentities(ctx, p, cred) },
		func() (int, error) { return g.l.memIndex.CountIdentities(ctx, p, cred) })
}

func (g guardedIndex) SyncState(ctx context.Context, p ds.ProviderID, cred string) (ds.SyncStatus, error) {
	return read(ctx, g, func(ctx context.Context) (ds.SyncStatus, error) { return g.s.SyncState(ctx, p, cred) },
		func() (ds.SyncStatus, error) { return g.l.memIndex.SyncState(ctx, p, cred) })
}

func (g guardedIndex) PutSyncState(ctx context.Context, p ds.ProviderID, cred string, st ds.SyncStatus) error {
	_ = g.l.memIndex.PutSyncState(ctx, p, cred, st)
	g.l.write(ctx, func(ctx context.Context, s Shared) error { return s.PutSyncState(ctx, p, cred, st) })
	return nil
}

func (g guardedIndex) TryLock(ctx context.Context, name string) (func(), bool, error) {
	type lock struct {
		release func()
		ok      bool
	}
	got, err := read(ctx, g, func(ctx context.Context) (lock, error) {
		r, ok, err := g.s.TryLock(ctx, name)
		return lock{r, ok}, err
	}, func() (lock, error) {
		r, ok, err := g.l.memIndex.TryLock(ctx, name)
		return lock{r, ok}, err
	})
	return got.release, got.ok, err
}
