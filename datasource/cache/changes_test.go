package cache

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
)

// The change counter moves only when what the cache would answer moves:
// the response cache replays a stored response while it stands still.
func TestTheChangeCounterMovesOnlyWhenAnAnswerWould(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	rec := func(key, raw string, at time.Time) Entry {
		c := &ds.Customer{Provider: ds.Kintsugi, ProviderID: key, Raw: json.RawMessage(raw)}
		return Entry{Key: key, Provider: ds.Kintsugi, Kind: KindRecord, RecordID: key, Value: c, StoredAt: at}
	}
	id := func(vendor, email string, at time.Time) ds.Identity {
		return ds.Identity{Provider: ds.Kintsugi, VendorID: vendor, Email: email, SeenAt: at}
	}
	for _, tc := range []struct {
		name  string
		act   func(m *Memory, x *MemoryIndex)
		moves bool
	}{
		{"a new key", func(m *Memory, x *MemoryIndex) { _ = m.Put(ctx, []Entry{rec("b", `{"id":"b"}`, now)}) }, false},
		{"the same record stored again", func(m *Memory, x *MemoryIndex) { _ = m.Put(ctx, []Entry{rec("a", `{"id":"a"}`, now.Add(time.Second))}) }, false},
		{"a record that changed", func(m *Memory, x *MemoryIndex) {
			_ = m.Put(ctx, []Entry{rec("a", `{"id":"a","x":1}`, now.Add(time.Second))})
		}, true},
		{"a record dropped", func(m *Memory, x *MemoryIndex) { _ = m.Drop(ctx, ds.Kintsugi, "", KindRecord, []string{"a"}) }, true},
		{"an id dropped that was not there", func(m *Memory, x *MemoryIndex) { _ = m.Drop(ctx, ds.Kintsugi, "", KindRecord, []string{"zz"}) }, false},
		{"a record evicted", func(m *Memory, x *MemoryIndex) {
			_ = m.Put(ctx, []Entry{rec("b", `{}`, now), rec("c", `{}`, now)}) // two entries at most
		}, true},
		{"the same index row again", func(m *Memory, x *MemoryIndex) {
			_ = x.PutIdentities(ctx, []ds.Identity{id("a", "a@x.test", now.Add(time.Second))})
		}, false},
		{"a new index row", func(m *Memory, x *MemoryIndex) { _ = x.PutIdentities(ctx, []ds.Identity{id("b", "a@x.test", now)}) }, true},
		{"an index row that changed", func(m *Memory, x *MemoryIndex) { _ = x.PutIdentities(ctx, []ds.Identity{id("a", "new@x.test", now)}) }, true},
		{"a sync state", func(m *Memory, x *MemoryIndex) { _ = x.PutSyncState(ctx, ds.CareCloud, "", ds.SyncStatus{}) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMemory(2, 0, 0, func() time.Time { return now })
			x := NewMemoryIndex()
			_ = m.Put(ctx, []Entry{rec("a", `{"id":"a"}`, now)})
			_ = x.PutIdentities(ctx, []ds.Identity{id("a", "a@x.test", now)})
			before := m.Changes() + x.Changes()
			tc.act(m, x)
			if moved := m.Changes()+x.Changes() != before; moved != tc.moves {
				t.Errorf("counter moved: %v, want %v", moved, tc.moves)
			}
		})
	}
}
