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
	"github.com/fhkey/fhkey/internal/testbed"
)

// mskCapturePoints are where the MSK demo captures: the PAR's access link
// (the MN's EAPOL), its PAR–NAR link (the NAR's RADIUS, the FBU and
// FBack), its loopback (its own RADIUS to FreeRADIUS on its address) and
// the NAR's access link (the MN's EAPOL there).
var mskCapturePoints = []struct {
	node  testbed.Node
	iface string
}{
	{testbed.PAR, testbed.IfaceAccess}, {testbed.PAR, testbed.IfacePARToNAR}, {testbed.PAR, "lo"}, {testbed.NAR, testbed.IfaceAccess},
}

// capturedFrame is one frame kept for the pcap file.
type capturedFrame struct {
	at   time.Time
	data []byte
}

// frameCapture reads frames at mskCapturePoints and keeps those the demo
// is about: EAPOL, RADIUS (UDP port 1812) and Mobility Header.
type frameCapture struct {
	conns  []*netio.FrameCapture
	wg     sync.WaitGroup
	mu     sync.Mutex
	frames []capturedFrame
}

// startFrameCapture opens the captures inside the namespaces.
func startFrameCapture(tb *testbed.Testbed) (*frameCapture, error) {
	c := &frameCapture{}
	for _, p := range mskCapturePoints {
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
				if (loopback && outgoing) || !demoFrame(b[:n]) {
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

// demoFrame reports an Ethernet frame carrying EAPOL (EtherType 0x888E),
// or IPv6 with a Mobility Header (next header 135, directly or after a
// Destination Options header carrying the Home Address option) or UDP to
// or from port 1812 (RADIUS).
func demoFrame(b []byte) bool {
	if len(b) < 14 {
		return false
	}
	switch binary.BigEndian.Uint16(b[12:14]) {
	case netio.EtherTypeEAPOL:
		return true
	case 0x86dd:
	default:
		return false
	}
	ip := b[14:]
	if len(ip) < 40 {
		return false
	}
	next, rest := ip[6], ip[40:]
	if next == 60 && len(rest) >= 2 { // Destination Options (RFC 8200 §4.6)
		next, rest = rest[0], rest[min(len(rest), 8*(int(rest[1])+1)):]
	}
	switch next {
	case 135:
		return true
	case 17:
		return len(rest) >= 4 && (binary.BigEndian.Uint16(rest[0:2]) == 1812 || binary.BigEndian.Uint16(rest[2:4]) == 1812)
	}
	return false
}

// gopacketInfo is the pcap record header of fr.
func gopacketInfo(fr capturedFrame) gopacket.CaptureInfo {
	return gopacket.CaptureInfo{Timestamp: fr.at, CaptureLength: len(fr.data), Length: len(fr.data)}
}
