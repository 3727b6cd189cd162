package demo

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fhkey/fhkey/internal/ha"
	"github.com/fhkey/fhkey/internal/hac"
	"github.com/fhkey/fhkey/internal/hac/hachannel"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/node"
	"github.com/fhkey/fhkey/mip6tls"
)

// The addresses of the TLS walk-through (documentation prefixes, RFC
// 3849): the home prefix and the MN's home address on it, the care-of
// address the MN registers (Alternate Care-of Address; the UDP source is
// loopback) and the correspondent node behind the home link.
var (
	tlsHomePrefix  = netip.MustParsePrefix("2001:db8:1::/64")
	tlsHomeAddress = netip.MustParseAddr("2001:db8:1::100")
	tlsCareOf      = netip.MustParseAddr("2001:db8:2::55")
	tlsCN          = netip.MustParseAddrPort("[2001:db8:9::9]:9000")
)

// TLSIdentity is the MN's NAI in the TLS walk-through (mip6-mn-id).
const TLSIdentity = "mn@example.com"

// echoLink is the HA's home link in process: each packet the HA puts on
// it is answered by a correspondent node that swaps the addresses and
// ports and says "reply"; Written gets a copy of what the HA wrote.
type echoLink struct {
	in      chan []byte
	written chan []byte
	wake    chan struct{}
	dead    atomic.Pointer[time.Time]
}

func newEchoLink() *echoLink {
	return &echoLink{in: make(chan []byte, 16), written: make(chan []byte, 16), wake: make(chan struct{}, 1)}
}

func (l *echoLink) Read(b []byte) (int, error) {
	for {
		if d := l.dead.Load(); d != nil && !time.Now().Before(*d) {
			return 0, os.ErrDeadlineExceeded
		}
		select {
		case p := <-l.in:
			return copy(b, p), nil
		case <-l.wake:
		}
	}
}

// Write takes a packet from the HA and queues the CN's answer.
func (l *echoLink) Write(b []byte) (int, error) {
	p := bytes.Clone(b)
	select {
	case l.written <- p:
	default:
	}
	if len(p) >= 48 && p[6] == inet.ProtocolUDP {
		src := netip.AddrPortFrom(netip.AddrFrom16([16]byte(p[8:24])), binary.BigEndian.Uint16(p[40:]))
		dst := netip.AddrPortFrom(netip.AddrFrom16([16]byte(p[24:40])), binary.BigEndian.Uint16(p[42:]))
		select {
		case l.in <- udpPacket(dst, src, append([]byte("reply to "), p[48:]...)):
		default:
		}
	}
	return len(b), nil
}

func (l *echoLink) SetReadDeadline(t time.Time) error {
	l.dead.Store(&t)
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return nil
}

func (l *echoLink) AddRoute(netip.Addr) error    { return nil }
func (l *echoLink) DeleteRoute(netip.Addr) error { return nil }
func (l *echoLink) Close() error                 { return nil }

// udpPacket is an IPv6/UDP packet src → dst with a valid checksum.
func udpPacket(src, dst netip.AddrPort, payload []byte) []byte {
	u := make([]byte, 8+len(payload))
	binary.BigEndian.PutUint16(u[0:], src.Port())
	binary.BigEndian.PutUint16(u[2:], dst.Port())
	binary.BigEndian.PutUint16(u[4:], uint16(len(u)))
	copy(u[8:], payload)
	binary.BigEndian.PutUint16(u[6:], inet.Checksum(src.Addr(), dst.Addr(), inet.ProtocolUDP, u))
	p := make([]byte, 40, 40+len(u))
	p[0] = 0x60
	binary.BigEndian.PutUint16(p[4:], uint16(len(u)))
	p[6], p[7] = inet.ProtocolUDP, 64
	s, d := src.Addr().As16(), dst.Addr().As16()
	copy(p[8:], s[:])
	copy(p[24:], d[:])
	return append(p, u...)
}

