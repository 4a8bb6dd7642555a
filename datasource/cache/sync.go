package cache

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
)

const (
	// syncPageLimit asks for the largest page; each vendor caps it at its own maximum.
	syncPageLimit = 1000
	// maxSyncPages bounds one walk, whatever a vendor's pagination does.
	maxSyncPages = 100_000
	// DefaultSyncGap spaces a sync's calls so it never takes more than a
	// small share of a vendor's quota (5 calls/s).
	DefaultSyncGap = 200 * time.Millisecond
)

// SyncOptions configure the background sync.
type SyncOptions struct {
	// Interval is each provider's period; absent or 0 means no sync.
	Interval map[ds.ProviderID]time.Duration
	// Gap is the pause between two calls of one walk (default DefaultSyncGap;
	// negative: none, for tests).
	Gap time.Duration
}

// Syncer walks each provider's whole list in the background so the record
// store and the identity index hold every record, not just those asked for.
type Syncer struct {
	l         *Layer
	opts      SyncOptions
	customers map[ds.ProviderID]*Provider
	sources   *Sources
	wg        sync.WaitGroup
	regroupMu sync.Mutex
	walks     sync.Map // ds.ProviderID → *atomic.Int64: walks made here
}

// Walks is how many walks of provider p this replica has made.
func (s *Syncer) Walks(p ds.ProviderID) int {
	if n, ok := s.walks.Load(p); ok {
		return int(n.(*atomic.Int64).Load())
	}
	return 0
}

type based interface{ base() *Provider }

func (c *Provider) base() *Provider { return c }

// NewSyncer syncs the wrapped providers (results of Wrap and WrapSources).
func (l *Layer) NewSyncer(opts SyncOptions, customers []ds.CustomerProvider, sources *Sources) *Syncer {
	if opts.Gap == 0 {
		opts.Gap = DefaultSyncGap
	}
	s := &Syncer{l: l, opts: opts, customers: map[ds.ProviderID]*Provider{}, sources: sources}
	for _, c := range customers {
		if b, ok := c.(based); ok {
			s.customers[c.ID()] = b.base()
		}
	}
	return s
}

// Run syncs every provider with an interval, once per interval across all
// replicas sharing the second level (at once when none walked it within
// the interval), until ctx ends. It returns at once.
func (s *Syncer) Run(ctx context.Context) {
	for p, every := range s.opts.Interval {
		if every <= 0 || !s.has(p) {
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			cred := s.cred(p)
			for {
				claimed, wait := s.l.claimSync(ctx, p, cred, every)
				due := time.Now().Add(wait)
				if claimed {
					if err := s.SyncNow(ctx, p); err != nil && ctx.Err() == nil {
						s.l.log.Warn("sync failed", "provider", p.Key(), "error", err)
					}
				}
				t := time.NewTimer(untilDue(time.Until(due), every))
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
			}
		}()
	}
}

// Wait returns once every walk started by Run has stopped (after ctx ended).
func (s *Syncer) Wait() { s.wg.Wait() }

func (s *Syncer) has(p ds.ProviderID) bool {
	_, ok := s.customers[p]
	return ok || (s.sources != nil && s.sources.ID() == p)
}

func (s *Syncer) cred(p ds.ProviderID) string {
	if c, ok := s.customers[p]; ok {
		return c.m.cred
	}
	if s.sources != nil && s.sources.ID() == p {
		return s.sources.m.cred
	}
	return ""
}

// Status is where provider p's sync stands.
func (s *Syncer) Status(ctx context.Context, p ds.ProviderID) (ds.SyncStatus, bool) {
	if s == nil || !s.has(p) {
		return ds.SyncStatus{}, false
	}
	cred := s.cred(p)
	idx := s.l.index()
	st, _ := idx.SyncState(ctx, p, cred)
	st.Enabled = s.opts.Interval[p] > 0
	st.Records, _ = idx.CountIdentities(ctx, p, cred)
	return st, true
}

// Complete reports whether a full walk of provider p has finished, reading
// the sync state alone (no count of the index).
func (s *Syncer) Complete(ctx context.Context, p ds.ProviderID) bool {
	if s == nil || !s.has(p) {
		return false
	}
	ds.ReadIndex(ctx)
	st, err := s.l.index().SyncState(ctx, p, s.cred(p))
	return err == nil && st.Complete
}

