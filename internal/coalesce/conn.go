// Package coalesce puts the writes a request/response peer makes between
// two reads into one system call: a Conn holds what is written until the
// next Read, Flush or Close, then sends it with one write.
//
// Under TLS this joins records the protocol sends back to back: the TLS
// 1.3 client's Finished and the first request written after Handshake
// (RFC 8446 §4.4.4 lets application data follow the Finished at once), or
// a server's last response and its close_notify alert. Each write on a
// loopback or LAN TCP socket costs a system call and, at the peer, a
// wake-up and a read; an RFC 6618 bootstrap saves two of each (docs/tls.md,
// "Performance").
//
// Use it only under one goroutine's request/response loop: a write
// buffered while the same connection is blocked in a Read on another
// goroutine is not sent until that Read returns.
package coalesce

import (
	"errors"
	"net"
	"sync"
	"time"
)

// MaxBuffered is the most a Conn holds; a Write that would go beyond it
// sends what is held first (and a larger Write goes out on its own).
const MaxBuffered = 16 << 10

// Conn is a net.Conn whose writes wait for the next Read, Flush or Close.
type Conn struct {
	net.Conn
	mu  sync.Mutex
	buf []byte
	err error // the first write error: every later Write and Flush returns it
}

// New wraps c.
func New(c net.Conn) *Conn { return &Conn{Conn: c} }

// buffers recycles the held octets between flushes: a TLS connection
// holds a few KiB (a server's first flight) only for a moment.
var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// Write holds p until the next Read, Flush or Close; it fails only with
// the error of an earlier write.
func (c *Conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	if len(c.buf)+len(p) > MaxBuffered {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) > MaxBuffered {
			n, err := c.Conn.Write(p)
			c.err = err
			return n, err
		}
	}
	if c.buf == nil {
		c.buf = (*buffers.Get().(*[]byte))[:0]
	}
	c.buf = append(c.buf, p...)
	return len(p), nil
}

// Read sends what is held, then reads.
func (c *Conn) Read(p []byte) (int, error) {
	if err := c.Flush(); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

// Flush sends what is held in one write.
func (c *Conn) Flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flushLocked()
}

func (c *Conn) flushLocked() error {
	if c.err != nil || len(c.buf) == 0 {
		return c.err
	}
	_, err := c.Conn.Write(c.buf)
	b := c.buf[:0]
	buffers.Put(&b)
	c.buf = nil
	c.err = err
	return err
}

// SetWriteDeadline sends what is held first when t is not in the future:
// tls.Conn.Close writes its close_notify under a 5 s deadline and then
// sets the write deadline to now, so that later writes fail; the alert
// (with whatever it was held with) leaves before that. Any other deadline
// is only set, without a write: SetDeadline with a past time is how a
// caller interrupts a blocked Read or Write, and must not wait for one.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	if !t.After(time.Now()) {
		_ = c.Flush() // a failure is kept: the next Write, Flush or Close returns it
	}
	return c.Conn.SetWriteDeadline(t)
}

// Close sends what is held and closes the connection.
func (c *Conn) Close() error {
	return errors.Join(c.Flush(), c.Conn.Close())
}
