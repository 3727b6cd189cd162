package capture

import (
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Link types of the pcap global header (https://www.tcpdump.org/linktypes.html).
const (
	// LinkTypeRaw (LINKTYPE_RAW) records start with an IPv4 or IPv6 header;
	// the version nibble tells which. Wireshark maps it to "Raw IP".
	LinkTypeRaw uint32 = 101
	// LinkTypeIPv6 (LINKTYPE_IPV6) records start with an IPv6 header.
	LinkTypeIPv6 uint32 = 229
)

// Snaplen is the snapshot length written in the file header: the largest
// IPv6 packet without a Jumbo Payload option (40 octets of header plus
// 65535 of payload).
const Snaplen = 40 + 0xffff

// Writer writes a classic pcap file (microsecond timestamps, little endian)
// of link type LinkTypeRaw through gopacket's pcapgo. Captures are read
// back with internal/pcapread (pcap and pcapng, any link type).
type Writer struct {
	w *pcapgo.Writer
}

// NewWriter writes the pcap file header to w and returns a Writer.
func NewWriter(w io.Writer) (*Writer, error) {
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(Snaplen, layers.LinkType(LinkTypeRaw)); err != nil {
		return nil, fmt.Errorf("capture: write file header: %w", err)
	}
	return &Writer{w: pw}, nil
}

// WritePacket appends one record holding data, stamped with ts (microsecond
// resolution). data must not exceed Snaplen octets.
func (w *Writer) WritePacket(ts time.Time, data []byte) error {
	if len(data) > Snaplen {
		return fmt.Errorf("capture: packet of %d octets exceeds the snapshot length %d", len(data), Snaplen)
	}
	if us := ts.UnixMicro(); us < 0 || us/1e6 > 0xffffffff {
		return fmt.Errorf("capture: timestamp %v outside the pcap range", ts)
	}
	ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: len(data)}
	if err := w.w.WritePacket(ci, data); err != nil {
		return fmt.Errorf("capture: write record: %w", err)
	}
	return nil
}
