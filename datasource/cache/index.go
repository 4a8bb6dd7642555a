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

func (g guardedIndex) ByEmail(ctx context.Context, scopes []ds.Scope, emails []string) ([]ds.Identity, error) {
	octx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	out, err := g.s.ByEmail(octx, scopes, emails)
	if err != nil {
		g.l.fail(err)
		return g.l.memIndex.ByEmail(ctx, scopes, emails)
	}
	return out, nil
}

func (g guardedIndex) ByKeys(ctx context.Context, scopes []ds.Scope, keys []ds.CustomerKey) ([]ds.Identity, error) {
	octx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	out, err := g.s.ByKeys(octx, scopes, keys)
	if err != nil {
		g.l.fail(err)
		return g.l.memIndex.ByKeys(ctx, scopes, keys)
	}
	return out, nil
}

func (g guardedIndex) ByExternalID(ctx context.Context, scopes []ds.Scope, ids []string) ([]ds.Identity, error) {
	octx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	out, err := g.s.ByExternalID(octx, scopes, ids)
	if err != nil {
		g.l.fail(err)
		return g.l.memIndex.ByExternalID(ctx, scopes, ids)
	}
	return out, nil
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
	octx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	n, err := g.s.CountIdentities(octx, p, cred)
	if err != nil {
		g.l.fail(err)
		return g.l.memIndex.CountIdentities(ctx, p, cred)
	}
	return n, nil
}

func (g guardedIndex) SyncState(ctx context.Context, p ds.ProviderID, cred string) (ds.SyncStatus, error) {
	octx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	st, err := g.s.SyncState(octx, p, cred)
	if err != nil {
		g.l.fail(err)
		return g.l.memIndex.SyncState(ctx, p, cred)
	}
	return st, nil
}

func (g guardedIndex) PutSyncState(ctx context.Context, p ds.ProviderID, cred string, st ds.SyncStatus) error {
	_ = g.l.memIndex.PutSyncState(ctx, p, cred, st)
	octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opTimeout)
	defer cancel()
	if err := g.s.PutSyncState(octx, p, cred, st); err != nil {
		g.l.fail(err)
	}
	return nil
}

func (g guardedIndex) TryLock(ctx context.Context, name string) (func(), bool, error) {
	octx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	release, ok, err := g.s.TryLock(octx, name)
	if err != nil {
		g.l.fail(err)
		return g.l.memIndex.TryLock(ctx, name)
	}
	return release, ok, nil
}
