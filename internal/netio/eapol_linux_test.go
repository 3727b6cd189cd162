//go:build linux

package netio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/testbed"
)

func eapolPair(t *testing.T) (auth, host *EAPOLConn) {
	t.Helper()
	requireTestbed(t)
	p, err := testbed.UpPair(context.Background(), fmt.Sprintf("fhk-e%d-", os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Down(context.Background()); err != nil {
			t.Error(err)
		}
	})
	open := func(ns, iface string) *EAPOLConn {
		var c *EAPOLConn
		if err := testbed.Do(ns, func() (err error) { c, err = ListenEAPOL(iface); return err }); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	return open(p.A(), testbed.PairIfaceA), open(p.H(), testbed.PairIfaceH)
}

func readEAPOL(t *testing.T, c *EAPOLConn) ([]byte, net.HardwareAddr) {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, MaxEAPOLFrame)
	n, src, err := c.ReadFrom(b)
	if err != nil {
		t.Fatal(err)
	}
	return b[:n], src
}

// TestEAPOLConn: an EAPOL-Start sent by the host to the PAE group address
// reaches the authenticator with the host's MAC as source (as sent: a veth
// does not pad to the Ethernet minimum, a NIC pads with zeros); the authenticator's unicast
// answer reaches the host; neither end reads its own frames.
func TestEAPOLConn(t *testing.T) {
	auth, host := eapolPair(t)
	start := []byte{0x03, 0x01, 0x00, 0x00} // 802.1X-2010, EAPOL-Start, Length 0
	if err := host.WriteTo(start, PAEGroupAddress); err != nil {
		t.Fatal(err)
	}
	got, src := readEAPOL(t, auth)
	if !bytes.Equal(src, host.HardwareAddr()) {
		t.Errorf("source %v, want the host's %v", src, host.HardwareAddr())
	}
	if !bytes.Equal(got, start) {
		t.Errorf("received % x, want % x", got, start)
	}
	request := []byte{0x03, 0x00, 0x00, 0x05, 0x01, 0x01, 0x00, 0x05, 0x01} // EAP-Request/Identity
	if err := auth.WriteTo(request, src); err != nil {
		t.Fatal(err)
	}
	got, src = readEAPOL(t, host)
	if !bytes.Equal(src, auth.HardwareAddr()) || !bytes.Equal(got[:len(request)], request) {
		t.Errorf("host received % x from %v, want % x from %v", got, src, request, auth.HardwareAddr())
	}
	// Nothing else is queued: the authenticator does not read its own
	// answer, the host not its own Start.
	for _, c := range []*EAPOLConn{auth, host} {
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if n, src, err := c.ReadFrom(make([]byte, MaxEAPOLFrame)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("extra read: %d octets from %v, %v", n, src, err)
		}
	}
}

// TestEAPOLConnClose: Close unblocks a pending ReadFrom with ErrClosed; a
// bad destination and an unknown interface are errors.
func TestEAPOLConnClose(t *testing.T) {
	auth, _ := eapolPair(t)
	errc := make(chan error, 1)
	go func() {
		_, _, err := auth.ReadFrom(make([]byte, MaxEAPOLFrame))
		errc <- err
	}()
	// Close races with the reader's start: either way the read must end.
	auth.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("ReadFrom after Close: %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadFrom still blocked 5 s after Close")
	}
	if err := auth.WriteTo([]byte{3, 1, 0, 0}, net.HardwareAddr{1, 2, 3}); err == nil {
		t.Error("WriteTo a 3-octet address: no error")
	}
	if _, err := ListenEAPOL("nonexistent0"); err == nil {
		t.Error("ListenEAPOL(nonexistent0): no error")
	}
}
