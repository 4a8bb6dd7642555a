package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"

	ds "github.com/federated-customers/gateway/datasource"
)

// responseCache answers a repeated request with the response it got last
// time, when that response was built wholly from fresh copies in the record
// cache: no upstream call, nothing stale, no error, no warning. It is a memo
// of work the gateway would redo identically, so it holds only while
//   - the record cache is unchanged (its change counters, read when the first
//     request began, are the same: an entry replaced by other content,
//     dropped or evicted voids every stored response; an index row or sync
//     state those that read the index), and
//   - every copy the response used is still fresh (the earliest expiry).
//
// The data is replayed byte for byte; extensions.providers is rebuilt, so
// calls and time are this request's (none) and ageSeconds is the copies' age
// now. A warm list page then costs a hash and a write instead of a GraphQL
// execution (the speed issue: 10,000 req/s warm).
type responseCache struct {
	counts   *prometheus.CounterVec         // gateway_response_cache_total{result}
	changes  func() (records, index uint64) // the record cache's change counters
	maxBytes int64
	now      func() time.Time

	mu    sync.Mutex
	lru   *simplelru.LRU[[32]byte, *storedResponse]
	bytes int64
}

type storedResponse struct {
	data      []byte
	providers []storedProvider
	// warnings are the answer's extensions.warnings as JSON (nil: none):
	// as true on a replay as the data, which is voided with them.
	warnings    []byte
	contentType string
	etag        string
	// the record cache's counters when the request began; index only
	// matters when the request read the index (links, sources)
	records, index uint64
	readsIndex     bool
	until          time.Time
	opName, opType string // for the replay's access-log line and metrics

	// The last rendering, kept while its ages (whole seconds) still hold:
	// at thousands of requests a second a body is built and gzipped about
	// once a second rather than once per request.
	mu     sync.Mutex
	ages   []int
	plain  []byte
	gzBody []byte
}

type storedProvider struct {
	p        ds.ProviderID
	cached   int
	storedAt time.Time // when the oldest copy served was stored
}

// current reports whether nothing the response read has changed since.
func (s *storedResponse) current(changes func() (uint64, uint64)) bool {
	records, index := changes()
	return records == s.records && (!s.readsIndex || index == s.index)
}

// size counts the data twice over for the renderings kept beside it.
func (s *storedResponse) size() int64 {
	return int64(3*len(s.data)+len(s.etag)+len(s.contentType)) + 512
}

// body is the response as of now, gzipped when asked.
func (s *storedResponse) body(now time.Time, gz bool) []byte {
	ages := make([]int, len(s.providers))
	for i, p := range s.providers {
		ages[i] = ageSeconds(max(0, now.Sub(p.storedAt)))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.plain == nil || !slices.Equal(ages, s.ages) {
		b := make([]byte, 0, len(s.data)+64+96*len(s.providers))
		b = append(b, `{"data":`...)
		b = append(b, s.data...)
		b = append(b, `,"extensions":{"providers":`...)
		lines := make([]map[string]any, len(s.providers))
		for i, p := range s.providers {
			lines[i] = providerLine(p.p, ds.ProviderStats{Freshness: ds.Cache, Cached: p.cached, Age: max(0, now.Sub(p.storedAt))})
		}
		l, _ := json.Marshal(lines)
		b = append(b, l...)
		if s.warnings != nil {
			b = append(b, `,"warnings":`...)
			b = append(b, s.warnings...)
		}
		s.plain, s.gzBody, s.ages = append(b, "}}\n"...), nil, ages
	}
	if !gz {
		return s.plain
	}
	if s.gzBody == nil {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed) // a constant, valid level
		_, _ = zw.Write(s.plain)
		_ = zw.Close()
		s.gzBody = buf.Bytes()
	}
	return s.gzBody
}

