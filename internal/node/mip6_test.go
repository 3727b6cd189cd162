package node

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/mip6mn"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/testenv"
	"github.com/fhkey/fhkey/mh"
	"github.com/fhkey/fhkey/mip6tls"
	"github.com/fhkey/fhkey/mip6udp"
)

var mip6Home = netip.MustParseAddr("2001:db8:1::100")

// mip6TestHA is a home agent on loopback UDP built from mip6udp, mh and
// netio's Destination Options parser: it acknowledges each Binding Update
// (a bare Mobility Header, Next Header 135) and echoes user data back to
// the home address.
type mip6TestHA struct {
	conn    *net.UDPConn
	in      *mip6udp.Inbound
	out     *mip6udp.Outbound
	mu      sync.Mutex
	careOf  netip.Addr
	seq     uint16
	data    [][]byte
	lastErr error
}

func newMIP6TestHA(t *testing.T, sa mip6tls.SecurityAssociation) *mip6TestHA {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := func(e, i mip6tls.Key) mip6udp.Config {
		return mip6udp.Config{SPI: mip6udp.SPI(sa.SPI), Suite: mip6udp.CipherSuite(sa.CipherSuite), EncryptionKey: e.Bytes(), IntegrityKey: i.Bytes()}
	}
	h := &mip6TestHA{conn: conn}
	if h.in, err = mip6udp.NewInbound(c(sa.MNToHAEncryption, sa.MNToHAIntegrity)); err != nil {
		t.Fatal(err)
	}
	if h.out, err = mip6udp.NewOutbound(c(sa.HAToMNEncryption, sa.HAToMNIntegrity)); err != nil {
		t.Fatal(err)
	}
	go h.serve()
	return h
}

func (h *mip6TestHA) addr() netip.AddrPort { return h.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (h *mip6TestHA) serve() {
	buf := make([]byte, 65535)
	for {
		n, from, err := h.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		reply, err := h.handle(buf[:n])
		h.mu.Lock()
		h.lastErr = err
		h.mu.Unlock()
		if reply != nil {
			_, _ = h.conn.WriteToUDPAddrPort(reply, from)
		}
	}
}

func (h *mip6TestHA) handle(pkt []byte) ([]byte, error) {
	msg, _, err := h.in.Open(nil, pkt)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if msg.Type == mip6udp.PacketTypeData {
		in := bytes.Clone(msg.Payload)
		h.data = append(h.data, in)
		echo := bytes.Clone(in)
		copy(echo[8:24], in[24:40])
		copy(echo[24:40], in[8:24])
		return h.out.Seal(nil, mip6udp.PacketTypeData, 41, echo)
	}
	d, err := netio.ParseDestinationOptions(msg.Payload)
	if err != nil {
		return nil, err
	}
	m, err := mh.ParseMessage(msg.Payload[d.Len:])
	if err != nil {
		return nil, err
	}
	bu, ok := m.(mh.BindingUpdate)
	if !ok {
		return nil, fmt.Errorf("%T", m)
	}
	for _, o := range bu.Options {
		if a, ok := o.(mh.AlternateCareOfAddress); ok {
			h.careOf = a.Address
		}
	}
	h.seq = bu.Sequence
	ba, err := mh.MarshalMessage(mh.BindingAcknowledgement{Sequence: bu.Sequence, Lifetime: bu.Lifetime})
	if err != nil {
		return nil, err
	}
	if err := mh.SetChecksum(ba, h.addr().Addr(), d.HomeAddress); err != nil {
		return nil, err
	}
	return h.out.Seal(nil, mip6udp.PacketTypeMobilityHeader, 135, ba)
}

func (h *mip6TestHA) state() (netip.Addr, uint16, int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.careOf, h.seq, len(h.data), h.lastErr
}

type staticBootstrapper struct {
	sa mip6tls.SecurityAssociation
	bs mip6tls.Bootstrap
}

func (s *staticBootstrapper) Bootstrap(context.Context) (*mip6tls.SecurityAssociation, *mip6tls.Bootstrap, error) {
	sa, bs := s.sa, s.bs
	return &sa, &bs, nil
}

func mip6Key(t *testing.T, n int, v byte) mip6tls.Key {
	k, err := mip6tls.NewKey(bytes.Repeat([]byte{v}, n))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestMIP6Loopback: the node registers with an HA over loopback UDP,
// data goes both ways through the tunnel, and a move re-registers.
func TestMIP6Loopback(t *testing.T) {
	sa := mip6tls.SecurityAssociation{SPI: 4242, CipherSuite: mip6tls.CipherSuiteAES128CBCSHA256, Scope: mip6tls.SAScopeAll,
		ValidityEnd:     time.Now().Add(time.Hour),
		MNToHAIntegrity: mip6Key(t, 16, 1), HAToMNIntegrity: mip6Key(t, 16, 2),
		MNToHAEncryption: mip6Key(t, 16, 3), HAToMNEncryption: mip6Key(t, 16, 4)}
	ha := newMIP6TestHA(t, sa)
	delivered := make(chan []byte, 4)
	n, err := OpenMIP6(context.Background(), MIP6Spec{
		Bootstrapper: &staticBootstrapper{sa: sa, bs: mip6tls.Bootstrap{
			HomeAgent6: ha.addr().Addr(), Port: mip6tls.ServicePort(ha.addr().Port()), HomeAddress6: mip6Home}},
		Local:   netip.MustParseAddrPort("[::1]:0"),
		CareOf:  netip.MustParseAddr("2001:db8:2::55"),
		Deliver: func(p []byte) error { delivered <- bytes.Clone(p); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	registered := func(coa string, seq uint16) func() (bool, string) {
		return func() (bool, string) {
			st := n.Role.Status()
			hc, hs, _, herr := ha.state()
			return st.State == mip6mn.StateRegistered && !st.Outstanding && st.CareOf.String() == coa && hc.String() == coa && hs == seq,
				fmt.Sprintf("role %s at %v seq %d; HA saw %v seq %d (%v)", st.State, st.CareOf, st.Sequence, hc, hs, herr)
		}
	}
	testenv.Eventually(t, 10*time.Second, "registration", registered("2001:db8:2::55", 1))

	pkt := make([]byte, 48)
	pkt[0], pkt[6] = 0x60, 59
	pkt[5] = 8
	copy(pkt[8:24], mip6Home.AsSlice())
	copy(pkt[24:40], netip.MustParseAddr("2001:db8:9::9").AsSlice())
	copy(pkt[40:], "mip6data")
	if err := n.Send(pkt); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-delivered:
		if !bytes.Equal(got[40:], pkt[40:]) || netip.AddrFrom16([16]byte(got[24:40])) != mip6Home {
			t.Fatalf("delivered %x", got)
		}
	case <-time.After(10 * time.Second):
		_, _, k, herr := ha.state()
		t.Fatalf("no echo: the HA got %d data packets (%v); counters %+v", k, herr, n.Role.Counters())
	}

	if err := n.Move(netip.MustParseAddr("2001:db8:3::55")); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "re-registration", registered("2001:db8:3::55", 2))
	if c := n.Role.Counters(); c.DataSent != 1 || c.DataReceived != 1 || c.BindingAcknowledgementsAccepted != 2 {
		t.Fatalf("counters %+v", c)
	}
}
