package postgres

import (
	"context"
	"database/sql/driver"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lib/pq"
)

// lib/pq answers a cancelled context only by sending a CancelRequest on a
// new connection and then waits for the server on the established one: a
// server that is reachable but silent (a network partition) holds the call,
// and the request, the start or the shutdown behind it, forever. So every
// connection here is watched: each operation ties its context to the
// socket, which is cut (a deadline in the past) once the context ends; the
// blocked read fails at once, lib/pq marks the connection bad and
// database/sql discards it. Connections with no operation's context (the
// handshake of a pool refill, lib/pq's own CancelRequest) carry a deadline
// of their own. TCP keepalives and TCP_USER_TIMEOUT find a dead peer under
// connections that wait with no context (LISTEN).

const (
	// handshakeTimeout bounds dialling and the startup handshake.
	handshakeTimeout = 5 * time.Second
	// sideTimeout bounds a connection dialled outside any operation
	// (lib/pq's CancelRequest), so it never lingers.
	sideTimeout = 3 * time.Second
	// keepAlive is the TCP keepalive idle time and probe interval; with
	// keepAliveProbes unanswered probes (or userTimeout of unacknowledged
	// data) the kernel declares the peer dead.
	keepAlive       = 5 * time.Second
	keepAliveProbes = 3
	userTimeout     = 15 * time.Second
)

// past is a deadline already gone: blocked reads and writes fail at once.
var past = time.Unix(1, 0)

type dialSlotKey struct{}

// dialSlot receives the socket a Connect dialled.
type dialSlot struct {
	mu   sync.Mutex
	conn net.Conn
	cut  bool // the Connect's context ended: the socket is cut as it comes
}

func (s *dialSlot) set(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conn = c
	if s.cut {
		_ = c.SetDeadline(past)
	}
}

// cutNow cuts the socket (now, or as soon as it is dialled).
func (s *dialSlot) cutNow() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cut = true
	if s.conn != nil {
		_ = s.conn.SetDeadline(past)
	}
}

func (s *dialSlot) get() net.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn
}

// dialer is lib/pq's dialer with keepalives and TCP_USER_TIMEOUT; it hands
// the socket to the Connect that asked for it.
type dialer struct{ d net.Dialer }

func newDialer() *dialer {
	return &dialer{d: net.Dialer{
		Timeout:         handshakeTimeout,
		KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: keepAlive, Interval: keepAlive, Count: keepAliveProbes},
		Control:         setUserTimeout(userTimeout),
	}}
}

// dialVia is a DialContext with the other methods lib/pq's Dialer wants.
type dialVia func(ctx context.Context, network, address string) (net.Conn, error)

func (f dialVia) Dial(network, address string) (net.Conn, error) {
	return f(context.Background(), network, address)
}

func (f dialVia) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return f(ctx, network, address)
}

func (f dialVia) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return f(ctx, network, address)
}

func (d *dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := d.d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	slot, ok := ctx.Value(dialSlotKey{}).(*dialSlot)
	if !ok {
		_ = c.SetDeadline(time.Now().Add(sideTimeout))
		return c, nil
	}
	_ = c.SetDeadline(time.Now().Add(handshakeTimeout))
	slot.set(c)
	return c, nil
}

// connector opens lib/pq connections whose every operation is bounded by
// its context (see above).
type connector struct {
	pq *pq.Connector
}

func newConnector(dsn string) (*connector, error) {
	c, err := pq.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	c.Dialer(dialVia(newDialer().DialContext))
	return &connector{pq: c}, nil
}

func (c *connector) Driver() driver.Driver { return c.pq.Driver() }

func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	slot := &dialSlot{}
	ctx = context.WithValue(ctx, dialSlotKey{}, slot)
	// the handshake is bounded by ctx as well as by its own deadline
	stop := context.AfterFunc(ctx, slot.cutNow)
	inner, err := c.pq.Connect(ctx)
	cut := !stop()
	if err != nil {
		return nil, err
	}
	nc := slot.get()
	if cut || nc == nil {
		_ = inner.Close()
		return nil, driver.ErrBadConn
	}
	_ = nc.SetDeadline(time.Time{})
	return &conn{Conn: inner, nc: nc}, nil
}

// conn is a lib/pq connection whose operations end with their context.
type conn struct {
	driver.Conn
	nc net.Conn
	// cut is set once a context ended an operation: the socket is dead and
	// the pool must not hand the connection out again.
	cut atomic.Bool
}

// watch ties ctx to the socket until the returned stop is called.
func (c *conn) watch(ctx context.Context) (stop func()) {
	if ctx.Done() == nil {
		return func() {}
	}
	after := context.AfterFunc(ctx, func() {
		c.cut.Store(true)
		_ = c.nc.SetDeadline(past)
	})
	return func() { after() }
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	stop := c.watch(ctx)
	r, err := c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
	if err != nil {
		stop()
		return nil, c.bad(err)
	}
	return &rows{Rows: r, stop: stop}, nil
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	defer c.watch(ctx)()
	r, err := c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
	return r, c.bad(err)
}

func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	stop := c.watch(ctx)
	s, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	stop()
	if err != nil {
		return nil, c.bad(err)
	}
	return &stmt{Stmt: s, c: c}, nil
}

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	stop := c.watch(ctx)
	t, err := c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		stop()
		return nil, c.bad(err)
	}
	return &tx{Tx: t, stop: stop}, nil
}

func (c *conn) Ping(ctx context.Context) error {
	defer c.watch(ctx)()
	return c.bad(c.Conn.(driver.Pinger).Ping(ctx))
}

// bad turns the error of an operation its context cut into ErrBadConn's
// company: the connection is never reused.
func (c *conn) bad(err error) error {
	if err != nil && c.cut.Load() {
		return &cutError{err}
	}
	return err
}

func (c *conn) ResetSession(ctx context.Context) error {
	if c.cut.Load() {
		return driver.ErrBadConn
	}
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *conn) IsValid() bool {
	if c.cut.Load() {
		return false
	}
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *conn) CheckNamedValue(nv *driver.NamedValue) error {
	if v, ok := c.Conn.(driver.NamedValueChecker); ok {
		return v.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// cutError is an operation's error once its context cut the connection.
type cutError struct{ err error }

func (e *cutError) Error() string { return "postgres: operation abandoned: " + e.err.Error() }
func (e *cutError) Unwrap() error { return e.err }

type rows struct {
	driver.Rows
	stop func()
}

func (r *rows) Close() error {
	err := r.Rows.Close()
	r.stop()
	return err
}

type tx struct {
	driver.Tx
	stop func()
}

func (t *tx) Commit() error {
	defer t.stop()
	return t.Tx.Commit()
}

func (t *tx) Rollback() error {
	defer t.stop()
	return t.Tx.Rollback()
}

type stmt struct {
	driver.Stmt
	c *conn
}

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	defer s.c.watch(ctx)()
	r, err := s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
	return r, s.c.bad(err)
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	stop := s.c.watch(ctx)
	r, err := s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		stop()
		return nil, s.c.bad(err)
	}
	return &rows{Rows: r, stop: stop}, nil
}
