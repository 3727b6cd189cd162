package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fhkey/fhkey/internal/ar"
	"github.com/fhkey/fhkey/internal/forward"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/internal/testenv"
	"github.com/fhkey/fhkey/mh"
)

// snmp6 returns a counter of /proc/net/snmp6 in node's namespace.
func snmp6(t *testing.T, b *bed, node testbed.Node, name string) uint64 {
	t.Helper()
	var v uint64
	if err := b.tb.Do(node, func() error {
		f, err := os.Open("/proc/thread-self/net/snmp6") // this thread is in the node's namespace; /proc/self shows the main thread's
		if err != nil {
			return err
		}
		defer f.Close()
		s := bufio.NewScanner(f)
		for s.Scan() {
			if fs := strings.Fields(s.Text()); len(fs) == 2 && fs[0] == name {
				v, err = strconv.ParseUint(fs[1], 10, 64)
				return err
			}
		}
		return s.Err()
	}); err != nil {
		t.Fatal(err)
	}
	return v
}

// rawPacket builds a whole IPv6 packet: header, optional extension header
// bytes (ext, whose first octet is patched to upper) and the upper-layer
// payload as given (checksum untouched).
func rawPacket(t *testing.T, src, dst netip.Addr, hopLimit uint8, upper uint8, ext, payload []byte) []byte {
	t.Helper()
	next := upper
	if len(ext) > 0 {
		next = 60
		ext[0] = upper
	}
	h := forward.Header{PayloadLength: uint16(len(ext) + len(payload)), NextHeader: next, HopLimit: hopLimit, Source: src, Destination: dst}
	b, err := h.AppendTo(nil)
	if err != nil {
		t.Fatal(err)
	}
	return append(append(b, ext...), payload...)
}