// tlsNodes are the HA and HAC nodes of the walk-through on loopback, and
// the lab PKI their certificates come from.
type tlsNodes struct {
	pki  *lab.EAPPKI
	psk  []byte
	link *echoLink
	ha   *node.HA
	hac  *node.HAC
	wg   sync.WaitGroup
	stop context.CancelFunc
	errs []error
	mu   sync.Mutex
}

// startTLSNodes opens the HA node (UDP service port, fake home link, the
// HAC channel with mutual TLS 1.3) and the HAC node (TLS 1.3 with a lab
// certificate, one PSK subscriber, provisioning the HA over the channel)
// on loopback, and serves them until close.
func startTLSNodes(ctx context.Context, psk []byte) (*tlsNodes, error) {
	pki, err := lab.NewEAPPKI()
	if err != nil {
		return nil, err
	}
	n := &tlsNodes{pki: pki, psk: psk, link: newEchoLink()}
	loop := netip.MustParseAddrPort("[::1]:0")
	n.ha, err = node.OpenHA(node.HASpec{Listen: loop, HomeLink: n.link,
		Role:          ha.Config{HomePrefix: tlsHomePrefix, Address: netip.IPv6Loopback()},
		ChannelListen: loop,
		ChannelTLS: &tls.Config{Certificates: []tls.Certificate{pki.Server.TLS()}, ClientCAs: pool(pki.CA),
			ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS13}})
	if err != nil {
		return nil, err
	}
	subs := hac.NewMemory()
	if err := subs.Put(ctx, hac.Subscriber{Identity: TLSIdentity, Methods: []mip6tls.AuthMethod{mip6tls.AuthMethodPSK},
		PSK: psk, HomeAddress: tlsHomeAddress}); err != nil {
		_ = n.ha.Close()
		return nil, err
	}
	channel := &hachannel.Client{Addr: n.ha.ChannelAddr().String(), Conns: 1, TLS: &tls.Config{
		Certificates: []tls.Certificate{pki.Client.TLS()}, RootCAs: pool(pki.CA), ServerName: lab.EAPServerName}}
	n.hac, err = node.OpenHAC(node.HACSpec{Listen: loop, Certificate: pki.Server.TLS(), TLSMinVersion: tls.VersionTLS13,
		Role: hac.Config{Subscribers: subs, Provisioner: channel, HomeAgent: netip.IPv6Loopback(),
			Port: mip6tls.ServicePort(n.ha.Addr().Port())}})
	if err != nil {
		_ = n.ha.Close()
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.Background())
	n.stop = cancel
	for _, serve := range []func(context.Context) error{n.ha.Serve, n.hac.Serve} {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			if err := serve(sctx); err != nil && sctx.Err() == nil {
				n.mu.Lock()
				n.errs = append(n.errs, err)
				n.mu.Unlock()
			}
		}()
	}
	return n, nil
}

// close stops both nodes and returns what their Serve returned.
func (n *tlsNodes) close() error {
	n.stop()
	_ = n.hac.Close()
	n.wg.Wait()
	err := n.ha.Close()
	n.mu.Lock()
	defer n.mu.Unlock()
	return errors.Join(append(n.errs, err)...)
}

// haStats waits up to limit for cond on the HA's counters.
func (n *tlsNodes) haStats(limit time.Duration, cond func(ha.Stats) bool) (ha.Stats, bool) {
	deadline := time.Now().Add(limit)
	for {
		st := n.ha.Role.Stats()
		if cond(st) {
			return st, true
		}
		if time.Now().After(deadline) {
			return st, false
		}
		time.Sleep(time.Millisecond) // a demo polling a daemon's counter, not a test
	}
}

func describeAddr(a netip.AddrPort) string { return fmt.Sprintf("[%s]:%d", a.Addr(), a.Port()) }

// pool is a certificate pool holding c.
func pool(c *lab.EAPCert) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.Cert)
	return p
}