// acceptsGzip reads Accept-Encoding: gzip (or *) with a q above zero.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(part, ";")
		if c := strings.ToLower(strings.TrimSpace(coding)); c != "gzip" && c != "*" {
			continue
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return err == nil && q > 0
		}
		return true
	}
	return false
}

// newResponseCache returns nil (no response cache) without a change counter
// or with a negative budget.
func newResponseCache(changes func() (records, index uint64), now func() time.Time, maxBytes int64, counts *prometheus.CounterVec) *responseCache {
	if changes == nil || maxBytes < 0 {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	if maxBytes == 0 {
		maxBytes = 32 << 20
	}
	l, _ := simplelru.NewLRU[[32]byte, *storedResponse](1<<20, nil) // bounded by bytes below
	return &responseCache{changes: changes, maxBytes: maxBytes, now: now, lru: l, counts: counts}
}

// responseKey names a request: the caller's key (so one key's answer never
// reaches another), the method, the media type asked for, and the exact
// body or query string.
func responseKey(caller [32]byte, r *http.Request, body []byte) [32]byte {
	h := sha256.New()
	h.Write(caller[:])
	h.Write([]byte(r.Method))
	h.Write([]byte{0})
	h.Write([]byte(responseType(r)))
	h.Write([]byte{0})
	if r.Method == http.MethodGet {
		h.Write([]byte(r.URL.RawQuery))
	} else {
		h.Write(body)
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}

func responseType(r *http.Request) string {
	if strings.Contains(r.Header.Get("Accept"), "application/graphql-response+json") {
		return "application/graphql-response+json"
	}
	return "application/json"
}

// serve answers r from a stored response, and reports whether it did.
func (c *responseCache) serve(w http.ResponseWriter, r *http.Request, key [32]byte) bool {
	if c == nil {
		return false
	}
	now := c.now()
	c.mu.Lock()
	s, ok := c.lru.Get(key)
	if ok && (!s.current(c.changes) || !now.Before(s.until)) {
		c.remove(key, s)
		ok = false
	}
	c.mu.Unlock()
	if !ok {
		c.counts.WithLabelValues("miss").Inc()
		return false
	}
	c.counts.WithLabelValues("hit").Inc()
	note(r.Context(), func(a *access) { a.replayed, a.data, a.opName, a.opType = true, true, s.opName, s.opType })
	h := w.Header()
	h.Set("Content-Type", s.contentType)
	if r.Method == http.MethodGet {
		setCacheHeaders(h, s.etag, maxAge(s.until.Sub(now)))
		if etagMatches(r.Header.Get("If-None-Match"), s.etag) {
			w.WriteHeader(http.StatusNotModified)
			return true
		}
	}
	// gzip here, once per rendering, rather than in the handler's wrapper
	// (which leaves a response that says its encoding alone)
	gz := len(s.data) >= 1024 && acceptsGzip(r)
	body := s.body(now, gz)
	if gz {
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	return true
}

func (c *responseCache) remove(key [32]byte, s *storedResponse) {
	if c.lru.Remove(key) {
		c.bytes -= s.size()
	}
}

// put stores a response; one larger than an eighth of the budget is not kept.
func (c *responseCache) put(key [32]byte, s *storedResponse) {
	n := s.size()
	if n > c.maxBytes/8 {
		return
	}
	c.counts.WithLabelValues("stored").Inc()
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.lru.Peek(key); ok {
		c.remove(key, old)
	}
	c.lru.Add(key, s)
	c.bytes += n
	for c.bytes > c.maxBytes {
		k, old, ok := c.lru.GetOldest()
		if !ok {
			break
		}
		c.remove(k, old)
	}
}

// pending is what a request that missed the response cache carries, so
// its own response can be stored, and the HTTP headers its answer gets.
type pending struct {
	get            bool           // a GET: the answer gets cache headers
	ifNoneMatch    string         // the client's If-None-Match
	cache          *responseCache // nil: nothing is stored
	key            [32]byte
	records, index uint64 // the record cache's counters when the request began
	ctype          string

	// set once the response is built, read when its header is written
	etag   string
	maxAge time.Duration
	state  cacheState
}

type cacheState int

const (
	uncached  cacheState = iota // errors, or not yet known: no-store
	revisable                   // good, but partly live: may be kept, must be revalidated
	cacheable                   // built from fresh cached copies: max-age until the first expires
)

// settle decides, once the response is final, whether it is stored and
// which cache headers it gets.
func settle(ctx context.Context, resp *graphql.Response) {
	p := pendingFrom(ctx)
	if p == nil || len(resp.Errors) > 0 || resp.Data == nil {
		return
	}
	oc := graphql.GetOperationContext(ctx)
	if oc == nil || oc.Operation == nil || oc.Operation.Operation != ast.Query {
		return
	}
	if p.get { // only GET answers carry one (a stored POST answer is only replayed to POSTs)
		sum := sha256.Sum256(resp.Data)
		p.etag = `W/"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"` // weak: extensions (ages) differ
	}
	p.state = revisable
	rep := ds.ReportFrom(ctx)
	if rep == nil {
		return
	}
	until, ok := rep.CachedUntil()
	if !ok || !onlyProviders(resp.Extensions) {
		return
	}
	now := time.Now()
	if p.cache != nil {
		now = p.cache.now()
	}
	if !now.Before(until) {
		return
	}
	p.state, p.maxAge = cacheable, until.Sub(now)
	if p.cache == nil {
		return
	}
	stats, _ := rep.Snapshot()
	// the bytes gqlgen's transport writes: encoding/json escapes <, >, & and
	// U+2028/9 inside the data, so a replay is byte for byte the same
	var data bytes.Buffer
	json.HTMLEscape(&data, resp.Data)
	s := &storedResponse{data: data.Bytes(), contentType: p.ctype, etag: p.etag, records: p.records, index: p.index,
		readsIndex: rep.ReadsIndex(), until: until}
	note(ctx, func(a *access) { s.opName, s.opType = a.opName, a.opType })
	if w, ok := resp.Extensions["warnings"]; ok {
		s.warnings, _ = json.Marshal(w)
	}
	for _, id := range ds.AllProviders {
		if st, ok := stats[id]; ok {
			s.providers = append(s.providers, storedProvider{p: id, cached: st.Cached, storedAt: now.Add(-st.Age)})
		}
	}
	p.cache.put(p.key, s)
}

// onlyProviders reports whether extensions holds nothing but the providers
// report, which the cache rebuilds, and warnings, which it keeps (no cost
// estimate).
func onlyProviders(ext map[string]any) bool {
	for k := range ext {
		if k != "providers" && k != "warnings" {
			return false
		}
	}
	return true
}

// headers puts the cache headers of a GET answer: an ETag for any good
// answer, max-age while it is built from fresh cached copies. It reports
// whether the client's copy is current (304).
func (p *pending) headers(h http.Header) (notModified bool) {
	switch p.state {
	case uncached:
		h.Set("Cache-Control", "no-store")
		return false
	case revisable:
		setCacheHeaders(h, p.etag, "private, no-cache")
	case cacheable:
		setCacheHeaders(h, p.etag, maxAge(p.maxAge))
	}
	return etagMatches(p.ifNoneMatch, p.etag)
}

// setCacheHeaders: private, because the answer depends on the caller's key.
func setCacheHeaders(h http.Header, etag, cacheControl string) {
	h.Set("Cache-Control", cacheControl)
	h.Set("ETag", etag)
	h.Add("Vary", "Authorization, X-API-Key")
}

func maxAge(d time.Duration) string { return "private, max-age=" + strconv.Itoa(int(d/time.Second)) }

// etagMatches is If-None-Match's weak comparison.
func etagMatches(header, etag string) bool {
	if header == "" || etag == "" {
		return false
	}
	want := strings.TrimPrefix(etag, "W/")
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == want {
			return true
		}
	}
	return false
}
