package demo

import (
	"context"
	"crypto/rand"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/fhkey/fhkey/internal/aaa"
	"github.com/fhkey/fhkey/internal/capture"
	"github.com/fhkey/fhkey/internal/hks"
	"github.com/fhkey/fhkey/internal/hks/subscribers"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/radius"
	"github.com/fhkey/fhkey/mh"
)

// DemoNAI is the subscriber of the AAA walk-through.
const DemoNAI = "mn@example.com"

// RADIUS codes the walk-through names (RFC 2865 §3).
const (
	radiusAccessRequest = 1
	radiusAccessAccept  = 2
	radiusAccessReject  = 3
)

// hksSide is the Handover Key Server of the AAA walk-through: the HKS role
// with a memory store holding the subscriber, served by a RADIUS server on
// a loopback UDP socket whose datagrams are captured.
type hksSide struct {
	role   *hks.Server
	timed  *timedKeyServer
	radius *radius.Server
	addr   netip.AddrPort // the RADIUS server's socket
	secret []byte         // shared with the PAR
	stop   func()         // stops the server and waits for it
}

// startHKS stores the subscriber (nai, hmk) and serves it over RADIUS on
// 127.0.0.1 (a port the kernel picks), recording every datagram with
// d.captureUDP and the events with m.
func (d *Demo) startHKS(ctx context.Context, nai string, hmk []byte, m *marks) (*hksSide, error) {
	store := subscribers.NewMemory()
	sub := subscribers.Subscriber{NAI: nai, HMK: append([]byte(nil), hmk...), Enabled: true}
	err := store.Put(ctx, &sub)
	sub.Zero()
	if err != nil {
		return nil, err
	}
	role, err := hks.New(hks.Config{Subscribers: store})
	if err != nil {
		return nil, err
	}
	h := &hksSide{role: role, timed: &timedKeyServer{ks: role, mark: m.mark}, secret: make([]byte, 32)}
	if _, err := rand.Read(h.secret); err != nil {
		return nil, err
	}
	h.radius, err = radius.NewServer(radius.ServerConfig{KeyServer: h.timed,
		Clients: []radius.NASClient{{Name: "par", Prefix: netip.MustParsePrefix("127.0.0.1/32"), Secret: h.secret}}})
	if err != nil {
		return nil, err
	}
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h.addr = addrPortOf(conn.LocalAddr())
	tapped := &tappedConn{PacketConn: conn, local: h.addr, tap: func(src, dst netip.AddrPort, b []byte) {
		d.captureUDP(src, dst, b)
		if len(b) > 0 {
			m.mark(radiusEvent(b[0]))
		}
	}}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = h.radius.Serve(sctx, tapped)
	}()
	h.stop = func() { cancel(); <-done }
	return h, nil
}

func radiusEvent(code byte) string {
	switch code {
	case radiusAccessRequest:
		return "access-request"
	case radiusAccessAccept:
		return "access-accept"
	case radiusAccessReject:
		return "access-reject"
	}
	return "radius"
}

// tappedConn is the RADIUS server's socket with every datagram recorded:
// the requests it reads and the replies it writes. On loopback this is
// every datagram between the PAR's radius.Client and the server, each
// once, in order (a reply is recorded before it is written, so before the
// client can act on it).
type tappedConn struct {
	net.PacketConn
	local netip.AddrPort
	tap   func(src, dst netip.AddrPort, b []byte)
}

func (c *tappedConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := c.PacketConn.ReadFrom(b)
	if err == nil {
		c.tap(addrPortOf(from), c.local, b[:n])
	}
	return n, from, err
}

func (c *tappedConn) WriteTo(b []byte, to net.Addr) (int, error) {
	c.tap(c.local, addrPortOf(to), b)
	return c.PacketConn.WriteTo(b, to)
}

func addrPortOf(a net.Addr) netip.AddrPort {
	if u, ok := a.(*net.UDPAddr); ok {
		ap := u.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

// captureUDP writes one RADIUS datagram to the pcap file as an IPv4/UDP
// packet.
func (d *Demo) captureUDP(src, dst netip.AddrPort, payload []byte) {
	b, err := capture.UDPv4(src, dst, payload)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sum.Packets++
	d.radiusPackets++
	if d.pcap == nil || d.pcapErr != nil {
		return
	}
	if err == nil {
		err = d.pcap.WritePacket(time.Now(), b)
	}
	d.pcapErr = err
}

// timedKeyServer marks the start and end of each HKS call and keeps the
// last call's error.
type timedKeyServer struct {
	ks   aaa.KeyServer
	mark func(string)

	mu      sync.Mutex
	lastErr error
}

func (t *timedKeyServer) RequestKey(ctx context.Context, req aaa.KeyRequest) (aaa.KeyResponse, error) {
	t.mark("hks-start")
	kr, err := t.ks.RequestKey(ctx, req)
	t.mark("hks-end")
	t.mu.Lock()
	t.lastErr = err
	t.mu.Unlock()
	return kr, err
}

func (t *timedKeyServer) err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lastErr
}

// marks records when events of the exchange first happen: the HKReq and
// HKResp on the in-memory network, the RADIUS datagrams, the HKS call;
// the step durations are the differences.
type marks struct {
	cp mh.Codepoints

	mu sync.Mutex
	at map[string]time.Time
}

func newMarks() *marks { return &marks{cp: mh.DefaultCodepoints(), at: map[string]time.Time{}} }

func (m *marks) mark(ev string) {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.at[ev]; !ok {
		m.at[ev] = now
	}
}

// tap marks the HKReqs and HKResps of the in-memory network.
func (m *marks) tap(p netio.Packet) {
	if p.NextHeader != inet.ProtocolMobility || len(p.Payload) < 3 {
		return
	}
	switch p.Payload[2] {
	case m.cp.HandoverKeyRequest:
		m.mark("hkreq")
	case m.cp.HandoverKeyResponse:
		m.mark("hkresp")
	}
}

// take returns the marks and clears them.
func (m *marks) take() map[string]time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	at := m.at
	m.at = map[string]time.Time{}
	return at
}

// between returns the time from event a to event b, 0 if either is
// missing or they are out of order.
func between(at map[string]time.Time, a, b string) time.Duration {
	ta, okA := at[a]
	tb, okB := at[b]
	if !okA || !okB || tb.Before(ta) {
		return 0
	}
	return tb.Sub(ta)
}
