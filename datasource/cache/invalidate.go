package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"sync"

	ds "github.com/federated-customers/gateway/datasource"
)

// Cross-replica invalidation: every drop (a write's record and pages, a
// record the vendor no longer has) is applied to the second level and then
// published; every other replica drops the same from its first level and
// in-process index, so all tell the same story within about a second. A
// drop that could not reach the database waits in pending and is applied
// and published when the level is back; a replica that was cut off (its
// level out of service, or its listening connection lost) drops its whole
// first level, since it cannot vouch for what it missed.

// Notifier is a second level that carries invalidations between replicas.
type Notifier interface {
	// Publish sends payload (at most MaxPayload bytes) to every replica.
	Publish(ctx context.Context, payload string) error
	// Subscribe delivers others' payloads and says when the connection that
	// receives them was lost and is back; stop ends it.
	Subscribe(onMessage func(payload string), onReconnect func()) (stop func())
}

// maxPayload is the largest payload published (Postgres takes 8000 bytes).
const maxPayload = 7000

// kindIndex marks an invalidation of identity index rows.
const kindIndex Kind = "index"

// maxPendingIDs bounds the ids kept per pending drop; past it the drop
// covers the provider credential's whole kind.
const maxPendingIDs = 10_000

// invalidation is one drop, as published.
type invalidation struct {
	Origin   string   `json:"o"`
	Provider string   `json:"p"`
	Cred     string   `json:"c"`
	Kind     Kind     `json:"k"`
	IDs      []string `json:"i,omitempty"`
	// All drops every entry of the kind (records: not only IDs).
	All bool `json:"a,omitempty"`
}

type pendingKey struct {
	p    ds.ProviderID
	cred string
	kind Kind
}

// pendingDrops are drops the second level has not seen yet.
type pendingDrops struct {
	mu    sync.Mutex
	drops map[pendingKey]*pendingDrop
}

type pendingDrop struct {
	all bool
	ids map[string]bool
}

func (q *pendingDrops) add(k pendingKey, ids []string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.drops == nil {
		q.drops = map[pendingKey]*pendingDrop{}
	}
	d := q.drops[k]
	if d == nil {
		d = &pendingDrop{ids: map[string]bool{}}
		q.drops[k] = d
	}
	if ids == nil || len(d.ids)+len(ids) > maxPendingIDs {
		d.all, d.ids = true, map[string]bool{}
		return
	}
	if !d.all {
		for _, id := range ids {
			d.ids[id] = true
		}
	}
}

// take empties the queue and returns what it held.
func (q *pendingDrops) take() map[pendingKey]*pendingDrop {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.drops
	q.drops = nil
	return out
}

func (q *pendingDrops) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.drops)
}

func newReplicaID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// dropShared applies one drop to the second level and publishes it; when
// the level is out or fails, the drop waits for its return.
func (l *Layer) dropShared(ctx context.Context, k pendingKey, ids []string) {
	if ids != nil {
		// ids Postgres cannot hold (NUL, invalid UTF-8) were never stored
		// there, and would fail the whole statement
		var keep []string
		for _, id := range ids {
			if storable(id) {
				keep = append(keep, id)
			}
		}
		if len(keep) == 0 {
			return
		}
		ids = keep
	}
	s := l.level2()
	if s == nil {
		l.pending.add(k, ids)
		return
	}
	octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opTimeout)
	defer cancel()
	if err := l.applyDrop(octx, s, k, ids); err != nil {
		l.fail(err)
		if !DataError(err) { // a refused statement would be refused again
			l.pending.add(k, ids)
		}
		return
	}
	l.ok()
}

// applyDrop deletes from the second level, then tells the other replicas.
func (l *Layer) applyDrop(ctx context.Context, s Shared, k pendingKey, ids []string) error {
	var err error
	if k.kind == kindIndex {
		// a collapsed index drop (ids nil) cannot name its rows: the next
		// complete walk removes them (prune.go); others still hear of it
		if len(ids) > 0 {
			err = s.DropIdentities(ctx, k.p, k.cred, ids)
		}
	} else {
		err = s.Drop(ctx, k.p, k.cred, k.kind, ids)
	}
	if err != nil {
		return err
	}
	n, ok := s.(Notifier)
	if !ok {
		return nil
	}
	for _, payload := range l.payloads(k, ids) {
		if err := n.Publish(ctx, payload); err != nil {
			return err
		}
	}
	return nil
}

// payloads encodes a drop in messages that fit a notification.
func (l *Layer) payloads(k pendingKey, ids []string) []string {
	inv := invalidation{Origin: l.id, Provider: k.p.Key(), Cred: k.cred, Kind: k.kind, All: ids == nil && k.kind != kindIndex}
	var out []string
	for {
		chunk, size := ids, 0
		for i, id := range ids {
			if size += len(id) + 3; size > maxPayload-300 {
				chunk = ids[:i]
				break
			}
		}
		if len(chunk) == 0 && len(ids) > 0 { // an id larger than a message: drop all of the kind
			inv.IDs, inv.All = nil, true
			chunk = ids
		} else {
			inv.IDs = chunk
		}
		b, _ := json.Marshal(inv)
		out = append(out, string(b))
		ids = ids[len(chunk):]
		if len(ids) == 0 {
			return out
		}
	}
}

// replayPending applies the drops the second level missed; on failure
// the rest wait for the next try.
func (l *Layer) replayPending(ctx context.Context) error {
	drops := l.pending.take()
	for k, d := range drops {
		var ids []string
		if !d.all {
			ids = make([]string, 0, len(d.ids))
			for id := range d.ids {
				ids = append(ids, id)
			}
		}
		if err := l.applyDrop(ctx, l.shared, k, ids); err != nil {
			if DataError(err) {
				continue // refused for its data: retrying would not help
			}
			for k, d := range drops { // put everything back; drops are idempotent
				ids := []string(nil)
				if !d.all {
					for id := range d.ids {
						ids = append(ids, id)
					}
				}
				l.pending.add(k, ids)
			}
			return err
		}
	}
	return nil
}

// received applies another replica's drop to this one's in-process levels.
func (l *Layer) received(payload string) {
	var inv invalidation
	if err := json.Unmarshal([]byte(payload), &inv); err != nil || inv.Origin == l.id {
		return
	}
	p, ok := ds.ParseProvider(inv.Provider)
	if !ok {
		return
	}
	ctx := context.Background()
	invalidationsReceived.Inc()
	if inv.Kind == kindIndex {
		_ = l.memIndex.DropIdentities(ctx, p, inv.Cred, inv.IDs)
		l.memIndex.changes.Add(1) // answers that read the shared index may have changed
		return
	}
	ids := inv.IDs
	if inv.All {
		ids = nil
	}
	_ = l.l1.Drop(ctx, p, inv.Cred, inv.Kind, ids)
}

// forgetUnvouched drops the whole first level: this replica may have
// missed others' drops (its level was out, or its listener reconnected).
func (l *Layer) forgetUnvouched() {
	l.l1.Clear()
	l.memIndex.changes.Add(1)
}
