package cache

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
)

// Provider is a customer provider behind the cache. It is itself a
// ds.CustomerProvider, so the conformance suite runs through it unchanged.
type Provider struct {
	inner  ds.CustomerProvider
	m      meta
	absent negatives
}

// negativeTTL bounds how long an id the vendor said it does not have is
// answered as absent without a call (at most the cache's TTL).
const negativeTTL = 30 * time.Second

// maxNegatives bounds the memory of absent ids; past it they are forgotten.
const maxNegatives = 10000

// negatives are ids a vendor recently answered as absent, so invented or
// unknown ids cost one call per TTL rather than one per request.
type negatives struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// add remembers ids as absent since at and returns those it did not know
// yet: only they need dropping from the store (the others were dropped when
// first seen absent).
func (n *negatives) add(ids []string, at time.Time) (fresh []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.seen == nil || len(n.seen)+len(ids) > maxNegatives {
		n.seen = map[string]time.Time{}
	}
	for _, id := range ids {
		if _, ok := n.seen[id]; !ok { // an id answered from here keeps its first time
			n.seen[id] = at
			fresh = append(fresh, id)
		}
	}
	return fresh
}

// split returns the ids not known to be absent at now.
func (n *negatives) split(ids []string, now time.Time, ttl time.Duration) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var ask []string
	for _, id := range ids {
		if at, ok := n.seen[id]; ok && now.Sub(at) < ttl {
			continue
		}
		delete(n.seen, id)
		ask = append(ask, id)
	}
	return ask
}

// credentialOf is the provider's credential identity ("" when it has none).
func credentialOf(p any) string {
	if c, ok := p.(ds.Credentialed); ok {
		return c.CredentialID()
	}
	return ""
}

// Wrap puts p behind the cache. The result forwards p's Capabilities, so
// capability checks (writes, attaches, backward) see the same provider.
func (l *Layer) Wrap(p ds.CustomerProvider) ds.CustomerProvider {
	return &Provider{inner: p, m: meta{l: l, p: p.ID(), cred: credentialOf(p)}}
}

// Capabilities are the vendor's: the cache changes what a call costs, not
// what the vendor can do (a backward read goes to the vendor live).
func (c *Provider) Capabilities() ds.Capabilities { return c.inner.Capabilities() }
func (c *Provider) ID() ds.ProviderID             { return c.inner.ID() }
func (c *Provider) CredentialID() string          { return c.m.cred }
func (c *Provider) recordKey(id string) string    { return entryKey(c.m.p, c.m.cred, KindRecord, id) }
func (c *Provider) identity(cu *ds.Customer, at time.Time) ds.Identity {
	return ds.IdentityOf(cu, c.m.cred, at)
}

// records are the record entries and index entries of customers just read.
func (c *Provider) records(cs []*ds.Customer, at time.Time) ([]Entry, []ds.Identity) {
	entries := make([]Entry, 0, len(cs))
	ids := make([]ds.Identity, 0, len(cs))
	for _, cu := range cs {
		if e, ok := c.m.entry(KindRecord, c.recordKey(cu.ProviderID), cu.ProviderID, cu, at); ok {
			entries = append(entries, e)
		}
		ids = append(ids, c.identity(cu, at))
	}
	return entries, ids
}

// ListCustomers serves a page from the cache, or reads it and stores the
// page and every record in it.
func (c *Provider) ListCustomers(ctx context.Context, req ds.ListRequest[ds.Filter]) (ds.Page[*ds.Customer], error) {
	return listPage(ctx, c.m, req, c.inner.ListCustomers, func(p ds.Page[*ds.Customer], at time.Time) ([]Entry, []ds.Identity, []byte) {
		entries, ids := c.records(p.Items, at)
		return entries, ids, pageBody(p, entries)
	}, c.rememberPage)
}

// listPage serves a page from the request memo or the cache, or reads it
// with list (store: the entries to keep beside it), and remembers it for
// the request.
func listPage[T, F any](ctx context.Context, m meta, req ds.ListRequest[F], list func(context.Context, ds.ListRequest[F]) (ds.Page[T], error),
	store func(ds.Page[T], time.Time) ([]Entry, []ds.Identity, []byte), remember func(context.Context, string, ds.Page[T])) (ds.Page[T], error) {
	key := entryKey(m.p, m.cred, KindPage, hashKey(req))
	if p, ok := recalled[ds.Page[T]](ctx, key); ok {
		return p, nil
	}
	p, err := one(ctx, m, KindPage, key, func(ctx context.Context) (ds.Page[T], error) { return list(ctx, req) }, store)
	if err == nil {
		remember(ctx, key, p)
	}
	return p, err
}

