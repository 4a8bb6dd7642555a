package providertest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/cache"
	"github.com/federated-customers/gateway/datasource/federate"
	"github.com/federated-customers/gateway/datasource/simkit"
)

func assertSameSet(t *testing.T, got, want []string) {
	t.Helper()
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
		if seen[id] == 2 {
			t.Errorf("id %s returned twice", id)
		}
	}
	w := map[string]bool{}
	for _, id := range want {
		w[id] = true
		if seen[id] == 0 {
			t.Errorf("id %s missing", id)
		}
	}
	for id := range seen {
		if !w[id] {
			t.Errorf("id %s not expected", id)
		}
	}
	if t.Failed() {
		t.Logf("got %d ids, want %d", len(got), len(want))
	}
}

func assertCode(t *testing.T, err error, code ds.Code, p ds.ProviderID) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s error, got none", code)
	}
	if got := ds.ErrorCode(err); got != code {
		t.Fatalf("code = %s, want %s (%v)", got, code, err)
	}
	if got, ok := ds.ErrorProvider(err); !ok || got != p {
		t.Fatalf("error does not name provider %s: %v", p, err)
	}
}

// CaptureLog sends slog's default logger to a buffer for the test.
func CaptureLog(t *testing.T) *SyncBuffer {
	t.Helper()
	buf := &SyncBuffer{}
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(old) })
	return buf
}

// SyncBuffer is a bytes.Buffer safe for concurrent writers.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// AssertNoCredential fails when any credential the simulator received
// appears in one of the texts (an error message, the log).
func AssertNoCredential(t *testing.T, kit *simkit.Kit, texts ...string) {
	t.Helper()
	seen := 0
	for _, c := range kit.Calls() {
		for _, cred := range strings.Fields(c.Credential) {
			seen++
			for _, s := range texts {
				if strings.Contains(s, cred) {
					t.Fatalf("the credential %.4s… leaked: %s", cred, s)
				}
			}
		}
	}
	if seen == 0 {
		t.Fatal("the simulator saw no credential: the test proves nothing")
	}
}

func assertReason(t *testing.T, err error, reason string) {
	t.Helper()
	if got := ds.ErrorReason(err); got != reason {
		t.Fatalf("reason = %q, want %q (%v)", got, reason, err)
	}
}

// missingIDs are well-formed ids no simulator has (a UUID where not listed).
var missingIDs = map[ds.ProviderID]string{ds.DigitalRiver: "5899999999", ds.Kintsugi: "cust_doesnotexist", ds.CommerceLayer: "ZZZZZZZZZZ"}

func missingID(p ds.ProviderID) string {
	if id, ok := missingIDs[p]; ok {
		return id
	}
	return "00000000-0000-4000-a000-000000000000"
}

func ptr[T any](v T) *T { return &v }

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// NewCache is a cache layer for one test (shared: nil keeps it in process),
// closed when the test ends.
func NewCache(t *testing.T, shared cache.Shared) *cache.Layer {
	t.Helper()
	l := cache.New(cache.Options{Shared: shared, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	l.Start()
	t.Cleanup(l.Close)
	return l
}

// walkSources pages through the provider with the federation layer's walker
// (post-filtering with f.Match, as the service does) and returns the records
// and the total the first page reported.
func walkSources(t *testing.T, prov ds.SourceProvider, f ds.SourceFilter, limit int) ([]*ds.CustomerSource, *int) {
	t.Helper()
	return walkAll(t, prov.ID(), prov.ListSources, f, f.Match, limit)
}

// walkAll reads a provider's whole list with the federation layer's walker,
// pages of limit, and returns the matching records and the first total.
func walkAll[T, F any](t *testing.T, p ds.ProviderID, list func(context.Context, ds.ListRequest[F]) (ds.Page[T], error), f F, match func(T) bool, limit int) ([]T, *int) {
	t.Helper()
	seg := federate.Segment[T]{Provider: p, Match: match, Fetch: func(ctx context.Context, token string, n int) (ds.Page[T], error) {
		return list(ctx, ds.ListRequest[F]{Token: token, Limit: n, Filter: f})
	}}
	var out []T
	var total *int
	var pos *ds.Position
	for range 2000 {
		w, err := federate.WalkForward(context.Background(), []federate.Segment[T]{seg}, pos, limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(w.Errs) > 0 {
			t.Fatal(w.Errs[0])
		}
		if n, ok := w.Totals[p]; ok && pos == nil {
			total = &n
		}
		for _, e := range w.Edges {
			out = append(out, e.Node)
		}
		if !w.HasNext {
			return out, total
		}
		r := w.Resume
		pos = &r
	}
	t.Fatal("walk did not end after 2000 pages")
	return nil, nil
}

func keys(ss []*ds.CustomerSource) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		out = append(out, sourceKey(s))
	}
	return out
}

func nodeIDs(ss []*ds.CustomerSource) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		out = append(out, s.NodeID())
	}
	return out
}

// assertUniqueNodes checks that no record (by global id) comes twice.
func assertUniqueNodes(t *testing.T, ss []*ds.CustomerSource) {
	t.Helper()
	seen := map[string]bool{}
	for _, s := range ss {
		id := s.NodeID()
		if seen[id] {
			t.Errorf("record %s (%s) returned twice", s.RecordID, sourceKey(s))
		}
		seen[id] = true
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	slices.Sort(out)
	return out
}
