package demo

import (
	"encoding/binary"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/fhkey/fhkey/internal/capture"
	"github.com/fhkey/fhkey/internal/inet"
)

// protocolTCP is the IPv6 Next Header of TCP (IANA protocol numbers).
const protocolTCP = 6

// TCP flags (RFC 9293 §3.1).
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpPSH = 0x08
	tcpACK = 0x10
)

// tcpInitialSeq are the initial sequence numbers of the synthesized
// stream's two sides (any value works; fixed ones make captures diff).
const (
	tcpClientISN = 0x10000000
	tcpServerISN = 0x20000000
)

// segmentMax is the most payload one synthesized segment carries, so that
// no record exceeds the IPv6 payload length.
const segmentMax = 16 * 1024

// writePacket records one IPv6 packet of protocol proto whose upper-layer
// checksum is at off (the pcap's record, counted in the summary).
func (d *Demo) writePacket(src, dst netip.Addr, proto uint8, off int, upper []byte) {
	binary.BigEndian.PutUint16(upper[off:], 0)
	binary.BigEndian.PutUint16(upper[off:], inet.Checksum(src, dst, proto, upper))
	pkt := &capture.Packet{HopLimit: 64, Source: src, Destination: dst, Protocol: proto, Payload: upper}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sum.Packets++
	if d.pcap == nil || d.pcapErr != nil {
		return
	}
	b, err := pkt.Marshal()
	if err == nil {
		err = d.pcap.WritePacket(time.Now(), b)
	}
	d.pcapErr = err
}

// captureUDP6 records one UDP datagram (RFC 768; checksum over the IPv6
// pseudo-header of RFC 8200 §8.1).
func (d *Demo) captureUDP6(src, dst netip.AddrPort, payload []byte) {
	u := make([]byte, 8+len(payload))
	binary.BigEndian.PutUint16(u[0:], src.Port())
	binary.BigEndian.PutUint16(u[2:], dst.Port())
	binary.BigEndian.PutUint16(u[4:], uint16(len(u)))
	copy(u[8:], payload)
	d.writePacket(src.Addr(), dst.Addr(), inet.ProtocolUDP, 6, u)
}

// tcpCapture turns what crosses a TCP connection into segments with
// consistent sequence and acknowledgement numbers: a three-way handshake,
// each Write and Read as data from one side, a FIN each way at Close, so
// that tshark's stream reassembly (and, with the key log, its TLS
// decryption) works on the capture.
type tcpCapture struct {
	d                *Demo
	client, server   netip.AddrPort
	mu               sync.Mutex
	clientSeq, srvSq uint32
	segments         int
}

func newTCPCapture(d *Demo, client, server netip.AddrPort) *tcpCapture {
	c := &tcpCapture{d: d, client: client, server: server, clientSeq: tcpClientISN, srvSq: tcpServerISN}
	c.segment(true, tcpSYN, nil)
	c.segment(false, tcpSYN|tcpACK, nil)
	c.segment(true, tcpACK, nil)
	return c
}

// segment records one segment from the client (fromClient) or the server
// and advances that side's sequence number (SYN and FIN count one).
func (c *tcpCapture) segment(fromClient bool, flags uint8, data []byte) {
	src, dst, seq, ack := c.client, c.server, &c.clientSeq, c.srvSq
	if !fromClient {
		src, dst, seq, ack = c.server, c.client, &c.srvSq, c.clientSeq
	}
	if flags&tcpSYN != 0 && flags&tcpACK == 0 {
		ack = 0
	}
	h := make([]byte, 20+len(data))
	binary.BigEndian.PutUint16(h[0:], src.Port())
	binary.BigEndian.PutUint16(h[2:], dst.Port())
	binary.BigEndian.PutUint32(h[4:], *seq)
	binary.BigEndian.PutUint32(h[8:], ack)
	h[12] = 5 << 4 // Data Offset: 5 words, no options
	h[13] = flags
	binary.BigEndian.PutUint16(h[14:], 0xffff) // Window
	copy(h[20:], data)
	c.d.writePacket(src.Addr(), dst.Addr(), protocolTCP, 16, h)
	c.segments++
	*seq += uint32(len(data))
	if flags&(tcpSYN|tcpFIN) != 0 {
		*seq++
	}
}

// data records b sent by one side, in segments of at most segmentMax.
func (c *tcpCapture) data(fromClient bool, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(b) > 0 {
		n := min(len(b), segmentMax)
		c.segment(fromClient, tcpPSH|tcpACK, b[:n])
		b = b[n:]
	}
}

// close records the FIN exchange once.
func (c *tcpCapture) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.segments == 0 {
		return
	}
	c.segment(true, tcpFIN|tcpACK, nil)
	c.segment(false, tcpFIN|tcpACK, nil)
	c.segment(true, tcpACK, nil)
	c.segments = 0
}

// capturedConn is a net.Conn whose traffic a tcpCapture records (the MN's
// side: its writes come from the client).
type capturedConn struct {
	net.Conn
	c *tcpCapture
}

func (cc *capturedConn) Read(b []byte) (int, error) {
	n, err := cc.Conn.Read(b)
	if n > 0 {
		cc.c.data(false, b[:n])
	}
	return n, err
}

func (cc *capturedConn) Write(b []byte) (int, error) {
	n, err := cc.Conn.Write(b)
	if n > 0 {
		cc.c.data(true, b[:n])
	}
	return n, err
}

func (cc *capturedConn) Close() error {
	cc.c.close()
	return cc.Conn.Close()
}