// GetCustomers serves records from the cache and looks up only the rest, in
// one call; ids the vendor no longer has are dropped from the store.
func (c *Provider) GetCustomers(ctx context.Context, ids []string) ([]*ds.Customer, error) {
	have, ask := c.splitRecalled(ctx, ids)
	got := map[string]*ds.Customer{}
	var err error
	if len(ask) > 0 {
		got, err = c.lookUp(ctx, ask)
	}
	for id, cu := range have {
		got[id] = cu
	}
	out := make([]*ds.Customer, 0, len(got))
	seen := make(map[string]bool, len(got))
	for _, id := range ids {
		if cu := got[id]; cu != nil && !seen[id] {
			seen[id] = true
			out = append(out, cu)
		}
	}
	return out, err
}

// lookUp reads records through the cache and remembers them for the
// request, and, when the lookup succeeded, the ids the vendor does not have.
func (c *Provider) lookUp(ctx context.Context, ids []string) (map[string]*ds.Customer, error) {
	got, err := batch(ctx, c.m, KindRecord, ids, c.recordKey,
		func(ctx context.Context, missing []string) (map[string]*ds.Customer, error) {
			ask := c.absent.split(missing, c.m.l.now(), min(negativeTTL, c.m.l.ttl))
			if len(ask) < len(missing) {
				ds.Uncacheable(ctx) // "absent" is remembered apart from the records, with its own TTL
			}
			if len(ask) == 0 {
				return nil, nil // every one was absent a moment ago
			}
			cs, err := c.inner.GetCustomers(ctx, ask)
			if err != nil {
				return nil, err
			}
			out := make(map[string]*ds.Customer, len(cs))
			for _, cu := range cs {
				out[cu.ProviderID] = cu
			}
			return out, nil
		},
		func(id string, cu *ds.Customer, at time.Time) ([]Entry, []ds.Identity) {
			return c.records([]*ds.Customer{cu}, at)
		},
		func(ctx context.Context, absent []string) {
			if fresh := c.absent.add(absent, c.m.l.now()); len(fresh) > 0 {
				c.m.l.drop(ctx, c.m.p, c.m.cred, KindRecord, fresh)
				c.m.l.dropIdentities(ctx, c.m.p, c.m.cred, fresh)
			}
		})
	for _, id := range ids {
		if cu, ok := got[id]; ok || err == nil {
			ds.Remember(ctx, c.recordKey(id), cu) // nil: the vendor does not have it
		}
	}
	return got, err
}

// Peek answers from the first level alone, when it holds a fresh copy.
func (c *Provider) Peek(ctx context.Context, id string) (*ds.Customer, bool) {
	l := c.m.l
	key := c.recordKey(id)
	if cu, ok := recalled[*ds.Customer](ctx, key); ok && cu != nil {
		return cu, true // read earlier in this request
	}
	got, _ := l.l1.Get(ctx, []string{key})
	e, ok := got[key]
	if !ok || !l.fresh(e) {
		return nil, false
	}
	cu, ok := decode[*ds.Customer](e)
	if !ok || cu == nil {
		return nil, false
	}
	ds.RecordCached(ctx, c.m.p, ds.Cache, l.age(e), 1, l.freshUntil(e))
	countAnswer(c.m.p, ds.Cache)
	return cu, true
}

// pageBody is the page's JSON built from its records' encoded bodies, so a
// page and its records are encoded once; nil when the records were not
// encoded (no second level) or do not line up.
func pageBody(p ds.Page[*ds.Customer], records []Entry) []byte {
	if len(records) != len(p.Items) {
		return nil
	}
	var b bytes.Buffer
	b.WriteString(`{"Items":[`)
	for i, e := range records {
		if e.Body == nil || e.RecordID != p.Items[i].ProviderID {
			return nil
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(e.Body)
	}
	b.WriteString(`],"Next":`)
	next, _ := json.Marshal(p.Next)
	b.Write(next)
	b.WriteString(`,"Total":`)
	total, _ := json.Marshal(p.Total)
	b.Write(total)
	b.WriteString(`,"ListLen":`)
	n, _ := json.Marshal(p.ListLen)
	b.Write(n)
	b.WriteByte('}')
	return b.Bytes()
}
