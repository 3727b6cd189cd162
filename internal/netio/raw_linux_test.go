//go:build linux

package netio

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/internal/testenv"
)

var allRouters = netip.MustParseAddr("ff02::2")

// shared is the testbed used by the tests that keep the MN on the PAR's
// link; TestMain removes it.
var shared struct {
	once sync.Once
	tb   *testbed.Testbed
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.tb != nil {
		if err := shared.tb.Down(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

func requireTestbed(t testing.TB) {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
}

func sharedTestbed(t testing.TB) *testbed.Testbed {
	t.Helper()
	requireTestbed(t)
	shared.once.Do(func() {
		shared.tb, shared.err = testbed.Up(context.Background(), testbed.Config{Prefix: fmt.Sprintf("fhk-n%d-", os.Getpid())})
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.tb
}

func ownTestbed(t testing.TB, tag string) *testbed.Testbed {
	t.Helper()
	requireTestbed(t)
	prefix := fmt.Sprintf("fhk-%s%d-", tag, os.Getpid())
	tb, err := testbed.Up(context.Background(), testbed.Config{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := tb.Down(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return tb
}

func listenICMP(t testing.TB, tb *testbed.Testbed, n testbed.Node, cfg ICMPConfig) *ICMPConn {
	t.Helper()
	var c *ICMPConn
	if err := tb.Do(n, func() (err error) { c, err = ListenICMP(cfg); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func listenMH(t testing.TB, tb *testbed.Testbed, n testbed.Node, cfg MHConfig) *MHConn {
	t.Helper()
	var c *MHConn
	if err := tb.Do(n, func() (err error) { c, err = ListenMH(cfg); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func read(t testing.TB, c Conn) Packet {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	p, err := c.ReadPacket(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return p
}

func write(t testing.TB, c Conn, p Packet) {
	t.Helper()
	if err := c.WritePacket(context.Background(), p); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func linkLocal(t testing.TB, c Conn) netip.Addr {
	t.Helper()
	for _, a := range c.Addrs() {
		if a.IsLinkLocalUnicast() {
			return a
		}
	}
	t.Fatalf("no link-local address in %v", c.Addrs())
	return netip.Addr{}
}

// rtSolPr is an RtSolPr-shaped ICMPv6 message (RFC 5568 §6.1.1): Type
// 154, Code 0, Checksum, Subtype 2, Reserved, Identifier, and a Source
// Link-layer Address option. The checksum is left wrong on purpose: the
// kernel must overwrite it.
func rtSolPr(id uint16) []byte {
	return []byte{
		154, 0, // Type, Code
		0xde, 0xad, // Checksum: the kernel fills it in
		2, 0, // Subtype 2 (RtSolPr), Reserved
		byte(id >> 8), byte(id), // Identifier
		1, 1, 0x02, 0, 0, 0, 0, 1, // Source Link-layer Address option
	}
}

// checkICMPChecksum recomputes the checksum of a received message.
func checkICMPChecksum(t testing.TB, p Packet) {
	t.Helper()
	got := binary.BigEndian.Uint16(p.Payload[2:])
	z := bytes.Clone(p.Payload)
	z[2], z[3] = 0, 0
	if want := inet.Checksum(p.Src, p.Dst, inet.ProtocolICMPv6, z); got != want {
		t.Fatalf("checksum %#04x, want %#04x (src %v dst %v)", got, want, p.Src, p.Dst)
	}
}

func TestICMPTransport(t *testing.T) {
	tb := sharedTestbed(t)
	par := listenICMP(t, tb, testbed.PAR, ICMPConfig{Interface: testbed.IfaceAccess, Types: []uint8{154}, Groups: []netip.Addr{allRouters}})
	mn := listenICMP(t, tb, testbed.MN, ICMPConfig{Interface: testbed.IfaceMNToPAR, Types: []uint8{154}})
	parLL, mnLL := linkLocal(t, par), linkLocal(t, mn)
	if a := par.Addrs(); !containsAddr(a, testbed.AddrPAR) {
		t.Fatalf("PAR addresses %v lack %v", a, testbed.AddrPAR)
	}

	tests := []struct {
		name     string
		src, dst netip.Addr
		hop      uint8
		wantSrc  netip.Addr
		wantHop  uint8
	}{
		{"unicast to link-local, kernel source", netip.Addr{}, parLL, 0, mnLL, 255},
		{"unicast to global, chosen source", testbed.AddrMNPrevious, testbed.AddrPAR, 0, testbed.AddrMNPrevious, 255},
		{"multicast all-routers", netip.Addr{}, allRouters, 0, mnLL, 255},
		{"multicast, link-local source chosen", mnLL, allRouters, 0, mnLL, 255},
		{"hop limit 64 is reported, not assumed", netip.Addr{}, parLL, 64, mnLL, 64},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sent := rtSolPr(uint16(i))
			write(t, mn, Packet{Src: tt.src, Dst: tt.dst, HopLimit: tt.hop, NextHeader: inet.ProtocolICMPv6, Payload: sent})
			p := read(t, par)
			if p.Src != tt.wantSrc || p.Dst != tt.dst || p.HopLimit != tt.wantHop || p.NextHeader != inet.ProtocolICMPv6 || p.HomeAddress.IsValid() {
				t.Fatalf("got src %v dst %v hop %d nh %d hoa %v; want src %v dst %v hop %d", p.Src, p.Dst, p.HopLimit, p.NextHeader, p.HomeAddress, tt.wantSrc, tt.dst, tt.wantHop)
			}
			if !bytes.Equal(p.Payload[4:], sent[4:]) || p.Payload[0] != 154 {
				t.Fatalf("payload % x, sent % x", p.Payload, sent)
			}
			checkICMPChecksum(t, p)
		})
	}

	t.Run("filter drops types not listed", func(t *testing.T) {
		for _, typ := range []byte{148, 155, 134} {
			m := rtSolPr(0xeeee)
			m[0] = typ
			write(t, mn, Packet{Dst: parLL, Payload: m})
		}
		write(t, mn, Packet{Dst: parLL, Payload: rtSolPr(0x7777)})
		if p := read(t, par); p.Payload[0] != 154 || binary.BigEndian.Uint16(p.Payload[6:]) != 0x7777 {
			t.Fatalf("filtered type delivered: % x", p.Payload)
		}
	})

	t.Run("kernel refuses IPV6_CHECKSUM on ICMPv6", func(t *testing.T) {
		err := tb.Do(testbed.MN, func() error {
			fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMPV6)
			if err != nil {
				return err
			}
			defer unix.Close(fd)
			return unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_CHECKSUM, 2)
		})
		if !errors.Is(err, unix.EINVAL) {
			t.Fatalf("setsockopt IPV6_CHECKSUM on ICMPv6: %v, want EINVAL", err)
		}
	})

	t.Run("bad writes", func(t *testing.T) {
		for _, p := range []Packet{
			{Dst: parLL, NextHeader: inet.ProtocolMobility, Payload: rtSolPr(1)},
			{Dst: parLL, HomeAddress: testbed.AddrMNPrevious, Payload: rtSolPr(1)},
			{Dst: netip.MustParseAddr("192.0.2.1"), Payload: rtSolPr(1)},
			{Dst: parLL, Payload: []byte{154, 0, 0}},
			{Src: netip.MustParseAddr("2001:db8:77::1"), Dst: parLL, Payload: rtSolPr(1)}, // not our address
		} {
			if err := mn.WritePacket(context.Background(), p); err == nil {
				t.Errorf("write %+v succeeded", p)
			}
		}
	})
}

func containsAddr(as []netip.Addr, a netip.Addr) bool {
	for _, x := range as {
		if x == a {
			return true
		}
	}
	return false
}

func TestICMPListenAndClose(t *testing.T) {
	tb := sharedTestbed(t)
	for _, cfg := range []ICMPConfig{{}, {Interface: "no-such0"}} {
		if err := tb.Do(testbed.MN, func() error { _, err := ListenICMP(cfg); return err }); err == nil {
			t.Errorf("ListenICMP(%+v) succeeded", cfg)
		}
	}
	c := listenICMP(t, tb, testbed.MN, ICMPConfig{Interface: testbed.IfaceMNToPAR})
	if err := c.JoinGroup(netip.MustParseAddr("2001:db8::1")); err == nil {
		t.Error("joined a unicast group")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.ReadPacket(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("read with cancelled context: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := c.ReadPacket(context.Background()); done <- err }()
	waitBlocked(t, c.queue)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("blocked read after close: %v", err)
	}
	if err := c.WritePacket(context.Background(), Packet{Dst: allRouters, Payload: rtSolPr(1)}); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

// bindingUpdate is a Binding Update-shaped Mobility Header (RFC 6275
// §6.1.7): 12 octets of header and message, PadN to 16 (Header Len 1).
func bindingUpdate(seq uint16) []byte {
	return []byte{
		59, 1, // Payload Proto: none; Header Len: (1+1)*8 = 16 octets
		5, 0, // MH Type 5 (Binding Update), Reserved
		0, 0, // Checksum: computed by the transport or the kernel
		byte(seq >> 8), byte(seq), // Sequence #
		0x80, 0, // A flag, reserved
		0, 4, // Lifetime: 4 units of 4 s
		1, 2, 0, 0, // PadN(2)
	}
}

func checkMHChecksum(t testing.TB, p Packet) {
	t.Helper()
	src := p.Src
	if p.HomeAddress.IsValid() {
		src = p.HomeAddress // RFC 6275 §6.1.1
	}
	if s := inet.Checksum(src, p.Dst, inet.ProtocolMobility, p.Payload); s != 0 {
		t.Fatalf("mobility header checksum does not verify (%#04x) for src %v dst %v", s, src, p.Dst)
	}
}

// rawMH sends Mobility Headers from node n with no kernel checksum,
// optionally with a Home Address option: the sender of damaged packets.
func rawMH(t testing.TB, tb *testbed.Testbed, n testbed.Node) func(payload []byte, dst, home netip.Addr) {
	t.Helper()
	var fd int
	if err := tb.Do(n, func() (err error) {
		if fd, err = unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_MH); err != nil {
			return err
		}
		return unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_CHECKSUM, -1)
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return func(payload []byte, dst, home netip.Addr) {
		t.Helper()
		var oob []byte
		if home.IsValid() {
			h, err := AppendHomeAddressHeader(nil, 0, home)
			if err != nil {
				t.Fatal(err)
			}
			oob = appendCmsg(nil, unix.IPPROTO_IPV6, unix.IPV6_DSTOPTS, h)
		}
		if _, err := unix.SendmsgN(fd, payload, oob, &unix.SockaddrInet6{Addr: dst.As16()}, 0); err != nil {
			t.Fatal(err)
		}
	}
}

func withChecksum(m []byte, src, dst netip.Addr) []byte {
	m = bytes.Clone(m)
	m[4], m[5] = 0, 0
	binary.BigEndian.PutUint16(m[4:], inet.Checksum(src, dst, inet.ProtocolMobility, m))
	return m
}

func TestMHTransport(t *testing.T) {
	tb := sharedTestbed(t)
	par := listenMH(t, tb, testbed.PAR, MHConfig{}) // every interface
	mn := listenMH(t, tb, testbed.MN, MHConfig{Interface: testbed.IfaceMNToPAR})
	pcoa, dst := testbed.AddrMNPrevious, testbed.AddrPAR
	otherHome := netip.MustParseAddr("2001:db8:99::2")

	tests := []struct {
		name string
		home netip.Addr
	}{
		{"no home address option: kernel checksum", netip.Addr{}},
		{"home address = PCoA (RFC 5568 §6.2.3)", pcoa},
		{"home address differs from source", otherHome},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sent := bindingUpdate(uint16(100 + i))
			write(t, mn, Packet{Src: pcoa, Dst: dst, NextHeader: inet.ProtocolMobility, HomeAddress: tt.home, Payload: sent})
			p := read(t, par)
			if p.Src != pcoa || p.Dst != dst || p.HomeAddress != tt.home || p.NextHeader != inet.ProtocolMobility || p.HopLimit != 64 {
				t.Fatalf("got src %v dst %v home %v nh %d hop %d", p.Src, p.Dst, p.HomeAddress, p.NextHeader, p.HopLimit)
			}
			if !bytes.Equal(p.Payload[6:], sent[6:]) || !bytes.Equal(p.Payload[:4], sent[:4]) {
				t.Fatalf("payload % x, sent % x", p.Payload, sent)
			}
			checkMHChecksum(t, p)
			if tt.home.IsValid() && tt.home != pcoa && inet.Checksum(p.Src, p.Dst, inet.ProtocolMobility, p.Payload) == 0 {
				t.Fatal("checksum computed over the care-of address, not the home address")
			}
		})
	}

	send := rawMH(t, tb, testbed.MN)
	// marker sends a good packet after a damaged one, through the same
	// receiving socket (with or without a Home Address option), and
	// checks it is the next one read.
	marker := func(t *testing.T, seq uint16, home netip.Addr) {
		t.Helper()
		write(t, mn, Packet{Dst: dst, HomeAddress: home, Payload: bindingUpdate(seq)})
		if p := read(t, par); binary.BigEndian.Uint16(p.Payload[6:]) != seq {
			t.Fatalf("got sequence %d before the marker %d: a damaged packet was delivered", binary.BigEndian.Uint16(p.Payload[6:]), seq)
		}
	}
	t.Run("raw sender works", func(t *testing.T) {
		// The damaged-packet sender delivers good packets, so the drops
		// below are the receiver's doing.
		send(withChecksum(bindingUpdate(200), pcoa, dst), dst, netip.Addr{})
		if p := read(t, par); binary.BigEndian.Uint16(p.Payload[6:]) != 200 || p.HomeAddress.IsValid() {
			t.Fatalf("got % x", p.Payload)
		}
		send(withChecksum(bindingUpdate(201), otherHome, dst), dst, otherHome)
		if p := read(t, par); binary.BigEndian.Uint16(p.Payload[6:]) != 201 || p.HomeAddress != otherHome {
			t.Fatalf("got % x home %v", p.Payload, p.HomeAddress)
		}
	})
	t.Run("kernel drops a bad checksum", func(t *testing.T) {
		bad := withChecksum(bindingUpdate(300), pcoa, dst)
		bad[5] ^= 0xff
		send(bad, dst, netip.Addr{})
		marker(t, 301, netip.Addr{})
	})
	t.Run("transport drops a bad checksum with a home address option", func(t *testing.T) {
		before := par.Dropped()
		// The checksum a plain kernel computes: over the care-of address.
		send(withChecksum(bindingUpdate(400), pcoa, dst), dst, otherHome)
		marker(t, 401, otherHome)
		if d := par.Dropped() - before; d != 1 {
			t.Fatalf("dropped %d, want 1", d)
		}
	})
	t.Run("bad writes", func(t *testing.T) {
		for _, p := range []Packet{
			{Dst: dst, NextHeader: inet.ProtocolICMPv6, Payload: bindingUpdate(1)},
			{Dst: dst, HomeAddress: netip.MustParseAddr("ff02::1"), Payload: bindingUpdate(1)},
			{Dst: dst, Payload: []byte{59, 0, 5, 0, 0}},
		} {
			if err := mn.WritePacket(context.Background(), p); err == nil {
				t.Errorf("write %+v succeeded", p)
			}
		}
	})
}

// echo sends an Echo Request from c to dst and reports whether the reply
// came back within 700 ms.
func echo(t *testing.T, c *ICMPConn, dst netip.Addr, seq uint16) bool {
	t.Helper()
	write(t, c, Packet{Dst: dst, Payload: []byte{128, 0, 0, 0, 0xfe, 0xed, byte(seq >> 8), byte(seq)}})
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	for {
		p, err := c.ReadPacket(ctx)
		if err != nil {
			return false
		}
		if p.Src == dst && len(p.Payload) >= 8 && binary.BigEndian.Uint16(p.Payload[6:]) == seq {
			return true
		}
	}
}

func TestMoveAndFBUFromNewLink(t *testing.T) {
	tb := ownTestbed(t, "m")
	cn := listenICMP(t, tb, testbed.CN, ICMPConfig{Interface: testbed.IfaceCNToPAR, Types: []uint8{129}})
	par := listenMH(t, tb, testbed.PAR, MHConfig{})
	if !echo(t, cn, testbed.AddrMNPrevious, 1) {
		t.Fatal("PCoA unreachable before the move")
	}
	if echo(t, cn, testbed.AddrMNNew, 2) {
		t.Fatal("NCoA reachable before the move")
	}
	if err := tb.Move(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !echo(t, cn, testbed.AddrMNNew, 3) {
		t.Fatal("NCoA unreachable after the move")
	}
	if echo(t, cn, testbed.AddrMNPrevious, 4) {
		t.Fatal("PCoA still reachable after the move")
	}
	// An FBU from the new link: source NCoA, Home Address option PCoA
	// (RFC 5568 §6.2.3), routed NAR → PAR.
	mn := listenMH(t, tb, testbed.MN, MHConfig{Interface: testbed.IfaceMNToNAR})
	write(t, mn, Packet{Src: testbed.AddrMNNew, Dst: testbed.AddrPAR, HomeAddress: testbed.AddrMNPrevious, Payload: bindingUpdate(9)})
	p := read(t, par)
	if p.Src != testbed.AddrMNNew || p.HomeAddress != testbed.AddrMNPrevious || p.Dst != testbed.AddrPAR || p.HopLimit != 63 {
		t.Fatalf("FBU from the new link: src %v home %v dst %v hop %d", p.Src, p.HomeAddress, p.Dst, p.HopLimit)
	}
	checkMHChecksum(t, p)
}

func BenchmarkICMPRoundTrip(b *testing.B) {
	tb := sharedTestbed(b)
	par := listenICMP(b, tb, testbed.PAR, ICMPConfig{Interface: testbed.IfaceAccess, Types: []uint8{154}})
	mn := listenICMP(b, tb, testbed.MN, ICMPConfig{Interface: testbed.IfaceMNToPAR, Types: []uint8{154}})
	dst := linkLocal(b, par)
	m := rtSolPr(1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := mn.WritePacket(ctx, Packet{Dst: dst, Payload: m}); err != nil {
			b.Fatal(err)
		}
		if _, err := par.ReadPacket(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMHHomeAddressRoundTrip(b *testing.B) {
	tb := sharedTestbed(b)
	par := listenMH(b, tb, testbed.PAR, MHConfig{})
	mn := listenMH(b, tb, testbed.MN, MHConfig{Interface: testbed.IfaceMNToPAR})
	p := Packet{Src: testbed.AddrMNPrevious, Dst: testbed.AddrPAR, HomeAddress: testbed.AddrMNPrevious, Payload: bindingUpdate(1)}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := mn.WritePacket(ctx, p); err != nil {
			b.Fatal(err)
		}
		if _, err := par.ReadPacket(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
