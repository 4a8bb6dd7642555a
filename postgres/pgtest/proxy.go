package pgtest

import (
	"net"
	"net/url"
	"sync"
	"testing"
)

// Proxy is a TCP proxy in front of Postgres that a test can cut, to stop
// the database for the gateway without stopping the machine's server, or
// blackhole, to make it reachable but silent (a network partition).
type Proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	// flowing is closed while bytes are forwarded; a blackhole replaces it
	// with an open channel that Restore closes.
	flowing chan struct{}
	conns   map[net.Conn]chan struct{} // each side's done, closed by Cut
}

// NewProxy proxies to the host of dbURL and returns dbURL pointed at itself.
func NewProxy(t testing.TB, dbURL string) (*Proxy, string) {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	flowing := make(chan struct{})
	close(flowing)
	p := &Proxy{ln: ln, target: u.Host, flowing: flowing, conns: map[net.Conn]chan struct{}{}}
	go p.serve()
	t.Cleanup(func() { _ = ln.Close(); p.Cut() })
	u.Host = ln.Addr().String()
	return p, u.String()
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		done := make(chan struct{})
		p.conns[c] = done
		p.mu.Unlock()
		go p.connect(c, done)
	}
}

// connect dials the server once bytes flow (at once unless blackholed),
// then forwards both ways.
func (p *Proxy) connect(c net.Conn, done chan struct{}) {
	if !p.wait(done) {
		_ = c.Close()
		return
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		_ = c.Close()
		_ = up.Close()
		return
	}
	p.conns[up] = done
	p.mu.Unlock()
	go p.pipe(up, c, done)
	go p.pipe(c, up, done)
}

// wait blocks while the proxy is blackholed; false once the connection is cut.
func (p *Proxy) wait(done chan struct{}) bool {
	p.mu.Lock()
	flowing := p.flowing
	p.mu.Unlock()
	select {
	case <-flowing:
		return true
	case <-done:
		return false
	}
}

// pipe copies src to dst; in a blackhole what was read waits, undelivered,
// until Restore (as TCP delivers it once a partition heals).
func (p *Proxy) pipe(dst, src net.Conn, done chan struct{}) {
	defer func() { _ = dst.Close(); _ = src.Close() }()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.wait(done) {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Cut closes every connection and refuses new ones: the database is gone.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	closed := map[chan struct{}]bool{}
	for c, done := range p.conns {
		_ = c.Close()
		if !closed[done] {
			closed[done] = true
			close(done)
		}
	}
	p.conns = map[net.Conn]chan struct{}{}
}

// Blackhole keeps every connection open and accepts new ones, but forwards
// nothing either way until Restore: the server is reachable and silent.
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.flowing:
		p.flowing = make(chan struct{})
	default: // already
	}
}

// Restore accepts connections again and ends a blackhole.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
	select {
	case <-p.flowing:
	default:
		close(p.flowing)
	}
}
