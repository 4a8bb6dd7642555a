package cache

import (
	"context"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
)

// Sources is a customer-source provider (CareCloud) behind the cache.
type Sources struct {
	inner ds.SourceProvider
	m     meta
}

// WrapSources puts a customer-source provider behind the cache.
func (l *Layer) WrapSources(p ds.SourceProvider) *Sources {
	return &Sources{inner: p, m: meta{l: l, p: p.ID(), cred: credentialOf(p)}}
}

func (s *Sources) ID() ds.ProviderID             { return s.inner.ID() }
func (s *Sources) Capabilities() ds.Capabilities { return s.inner.Capabilities() }
func (s *Sources) CredentialID() string          { return s.m.cred }

// ListSources serves a page of source records from the cache or reads it.
func (s *Sources) ListSources(ctx context.Context, req ds.ListRequest[ds.SourceFilter]) (ds.Page[*ds.CustomerSource], error) {
	return listPage(ctx, s.m, req, s.inner.ListSources, nil, func(ctx context.Context, key string, p ds.Page[*ds.CustomerSource]) {
		ds.Remember(ctx, key, p)
	})
}

// SourcesByExternalIDs serves each external id's records from the cache and
// looks up the rest in one call.
func (s *Sources) SourcesByExternalIDs(ctx context.Context, ids []string) ([]*ds.CustomerSource, error) {
	return s.lookup(ctx, "x:", ids, s.inner.SourcesByExternalIDs, func(r *ds.CustomerSource) []string { return r.ExternalIDs })
}

// SourcesByCustomers serves each customer's records from the cache and looks
// up the rest in one call.
func (s *Sources) SourcesByCustomers(ctx context.Context, ids []string) ([]*ds.CustomerSource, error) {
	out, err := s.lookup(ctx, "c:", ids, s.inner.SourcesByCustomers, func(r *ds.CustomerSource) []string { return []string{r.CustomerID} })
	if err == nil && len(out) > 0 {
		// Each customer's list is complete: index it as sync would.
		by := map[string][]*ds.CustomerSource{}
		for _, r := range out {
			by[r.CustomerID] = append(by[r.CustomerID], r)
		}
		at := s.m.l.now()
		idents := make([]ds.Identity, 0, len(by))
		for cid, rs := range by {
			idents = append(idents, careCloudIdentity(s.m.cred, cid, rs, at))
		}
		s.m.l.putIdentities(ctx, idents)
	}
	return out, err
}

func (s *Sources) lookup(ctx context.Context, prefix string, ids []string,
	fetch func(context.Context, []string) ([]*ds.CustomerSource, error), keysOf func(*ds.CustomerSource) []string) ([]*ds.CustomerSource, error) {
	keyOf := func(id string) string { return entryKey(s.m.p, s.m.cred, KindLookup, prefix+id) }
	got := map[string][]*ds.CustomerSource{}
	var ask []string
	for _, id := range ids {
		if rs, ok := recalled[[]*ds.CustomerSource](ctx, keyOf(id)); ok {
			got[id] = rs // looked up earlier in this request
		} else {
			ask = append(ask, id)
		}
	}
	var err error
	if len(ask) > 0 {
		var read map[string][]*ds.CustomerSource
		read, err = s.read(ctx, ask, keyOf, fetch, keysOf)
		for id, rs := range read {
			got[id] = rs
		}
	}
	var out []*ds.CustomerSource
	seen := map[string]bool{}
	for _, id := range ids {
		for _, r := range got[id] {
			if k := r.NodeID(); !seen[k] {
				seen[k] = true
				out = append(out, r)
			}
		}
	}
	return out, err
}

// read looks source records up through the cache and remembers each id's
// records for the request.
func (s *Sources) read(ctx context.Context, ids []string, keyOf func(string) string,
	fetch func(context.Context, []string) ([]*ds.CustomerSource, error), keysOf func(*ds.CustomerSource) []string) (map[string][]*ds.CustomerSource, error) {
	got, err := batch(ctx, s.m, KindLookup, ids, keyOf,
		func(ctx context.Context, missing []string) (map[string][]*ds.CustomerSource, error) {
			rs, err := fetch(ctx, missing)
			if err != nil {
				return nil, err
			}
			want := make(map[string]bool, len(missing))
			for _, id := range missing {
				want[id] = true
			}
			out := make(map[string][]*ds.CustomerSource, len(missing))
			for _, r := range rs {
				for _, k := range keysOf(r) {
					if want[k] {
						out[k] = append(out[k], r)
					}
				}
			}
			return out, nil
		},
		func(id string, rs []*ds.CustomerSource, at time.Time) ([]Entry, []ds.Identity) {
			if rs == nil {
				rs = []*ds.CustomerSource{} // "no records" is an answer too
			}
			e, ok := s.m.entry(KindLookup, keyOf(id), "", rs, at)
			if !ok {
				return nil, nil
			}
			return []Entry{e}, nil
		}, nil)
	for _, id := range ids {
		if rs, ok := got[id]; ok {
			if rs == nil {
				rs = []*ds.CustomerSource{}
			}
			ds.Remember(ctx, keyOf(id), rs)
		}
	}
	return got, err
}
