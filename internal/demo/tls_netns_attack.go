package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/fhkey/fhkey/internal/mip6mn"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/node"
	"github.com/fhkey/fhkey/internal/scenario"
	"github.com/fhkey/fhkey/internal/testbed"
)

// haSniffer keeps the last UDP datagram (payload only) that reached the
// HA's link from the MN's care-of address for the HA's service port: the
// attacker's raw material for the tampered and the replayed packet.
type haSniffer struct {
	fc   *netio.FrameCapture
	wg   sync.WaitGroup
	mu   sync.Mutex
	last []byte
}

// sniffHA opens the capture on the HA's core0, inside its namespace.
func sniffHA(tb *testbed.Testbed) (*haSniffer, error) {
	s := &haSniffer{}
	if err := tb.Do(testbed.HA, func() (err error) {
		s.fc, err = netio.CaptureFrames(testbed.IfaceCore)
		return err
	}); err != nil {
		return nil, err
	}
	s.wg.Go(func() {
		for {
			b := make([]byte, 65536)
			n, outgoing, _, err := s.fc.ReadFrame(b)
			if err != nil {
				return
			}
			if outgoing {
				continue
			}
			p := gopacket.NewPacket(b[:n], layers.LayerTypeEthernet, gopacket.NoCopy)
			ip, _ := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
			udp, _ := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
			if ip == nil || udp == nil || int(udp.DstPort) != scenario.TLSHAPort || !testbed.PrefixNARLink.Contains(addrOf(ip.SrcIP)) {
				continue
			}
			s.mu.Lock()
			s.last = append([]byte(nil), udp.Payload...)
			s.mu.Unlock()
		}
	})
	return s, nil
}

func addrOf(ip net.IP) netip.Addr { a, _ := netip.AddrFromSlice(ip); return a.Unmap() }

// captured returns the last datagram seen.
func (s *haSniffer) captured() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.last...)
}

func (s *haSniffer) close() {
	s.fc.Close()
	s.wg.Wait()
}

// injectFromAttacker sends payload from the attacker's namespace to the
// HA's service port.
func injectFromAttacker(tb *testbed.Testbed, payload []byte) error {
	var c *net.UDPConn
	if err := tb.Do(testbed.Attacker, func() (err error) {
		c, err = net.DialUDP("udp6", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(testbed.AddrHA, scenario.TLSHAPort)))
		return err
	}); err != nil {
		return err
	}
	defer c.Close()
	_, err := c.Write(payload)
	return err
}

// waitUntil polls cond every 10 ms until it holds (true) or max passes.
func waitUntil(ctx context.Context, max time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(max); time.Now().Before(deadline) && ctx.Err() == nil; time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return false
}

// waitRegistered polls the mip6 daemon's /status until it is registered
// at coa with more than after BAs accepted.
func waitRegistered(ctx context.Context, mobile *scenario.Daemon, st *mip6mn.Status, coa netip.Addr, after uint64) bool {
	return waitUntil(ctx, 20*time.Second, func() bool {
		*st = mip6mn.Status{}
		return mobile.Status(st) == nil && st.State == mip6mn.StateRegistered && st.CareOf == coa &&
			st.Counters.BindingAcknowledgementsAccepted > after
	})
}

// haBinding reports whether the HA's /status binds the MN's home address
// under spi to coa.
func haBinding(home *scenario.Daemon, spi uint32, coa netip.Addr) bool {
	var st node.HAStatus
	if home.Status(&st) != nil {
		return false
	}
	for _, b := range st.Bindings {
		if b.HomeAddress == testbed.AddrMNHome && uint32(b.SPI) == spi && b.CareOf.Addr() == coa {
			return true
		}
	}
	return false
}

// errNoDatagram: the sniffer saw no datagram of the MN to replay.
var errNoDatagram = errors.New("demo: no datagram of the MN captured at the HA")

// kill SIGKILLs dm and forgets it (stopDaemons expects the others to exit
// with status 0).
func (s *daemonSet) kill(dm *scenario.Daemon) {
	dm.Kill()
	s.list = slices.DeleteFunc(s.list, func(x *scenario.Daemon) bool { return x == dm })
}

// stop stops dm with SIGTERM (it must exit with status 0) and forgets it.
func (s *daemonSet) stop(dm *scenario.Daemon) error {
	s.list = slices.DeleteFunc(s.list, func(x *scenario.Daemon) bool { return x == dm })
	return dm.Stop(10 * time.Second)
}

// homeEcho answers every datagram to the MN's home address (a socket in
// the MN's namespace bound to it, on the mip6 daemon's TUN) and asks it
// from the CN.
type homeEcho struct {
	server, cn *net.UDPConn
}

// openHomeEcho binds the echo once the home address is on the TUN (at
// most 5 s) and connects the CN's socket to it.
func openHomeEcho(ctx context.Context, tb *testbed.Testbed, port uint16) (*homeEcho, error) {
	e := &homeEcho{}
	hoa := net.UDPAddrFromAddrPort(netip.AddrPortFrom(testbed.AddrMNHome, port))
	var err error
	waitUntil(ctx, 5*time.Second, func() bool {
		err = tb.Do(testbed.MN, func() (err error) { e.server, err = net.ListenUDP("udp6", hoa); return err })
		return err == nil
	})
	if err != nil {
		return nil, fmt.Errorf("demo: home address not on the MN's TUN: %w", err)
	}
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := e.server.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			e.server.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	if err := tb.Do(testbed.CN, func() (err error) {
		e.cn, err = net.DialUDP("udp6", &net.UDPAddr{IP: testbed.AddrCN.AsSlice()}, hoa)
		return err
	}); err != nil {
		e.server.Close()
		return nil, err
	}
	return e, nil
}

// roundTrips sends n datagrams one at a time and counts the answers
// (each waited for up to 1 s).
func (e *homeEcho) roundTrips(n int) int {
	got := 0
	buf := make([]byte, 64)
	for i := range n {
		msg := fmt.Sprintf("round trip %d", i)
		if _, err := e.cn.Write([]byte(msg)); err != nil {
			continue
		}
		e.cn.SetReadDeadline(time.Now().Add(time.Second))
		for {
			k, err := e.cn.Read(buf)
			if err != nil {
				break
			}
			if string(buf[:k]) == msg {
				got++
				break
			}
		}
	}
	return got
}

func (e *homeEcho) close() {
	e.cn.Close()
	e.server.Close()
}
