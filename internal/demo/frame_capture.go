package demo

import (
	"encoding/binary"
	"errors"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/scenario"
	"github.com/fhkey/fhkey/internal/testbed"
)

// capturePoint is an interface of a testbed node that a demo captures on.
type capturePoint struct {
	node  testbed.Node
	iface string
}

// mskCapturePoints are where the MSK demo captures: the PAR's access link
// (the MN's EAPOL), its PAR–NAR link (the NAR's RADIUS, the FBU and
// FBack), its loopback (its own RADIUS to FreeRADIUS on its address) and
// the NAR's access link (the MN's EAPOL there).
var mskCapturePoints = []capturePoint{
	{testbed.PAR, testbed.IfaceAccess}, {testbed.PAR, testbed.IfacePARToNAR}, {testbed.PAR, "lo"}, {testbed.NAR, testbed.IfaceAccess},
}

// capturedFrame is one frame kept for the pcap file.
type capturedFrame struct {
	at   time.Time
	data []byte
}

// frameCapture reads frames at a demo's capture points and keeps those
// the demo is about (mskFrame, tlsFrame).
type frameCapture struct {
	conns  []*netio.FrameCapture
	wg     sync.WaitGroup
	mu     sync.Mutex
	frames []capturedFrame
}

// startFrameCapture opens AF_PACKET captures at points, inside their
// namespaces, and keeps the Ethernet frames for which keep is true (on a
// loopback interface each once, as it comes in).
func startFrameCapture(tb *testbed.Testbed, points []capturePoint, keep func([]byte) bool) (*frameCapture, error) {
	c := &frameCapture{}
	for _, p := range points {
		var fc *netio.FrameCapture
		if err := tb.Do(p.node, func() error {
			var err error
			fc, err = netio.CaptureFrames(p.iface)
			return err
		}); err != nil {
			c.closeAll()
			return nil, err
		}
		c.conns = append(c.conns, fc)
		loopback := p.iface == "lo"
		c.wg.Go(func() {
			for {
				b := make([]byte, 65536)
				n, outgoing, at, err := fc.ReadFrame(b)
				if err != nil {
					return
				}
				if (loopback && outgoing) || !keep(b[:n]) {
					continue
				}
				c.mu.Lock()
				c.frames = append(c.frames, capturedFrame{at: at, data: b[:n:n]})
				c.mu.Unlock()
			}
		})
	}
	return c, nil
}

func (c *frameCapture) closeAll() {
	for _, fc := range c.conns {
		fc.Close()
	}
}

// finish stops the capture and writes the frames in time order to file
// (pcap, link type Ethernet); it returns how many.
func (c *frameCapture) finish(file string) (int, error) {
	c.closeAll()
	c.wg.Wait()
	slices.SortStableFunc(c.frames, func(a, b capturedFrame) int { return a.at.Compare(b.at) })
	f, err := os.Create(file)
	if err != nil {
		return 0, err
	}
	w := pcapgo.NewWriter(f)
	err = w.WriteFileHeader(65536, layers.LinkTypeEthernet)
	for _, fr := range c.frames {
		if err != nil {
			break
		}
		err = w.WritePacket(gopacketInfo(fr), fr.data)
	}
	return len(c.frames), errors.Join(err, f.Close())
}

// mskFrame reports an Ethernet frame carrying EAPOL (EtherType 0x888E),
// or IPv6 with a Mobility Header (next header 135, directly or after a
// Destination Options header carrying the Home Address option) or UDP to
// or from port 1812 (RADIUS).
func mskFrame(b []byte) bool {
	if len(b) >= 14 && binary.BigEndian.Uint16(b[12:14]) == netio.EtherTypeEAPOL {
		return true
	}
	next, rest, ok := ipv6Upper(b)
	switch {
	case !ok:
		return false
	case next == 135:
		return true
	case next == 17:
		return hasPort(rest, 1812)
	}
	return false
}

// ipv6Upper returns the upper-layer protocol of an Ethernet frame carrying
// IPv6 and its header and payload, past a Destination Options header (RFC
// 8200 §4.6; the Home Address option's); ok is false for anything else.
func ipv6Upper(b []byte) (next uint8, rest []byte, ok bool) {
	if len(b) < 14+40 || binary.BigEndian.Uint16(b[12:14]) != 0x86dd {
		return 0, nil, false
	}
	ip := b[14:]
	next, rest = ip[6], ip[40:]
	if next == 60 && len(rest) >= 2 {
		next, rest = rest[0], rest[min(len(rest), 8*(int(rest[1])+1)):]
	}
	return next, rest, true
}

// hasPort reports a TCP or UDP header (source and destination port first)
// from or to port.
func hasPort(l4 []byte, port uint16) bool {
	return len(l4) >= 4 && (binary.BigEndian.Uint16(l4[0:2]) == port || binary.BigEndian.Uint16(l4[2:4]) == port)
}

// gopacketInfo is the pcap record header of fr.
func gopacketInfo(fr capturedFrame) gopacket.CaptureInfo {
	return gopacket.CaptureInfo{Timestamp: fr.at, CaptureLength: len(fr.data), Length: len(fr.data)}
}

// tlsCapturePoints are where the RFC 6618 testbed demo captures: the
// HAC's link (the MN's TLS connections to the HAC) and the HA's link (the
// §6 UDP data plane between the MN's care-of address and the HA, and the
// attacker's copies).
var tlsCapturePoints = []capturePoint{{testbed.HAC, testbed.IfaceCore}, {testbed.HA, testbed.IfaceCore}}

// tlsFrame reports an IPv6 frame of TCP from or to the HAC's port
// (scenario.TLSHACPort: the bootstrap, RFC 6618 §5) or UDP from or to the
// HA's port (scenario.TLSHAPort, §6.1); not the HAC→HA channel, not
// RADIUS.
func tlsFrame(b []byte) bool {
	next, rest, ok := ipv6Upper(b)
	return ok && ((next == 6 && hasPort(rest, scenario.TLSHACPort)) || (next == 17 && hasPort(rest, scenario.TLSHAPort)))
}
