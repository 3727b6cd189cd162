package supplicant_test

import (
	"bytes"
	"net"
	"os"
	"sync"
	"time"
)

// frame is one EAPOL PDU on the in-memory LAN.
type frame struct {
	pdu      []byte
	src, dst net.HardwareAddr
}

// memLink is one end of an in-memory point-to-point LAN: what one end
// writes, the other reads, with deadlines as a socket has them.
type memLink struct {
	hw   net.HardwareAddr
	in   chan frame
	peer *memLink

	mu       sync.Mutex
	deadline time.Time
	changed  chan struct{}
	sent     []frame
}

// newLinks returns two connected ends with the MAC addresses a and b.
func newLinks(a, b net.HardwareAddr) (*memLink, *memLink) {
	x := &memLink{hw: a, in: make(chan frame, 64), changed: make(chan struct{})}
	y := &memLink{hw: b, in: make(chan frame, 64), changed: make(chan struct{})}
	x.peer, y.peer = y, x
	return x, y
}

func (l *memLink) ReadFrom(b []byte) (int, net.HardwareAddr, error) {
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
			return copy(b, f.pdu), f.src, nil
		case <-expired:
			return 0, nil, os.ErrDeadlineExceeded
		case <-ch:
		}
	}
}

func (l *memLink) WriteTo(pdu []byte, dst net.HardwareAddr) error {
	return l.inject(frame{pdu: bytes.Clone(pdu), src: l.hw, dst: bytes.Clone(dst)})
}

// inject sends f to the other end as it is (another source address).
func (l *memLink) inject(f frame) error {
	l.mu.Lock()
	l.sent = append(l.sent, f)
	l.mu.Unlock()
	l.peer.in <- f
	return nil
}

func (l *memLink) SetReadDeadline(t time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.deadline = t
	close(l.changed)
	l.changed = make(chan struct{})
	return nil
}

// frames returns what this end sent.
func (l *memLink) frames() []frame {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]frame(nil), l.sent...)
}