// SyncNow walks provider p's whole list once, unless another replica (or
// goroutine) is walking it now. It records the outcome in the sync state.
func (s *Syncer) SyncNow(ctx context.Context, p ds.ProviderID) error {
	if !s.has(p) {
		return fmt.Errorf("%s is not configured", p)
	}
	cred := s.cred(p)
	idx := s.l.index()
	release, ok, err := idx.TryLock(ctx, "sync:"+p.Key()+":"+cred)
	if err != nil {
		return err
	}
	if !ok {
		return nil // someone else is syncing this provider credential
	}
	defer release()
	syncWalks.WithLabelValues(p.String()).Inc()
	n, _ := s.walks.LoadOrStore(p, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
	started := s.l.now()
	var walkErr error
	if c, ok := s.customers[p]; ok {
		var stored bool
		stored, walkErr = s.walkCustomers(ctx, c)
		if walkErr == nil && stored {
			s.l.writeSynced(ctx, func(ctx context.Context, st SyncedShared) error {
				return st.FinishWalk(ctx, p, cred, started, s.l.now())
			})
		}
	} else {
		walkErr = s.walkSources(ctx)
	}
	st, _ := idx.SyncState(ctx, p, cred)
	st.LastRunAt = &started
	if walkErr != nil {
		msg := walkErr.Error()
		if e, ok := walkErr.(*ds.Error); ok {
			msg = string(e.Code) + ": " + e.Message // the client-safe part only
		}
		st.LastError = &msg
	} else {
		st.Complete, st.LastError = true, nil
		s.l.pruneUnseen(ctx, p, cred, started)
		s.regroup(ctx) // after the prune: a record the vendor no longer has is nobody's
	}
	_ = s.l.index().PutSyncState(ctx, p, cred, st)
	return walkErr
}

// pause spaces a walk's calls; false when ctx ended.
func (s *Syncer) pause(ctx context.Context) bool {
	if s.opts.Gap <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(s.opts.Gap)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// walkCustomers reads provider c's whole list into the store, the index
// and the synced store; stored says every page reached the synced store.
func (s *Syncer) walkCustomers(ctx context.Context, c *Provider) (stored bool, err error) {
	token := ""
	stored = true
	for i := 0; i < maxSyncPages; i++ {
		if i > 0 && !s.pause(ctx) {
			return false, ctx.Err()
		}
		page, err := c.inner.ListCustomers(ctx, ds.ListRequest[ds.Filter]{Token: token, Limit: syncPageLimit})
		if err != nil {
			return false, err
		}
		at := s.l.now()
		entries, ids := c.records(page.Items, at)
		s.l.put(ctx, entries)
		s.l.putIdentities(ctx, ids)
		items := storableCustomers(page.Items)
		stored = s.l.writeSynced(ctx, func(ctx context.Context, st SyncedShared) error {
			return st.PutSynced(ctx, c.m.p, c.m.cred, items, at)
		}) && stored
		if page.Next == "" {
			return stored, nil
		}
		if page.Next == token {
			return false, ds.ProviderErrorf(c.m.p, ds.CodeProviderUnavailable, "the provider's pagination did not advance")
		}
		token = page.Next
	}
	return false, ds.ProviderErrorf(c.m.p, ds.CodeProviderUnavailable, "the list did not end after %d pages", maxSyncPages)
}

// walkSources reads every CareCloud source record; each CareCloud customer
// goes into the index with its records as references, and each customer's
// and external id's records into the store.
func (s *Syncer) walkSources(ctx context.Context) error {
	src := s.sources
	byCustomer := map[string][]*ds.CustomerSource{}
	byExternal := map[string][]*ds.CustomerSource{}
	var order []string
	token := ""
	for i := 0; ; i++ {
		if i >= maxSyncPages {
			return ds.ProviderErrorf(src.m.p, ds.CodeProviderUnavailable, "the list did not end after %d pages", maxSyncPages)
		}
		if i > 0 && !s.pause(ctx) {
			return ctx.Err()
		}
		page, err := src.inner.ListSources(ctx, ds.ListRequest[ds.SourceFilter]{Token: token, Limit: syncPageLimit})
		if err != nil {
			return err
		}
		for _, r := range page.Items {
			if _, ok := byCustomer[r.CustomerID]; !ok {
				order = append(order, r.CustomerID)
			}
			byCustomer[r.CustomerID] = append(byCustomer[r.CustomerID], r)
			for _, x := range r.ExternalIDs {
				byExternal[x] = append(byExternal[x], r)
			}
		}
		if page.Next == "" {
			break
		}
		if page.Next == token {
			return ds.ProviderErrorf(src.m.p, ds.CodeProviderUnavailable, "the provider's pagination did not advance")
		}
		token = page.Next
	}
	at := s.l.now()
	var entries []Entry
	ids := make([]ds.Identity, 0, len(order))
	for _, cid := range order {
		rs := byCustomer[cid]
		if e, ok := src.m.entry(KindLookup, entryKey(src.m.p, src.m.cred, KindLookup, "c:"+cid), "", rs, at); ok {
			entries = append(entries, e)
		}
		ids = append(ids, careCloudIdentity(src.m.cred, cid, rs, at))
	}
	for x, rs := range byExternal {
		if e, ok := src.m.entry(KindLookup, entryKey(src.m.p, src.m.cred, KindLookup, "x:"+x), "", rs, at); ok {
			entries = append(entries, e)
		}
	}
	s.l.put(ctx, entries)
	s.l.putIdentities(ctx, ids)
	return nil
}

// careCloudIdentity indexes one CareCloud customer by all its source
// records: each record that names another provider's customer becomes a
// reference in the form linking reads (source = that provider's key).
func careCloudIdentity(cred, customerID string, rs []*ds.CustomerSource, at time.Time) ds.Identity {
	id := ds.Identity{Provider: ds.CareCloud, Credential: cred, VendorID: customerID, SeenAt: at}
	for _, r := range rs {
		ref := ds.Ref{Kind: r.Kind, SourceID: r.SourceID, ExternalIDs: r.ExternalIDs}
		if r.Target != nil {
			ref.SourceID, ref.ExternalIDs = r.Target.Provider.Key(), []string{r.Target.ProviderID}
		}
		if r.SourceName != nil {
			ref.SourceName = *r.SourceName
		}
		id.Refs = append(id.Refs, ref)
	}
	return id
}
