package tlspeer

import (
	"io"
	"net"
	"sync"
	"time"
)

// pipeConn is the net.Conn between the EAP-TLS messages and tls.Client:
// feed gives it the server's TLS data, take what the client wrote. It
// notes when the client waits for input with none left (idle), so the
// peer knows a flight is complete.
type pipeConn struct {
	mu       sync.Mutex
	cond     *sync.Cond
	in, out  []byte
	waiting  bool // a Read waits with in empty
	closed   bool
	finished bool // the TLS goroutine has returned
}

func newPipeConn() *pipeConn {
	c := &pipeConn{}
	c.cond = sync.NewCond(&c.mu)
	return c
}

func (c *pipeConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.in) == 0 && !c.closed {
		c.waiting = true
		c.cond.Broadcast()
		c.cond.Wait()
	}
	c.waiting = false
	if len(c.in) == 0 {
		return 0, io.EOF
	}
	n := copy(b, c.in)
	c.in = c.in[n:]
	return n, nil
}

func (c *pipeConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	c.out = append(c.out, b...)
	return len(b), nil
}

// Close ends a waiting Read with io.EOF.
func (c *pipeConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	c.cond.Broadcast()
	return nil
}

// feed hands the client the server's TLS data.
func (c *pipeConn) feed(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.in = append(c.in, b...)
	c.waiting = false
	c.cond.Broadcast()
}

// finish records that the TLS goroutine has returned.
func (c *pipeConn) finish() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.finished = true
	c.cond.Broadcast()
}

// idle waits until the client waits for input with none left, or has
// finished, and returns what it wrote meanwhile and whether it finished.
func (c *pipeConn) idle() (out []byte, finished bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for !c.finished && !(c.waiting && len(c.in) == 0) {
		c.cond.Wait()
	}
	out, c.out = c.out, nil
	return out, c.finished
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "eap-tls" }
func (pipeAddr) String() string  { return "eap-tls" }

func (c *pipeConn) LocalAddr() net.Addr                { return pipeAddr{} }
func (c *pipeConn) RemoteAddr() net.Addr               { return pipeAddr{} }
func (c *pipeConn) SetDeadline(t time.Time) error      { return nil }
func (c *pipeConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *pipeConn) SetWriteDeadline(t time.Time) error { return nil }
