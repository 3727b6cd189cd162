package eaptest

import (
	"bytes"
	"net"
	"os"
	"sync"
	"time"
)

// Frame is one EAPOL PDU on the in-memory LAN.
type Frame struct {
	PDU      []byte
	Src, Dst net.HardwareAddr
}

// MemoryLink is one end of an in-memory point-to-point LAN: what one end
// writes, the other reads, with deadlines as a socket has them.
type MemoryLink struct {
	hw   net.HardwareAddr
	in   chan Frame
	peer *MemoryLink

	mu       sync.Mutex
	deadline time.Time
	changed  chan struct{}
	sent     []Frame
}

// NewMemoryLinks returns two connected ends with the MAC addresses a
// and b; each buffers 64 frames.
func NewMemoryLinks(a, b net.HardwareAddr) (*MemoryLink, *MemoryLink) {
	x := &MemoryLink{hw: a, in: make(chan Frame, 64), changed: make(chan struct{})}
	y := &MemoryLink{hw: b, in: make(chan Frame, 64), changed: make(chan struct{})}
	x.peer, y.peer = y, x
	return x, y
}

// ReadFrom reads the next frame, until the read deadline.
func (l *MemoryLink) ReadFrom(b []byte) (int, net.HardwareAddr, error) {
	for {
		l.mu.Lock()
		d, ch := l.deadline, l.changed
		l.mu.Unlock()
		var expired <-chan time.Time
		if !d.IsZero() {
			wait := time.Until(d)
			if wait <= 0 {
				return 0, nil, os.ErrDeadlineExceeded
			}
			t := time.NewTimer(wait)
			defer t.Stop()
			expired = t.C
		}
		select {
		case f := <-l.in:
			return copy(b, f.PDU), f.Src, nil
		case <-expired:
			return 0, nil, os.ErrDeadlineExceeded
		case <-ch:
		}
	}
}

// WriteTo sends pdu to the other end from this end's address.
func (l *MemoryLink) WriteTo(pdu []byte, dst net.HardwareAddr) error {
	return l.Inject(Frame{PDU: bytes.Clone(pdu), Src: l.hw, Dst: bytes.Clone(dst)})
}

// Inject sends f to the other end as it is (another source address).
func (l *MemoryLink) Inject(f Frame) error {
	l.mu.Lock()
	l.sent = append(l.sent, f)
	l.mu.Unlock()
	l.peer.in <- f
	return nil
}

// SetReadDeadline sets the deadline of ReadFrom, also of one waiting.
func (l *MemoryLink) SetReadDeadline(t time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.deadline = t
	close(l.changed)
	l.changed = make(chan struct{})
	return nil
}

// Frames returns what this end sent.
func (l *MemoryLink) Frames() []Frame {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Frame(nil), l.sent...)
}

// Close does nothing: the link is garbage once both ends are dropped.
func (l *MemoryLink) Close() error { return nil }
