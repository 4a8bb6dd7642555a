package cache

import (
	"context"

	ds "github.com/federated-customers/gateway/datasource"
)

// The write side of Provider: every write reaches the vendor when it has
// one (Capabilities.Writes, .Attaches) and is UNSUPPORTED_BY_PROVIDER when
// not, then forgets what it changed.

func (c *Provider) writer() (ds.CustomerWriter, error) {
	if w, ok := c.inner.(ds.CustomerWriter); ok {
		return w, nil
	}
	return nil, ds.ProviderErrorf(c.m.p, ds.CodeUnsupportedByProvider, "%s does not support writing customers", c.m.p)
}

func (c *Provider) attacher() (ds.SourceAttacher, error) {
	if a, ok := c.inner.(ds.SourceAttacher); ok {
		return a, nil
	}
	return nil, ds.ProviderErrorf(c.m.p, ds.CodeUnsupportedByProvider, "%s has no payment sources to attach or detach", c.m.p)
}

func (c *Provider) CreateCustomer(ctx context.Context, in ds.CustomerInput) (*ds.Customer, error) {
	w, err := c.writer()
	if err != nil {
		return nil, err
	}
	cu, err := w.CreateCustomer(ctx, in)
	c.invalidate(ctx)
	if err == nil {
		c.stored(ctx, cu)
	}
	return cu, err
}

func (c *Provider) UpdateCustomer(ctx context.Context, id string, in ds.CustomerInput) (*ds.Customer, error) {
	w, err := c.writer()
	if err != nil {
		return nil, err
	}
	cu, err := w.UpdateCustomer(ctx, id, in)
	c.invalidate(ctx, id) // also when the outcome is unknown (a timeout)
	if err == nil {
		c.stored(ctx, cu)
	}
	return cu, err
}

func (c *Provider) DeleteCustomer(ctx context.Context, id string) error {
	w, err := c.writer()
	if err != nil {
		return err
	}
	err = w.DeleteCustomer(ctx, id)
	c.invalidate(ctx, id)
	if err == nil {
		c.m.l.dropIdentities(ctx, c.m.p, c.m.cred, []string{id})
		at := c.m.l.now()
		c.m.l.writeSynced(ctx, func(ctx context.Context, s SyncedShared) error {
			return s.DropSynced(ctx, c.m.p, c.m.cred, []string{id}, at)
		})
	}
	return err
}

func (c *Provider) AttachSource(ctx context.Context, customerID, sourceID string) (*ds.CustomerSource, error) {
	a, err := c.attacher()
	if err != nil {
		return nil, err
	}
	s, err := a.AttachSource(ctx, customerID, sourceID)
	c.invalidate(ctx, customerID)
	return s, err
}

func (c *Provider) DetachSource(ctx context.Context, customerID, sourceID string) error {
	a, err := c.attacher()
	if err != nil {
		return err
	}
	err = a.DetachSource(ctx, customerID, sourceID)
	c.invalidate(ctx, customerID)
	return err
}

// invalidate forgets what a write changed: the record and every list page
// of this provider credential (a page may hold the record, or miss a new one).
func (c *Provider) invalidate(ctx context.Context, ids ...string) {
	ds.ForgetRemembered(ctx)
	l := c.m.l
	if len(ids) > 0 {
		l.drop(ctx, c.m.p, c.m.cred, KindRecord, ids)
	}
	l.drop(ctx, c.m.p, c.m.cred, KindPage, nil)
}

func (c *Provider) stored(ctx context.Context, cu *ds.Customer) {
	if cu == nil {
		return
	}
	at := c.m.l.now()
	entries, ids := c.records([]*ds.Customer{cu}, at)
	c.m.l.put(ctx, entries)
	c.m.l.putIdentities(ctx, ids)
	// A gateway write shows in the synced store at once, not at the next walk.
	c.m.l.writeSynced(ctx, func(ctx context.Context, s SyncedShared) error {
		return s.PutSynced(ctx, c.m.p, c.m.cred, []*ds.Customer{cu}, at)
	})
}
