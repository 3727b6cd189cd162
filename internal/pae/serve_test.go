package pae

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/eap"
	"github.com/fhkey/fhkey/internal/testenv"
)

// chanTransport is an in-memory Transport: frames in from a channel,
// frames out recorded.
type chanTransport struct {
	in       chan inFrame
	mu       sync.Mutex
	out      []Frame
	deadline chan struct{}
	once     sync.Once
}

type inFrame struct {
	src net.HardwareAddr
	pdu []byte
}

func newChanTransport() *chanTransport {
	return &chanTransport{in: make(chan inFrame, 16), deadline: make(chan struct{})}
}

func (c *chanTransport) ReadFrom(b []byte) (int, net.HardwareAddr, error) {
	select {
	case f := <-c.in:
		return copy(b, f.pdu), f.src, nil
	case <-c.deadline:
		return 0, nil, os.ErrDeadlineExceeded
	}
}

func (c *chanTransport) WriteTo(pdu []byte, dst net.HardwareAddr) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.out = append(c.out, Frame{Dst: MAC(dst), PDU: bytes.Clone(pdu)})
	return nil
}

func (c *chanTransport) SetReadDeadline(t time.Time) error {
	if !t.IsZero() && !t.After(time.Now()) {
		c.once.Do(func() { close(c.deadline) })
	}
	return nil
}

func (c *chanTransport) sent() []Frame {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Frame(nil), c.out...)
}

// TestServe: Serve answers a Start with the Identity Request to the
// supplicant, ignores a frame from a group source address, retransmits
// on its ticks (on the role's clock) and returns ctx's error when
// cancelled.
func TestServe(t *testing.T) {
	w := newWorld(t, Config{RetransmitInterval: time.Second, MaxRetransmissions: 1})
	var mu sync.Mutex
	w.a.cfg.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return w.now }
	tr := newChanTransport()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.a.Serve(ctx, tr, time.Millisecond) }()
	tr.in <- inFrame{net.HardwareAddr{0x01, 0x80, 0xc2, 0, 0, 3}, eapolPDU(eap.EAPOLStart, nil)}
	tr.in <- inFrame{net.HardwareAddr(macA[:]), eapolPDU(eap.EAPOLStart, nil)}
	testenv.Eventually(t, 5*time.Second, "Identity Request sent", func() (bool, string) {
		out := tr.sent()
		return len(out) == 1 && out[0].Dst == macA, ""
	})
	mu.Lock()
	w.now = w.now.Add(time.Second)
	mu.Unlock()
	testenv.Eventually(t, 5*time.Second, "retransmission", func() (bool, string) {
		out := tr.sent()
		return len(out) == 2 && bytes.Equal(out[0].PDU, out[1].PDU), ""
	})
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Serve returned %v", err)
	}
	if s := w.a.Stats(); s.Unexpected != 1 || s.Started != 1 || s.Retransmissions != 1 {
		t.Errorf("stats %+v", s)
	}
}