// rawSender opens an IPPROTO_RAW socket in node's namespace, closed when
// the test ends, and returns a function that sends a whole IPv6 packet
// (rawPacket: any source, the unspecified address included) towards dst.
func rawSender(t *testing.T, b *bed, node testbed.Node, dst netip.Addr) func(pkt []byte) {
	t.Helper()
	raw := -1
	if err := b.tb.Do(node, func() error {
		var err error
		raw, err = unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(raw) })
	return func(pkt []byte) {
		t.Helper()
		if err := unix.Sendto(raw, pkt, 0, &unix.SockaddrInet6{Addr: dst.As16()}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMalformedPacketsAtRouter sends malformed RtSolPrs and FBUs at the
// PAR over raw sockets from the MN's namespace: each is counted and dropped,
// nothing is stored or bound, and the PAR then serves the legitimate MN.
func TestMalformedPacketsAtRouter(t *testing.T) {
	t.Parallel()
	b := newBed(t, "m", false)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	par := b.par(nil)
	m := b.mobile()
	parAddr := par.Address()
	pcoa, ncoa := m.PCoA.Address, m.NCoA.Address

	var icmp *netio.ICMPConn
	var mhc *netio.MHConn
	if err := b.tb.Do(testbed.MN, func() error {
		var err error
		if icmp, err = netio.ListenICMP(netio.ICMPConfig{Interface: testbed.IfaceMNToPAR}); err != nil {
			return err
		}
		mhc, err = netio.ListenMH(netio.MHConfig{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer icmp.Close()
	defer mhc.Close()
	sendRaw := rawSender(t, b, testbed.MN, parAddr)

	valid, err := m.Role.Solicit(parAddr, m.PCoA)
	if err != nil {
		t.Fatal(err)
	}
	sendICMP := func(payload []byte) {
		t.Helper()
		if err := icmp.WritePacket(ctx, netio.Packet{Src: pcoa, Dst: parAddr, HopLimit: 255, NextHeader: inet.ProtocolICMPv6, Payload: payload}); err != nil {
			t.Fatal(err)
		}
	}
	// wait polls the router's counters until cond holds.
	wait := func(what string, cond func(ar.Stats) bool) {
		t.Helper()
		testenv.Eventually(t, 10*time.Second, what, func() (bool, string) {
			st := par.Role.Stats()
			return cond(st), fmt.Sprintf("router stats %+v", st)
		})
	}

	// RtSolPrs.
	sendICMP(valid.Payload[:6]) // truncated inside the fixed header (Identifier cut)
	wait("truncated RtSolPr", func(s ar.Stats) bool { return s.RtSolPrMalformed == 1 })
	zeroLen := append([]byte(nil), valid.Payload...)
	zeroLen[9] = 0 // first option length 0 (RFC 4861 §4.6: "MUST silently discard")
	sendICMP(zeroLen)
	wait("zero option length", func(s ar.Stats) bool { return s.RtSolPrMalformed == 2 })
	longLen := append([]byte(nil), valid.Payload...)
	longLen[9] = 0xff // first option runs past the message
	sendICMP(longLen)
	wait("option past the end", func(s ar.Stats) bool { return s.RtSolPrMalformed == 3 })
	// A wrong ICMPv6 checksum: the kernel discards it before any socket
	// (counted as Icmp6InCsumErrors in the PAR's namespace).
	csumBefore := snmp6(t, b, testbed.PAR, "Icmp6InCsumErrors")
	bad := append([]byte(nil), valid.Payload...)
	bad[2], bad[3] = 0xde, 0xad
	sendRaw(rawPacket(t, pcoa, parAddr, 255, inet.ProtocolICMPv6, nil, bad))
	testenv.Eventually(t, 10*time.Second, "wrong ICMPv6 checksum", func() (bool, string) {
		n := snmp6(t, b, testbed.PAR, "Icmp6InCsumErrors")
		return n == csumBefore+1, fmt.Sprintf("Icmp6InCsumErrors %d, was %d", n, csumBefore)
	})

	// FBUs (the MN holds no key yet; the PAR has none either).
	garbage := []byte{59, 0, 8, 0, 0, 0, 0xff, 0xff} // MH type FBU, body cut short
	if err := mhc.WritePacket(ctx, netio.Packet{Src: ncoa, Dst: parAddr, NextHeader: inet.ProtocolMobility, HomeAddress: pcoa, Payload: garbage}); err != nil {
		t.Fatal(err)
	}
	wait("garbage MH", func(s ar.Stats) bool { return s.FBUMalformed == 1 })

	if ev, err := m.RequestKey(ctx, parAddr); err != nil || ev.Kind != mn.KeyProvisioned {
		t.Fatalf("RequestKey after the malformed RtSolPrs: %v %v", ev.Kind, err)
	}
	fbu, err := m.Role.FastBindingUpdate(parAddr, pcoa, ncoa, false)
	if err != nil {
		t.Fatal(err)
	}
	// BADF not last: an unknown option appended after it, Header Len
	// grown by one 8-octet unit (RFC 5568 §6.4.5: "This option MUST be the
	// last option").
	notLast := append(append([]byte(nil), fbu.Payload...), 0x7f, 6, 0, 0, 0, 0, 0, 0)
	notLast[1]++
	if err := mhc.WritePacket(ctx, netio.Packet{Src: ncoa, Dst: parAddr, NextHeader: inet.ProtocolMobility, HomeAddress: pcoa, Payload: notLast}); err != nil {
		t.Fatal(err)
	}
	wait("BADF not last", func(s ar.Stats) bool { return s.FBUMalformed == 2 })
	// A genuine FBU with a wrong checksum, carrying the Home Address
	// option: the transport itself verifies it and drops it.
	dropped := par.MH.Dropped()
	dst, err := netio.AppendHomeAddressHeader(nil, inet.ProtocolMobility, pcoa)
	if err != nil {
		t.Fatal(err)
	}
	wrong := append([]byte(nil), fbu.Payload...)
	wrong[4] ^= 0xff
	sendRaw(rawPacket(t, ncoa, parAddr, 64, inet.ProtocolMobility, dst, wrong))
	testenv.Eventually(t, 10*time.Second, "FBU with a wrong checksum", func() (bool, string) {
		n := par.MH.Dropped()
		return n == dropped+1, fmt.Sprintf("MH transport dropped %d, want %d", n, dropped+1)
	})
	if _, ok := par.Binding(pcoa); ok {
		t.Fatal("a malformed FBU installed a binding")
	}
	st := par.Role.Stats()
	if st.FBUAccepted != 0 || st.FBUBadAuth != 0 || st.KeysCreated != 1 || st.RtSolPrSENDFailed != 0 {
		t.Fatalf("router stats %+v", st)
	}

	// The legitimate MN is still served.
	if err := m.Move(ctx); err != nil {
		t.Fatal(err)
	}
	fb, err := m.FastHandover(ctx, parAddr)
	if err != nil || fb.Status != mh.FastStatusAccepted {
		t.Fatalf("FastHandover after the malformed packets: %d %v", fb.Status, err)
	}
	if st := par.Role.Stats(); !oneExchange(st.FBUAccepted) || st.FBUMalformed != 2 || st.RtSolPrMalformed != 3 {
		t.Fatalf("final router stats %+v", st)
	}
}
