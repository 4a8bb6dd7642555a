package postgres

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"
)

// Invalidations travel between replicas by Postgres LISTEN/NOTIFY, on a
// channel per schema (the replicas sharing tables share the channel).

const (
	// listenPing is how often the listening connection is checked, and
	// listenSilence how long it may go unanswered before it is cut, so a
	// silent server (a partition) makes the listener reconnect, which
	// tells the cache it may have missed notifications.
	listenPing    = time.Second
	listenSilence = 3 * time.Second
)

// MaxPayload is the largest NOTIFY payload Postgres takes (8000 bytes), with margin.
const MaxPayload = 7000

var notChannel = regexp.MustCompile(`[^a-z0-9_]`)

// channelFor is the channel of the schema a DSN's connections use (its
// search_path; the default schema otherwise).
func channelFor(dsn string) string {
	schema := "public"
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		if sp := u.Query().Get("search_path"); sp != "" {
			schema = sp
		}
	} else {
		for _, f := range strings.Fields(dsn) {
			if v, ok := strings.CutPrefix(f, "search_path="); ok && v != "" {
				schema = strings.Trim(v, "'")
			}
		}
	}
	schema = strings.TrimSpace(strings.SplitN(schema, ",", 2)[0])
	name := "gateway_invalidate_" + notChannel.ReplaceAllString(strings.ToLower(schema), "_")
	if len(name) > 63 {
		name = name[:63]
	}
	return name
}

// Publish sends payload (at most MaxPayload bytes) to every replica
// listening on this database schema, this one included.
func (d *DB) Publish(ctx context.Context, payload string) error {
	if _, err := d.db.ExecContext(ctx, `SELECT pg_notify($1, $2)`, d.channel, payload); err != nil {
		return fmt.Errorf("postgres: notify: %w", err)
	}
	return nil
}

// listenDialer dials the listening connection with keepalives and
// TCP_USER_TIMEOUT and no deadline (it waits for notifications), and keeps
// the latest socket so a silent one can be cut.
type listenDialer struct {
	d    *dialer
	mu   sync.Mutex
	last net.Conn
}

func (l *listenDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := l.d.d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.last = c
	l.mu.Unlock()
	return c, nil
}

// cut closes the latest socket: a blocked read or handshake on it ends.
func (l *listenDialer) cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last != nil {
		_ = l.last.Close()
	}
}

// Subscribe listens on this schema's channel until stop is called:
// onMessage gets each payload, onReconnect is called each time the
// listening connection is back after it was lost (notifications sent
// meanwhile are lost: the caller drops what it cannot vouch for). Neither
// may block for long.
func (d *DB) Subscribe(onMessage func(payload string), onReconnect func()) (stop func()) {
	ld := &listenDialer{d: newDialer()}
	l := pq.NewDialListener(dialVia(ld.DialContext), d.dsn, 100*time.Millisecond, 2*time.Second, func(ev pq.ListenerEventType, _ error) {
		if ev == pq.ListenerEventReconnected {
			onReconnect()
		}
	})
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { _ = l.Listen(d.channel) }) // returns once connected, or closed
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			case n := <-l.Notify:
				if n != nil {
					onMessage(n.Extra)
				}
			}
		}
	})
	wg.Go(func() { watchListener(l, ld, done) })
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			ld.cut()
			_ = l.Close()
			wg.Wait()
		})
	}
}

// watchListener pings the listening connection and cuts it when it has not
// answered for listenSilence (lib/pq's listener would wait on it forever).
func watchListener(l *pq.Listener, ld *listenDialer, done chan struct{}) {
	lastOK := time.Now()
	pinged := make(chan error, 1)
	pinging := false
	t := time.NewTicker(listenPing)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case err := <-pinged:
			pinging = false
			if err == nil {
				lastOK = time.Now()
			}
		case <-t.C:
			if time.Since(lastOK) > listenSilence {
				ld.cut()
				lastOK = time.Now() // give the reconnection its time
			}
			if !pinging {
				pinging = true
				go func() { pinged <- l.Ping() }()
			}
		}
	}
}
