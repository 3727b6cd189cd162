package pcapread

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// MaxSnaplen bounds the captured length of one record, as libpcap's
// MAXIMUM_SNAPLEN does (262144); longer records are a format error.
const MaxSnaplen = 262144

// ErrFormat is wrapped by every error for a malformed capture file.
var ErrFormat = errors.New("pcapread: malformed capture file")

// Format is a capture file format, told by its first four octets.
type Format int

// Formats Sniff recognises.
const (
	FormatUnknown Format = iota
	FormatPcap           // classic libpcap, either byte order, µs or ns
	FormatPcapng         // pcapng: a Section Header Block first
)

// Sniff returns the format whose magic number starts b (at least 4 octets):
// 0xa1b2c3d4 or 0xa1b23c4d in either byte order for pcap, the Section
// Header Block type 0x0a0d0d0a for pcapng.
func Sniff(b []byte) Format {
	if len(b) < 4 {
		return FormatUnknown
	}
	switch binary.BigEndian.Uint32(b) {
	case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1:
		return FormatPcap
	case ngBlockSectionHeader:
		return FormatPcapng
	}
	return FormatUnknown
}

// LinkType is a pcap/pcapng link type (LINKTYPE_*).
type LinkType uint16

// Link types Decode understands.
const (
	LinkTypeNull     LinkType = 0
	LinkTypeEthernet LinkType = 1
	LinkTypeRaw12    LinkType = 12 // DLT_RAW on most BSDs and Linux
	LinkTypeRaw14    LinkType = 14 // DLT_RAW on OpenBSD
	LinkTypeRaw      LinkType = 101
	LinkTypeLoop     LinkType = 108
	LinkTypeSLL      LinkType = 113
	LinkTypeIPv4     LinkType = 228
	LinkTypeIPv6     LinkType = 229
	LinkTypeSLL2     LinkType = 276
)

// Frame is one record of a capture.
type Frame struct {
	Time     time.Time
	LinkType LinkType
	// Data is the captured octets; OriginalLength the length on the wire.
	Data           []byte
	OriginalLength int
}

// Reader reads the frames of a pcap or pcapng file.
type Reader struct {
	pcap *pcapgo.Reader
	ng   *pcapgo.NgReader
	n    int
}

// NewReader reads the file header from r and returns a Reader. The format
// is sniffed from the first octets.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(4)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("%w: magic number at offset 0: %w", ErrFormat, err)
	}
	rd := &Reader{}
	switch Sniff(magic) {
	case FormatPcap:
		if rd.pcap, err = pcapgo.NewReader(br); err != nil {
			return nil, fmt.Errorf("%w: pcap file header at offset 0: %w", ErrFormat, unexpected(err))
		}
		// A snapshot length beyond MaxSnaplen (or 0, written by some
		// tools) would let one record header claim gigabytes.
		if s := rd.pcap.Snaplen(); s == 0 || s > MaxSnaplen {
			rd.pcap.SetSnaplen(MaxSnaplen)
		}
	case FormatPcapng:
		rd.ng, err = pcapgo.NewNgReader(&ngGuard{r: br}, pcapgo.NgReaderOptions{WantMixedLinkType: true, SkipUnknownVersion: true})
		if err != nil {
			return nil, fmt.Errorf("%w: pcapng section header at offset 0: %w", ErrFormat, unexpected(err))
		}
	default:
		return nil, fmt.Errorf("%w: magic number %#08x at offset 0 is neither pcap nor pcapng", ErrFormat, binary.BigEndian.Uint32(magic))
	}
	return rd, nil
}

// Next returns the next frame, or io.EOF after the last one. After any
// other error the file cannot be resynchronised: stop reading.
func (r *Reader) Next() (Frame, error) {
	var f Frame
	if r.pcap != nil {
		data, ci, err := r.pcap.ReadPacketData()
		if err != nil {
			return f, r.wrap(err)
		}
		f = Frame{Time: ci.Timestamp, LinkType: LinkType(r.pcap.LinkType()), Data: data, OriginalLength: ci.Length}
	} else {
		data, ci, err := r.ng.ReadPacketData()
		if err != nil {
			return f, r.wrap(err)
		}
		lt := LinkType(r.ng.LinkType())
		if len(ci.AncillaryData) > 0 {
			if t, ok := ci.AncillaryData[0].(layers.LinkType); ok {
				lt = LinkType(t)
			}
		}
		f = Frame{Time: ci.Timestamp, LinkType: lt, Data: data, OriginalLength: ci.Length}
	}
	r.n++
	return f, nil
}

// wrap turns a reader error into io.EOF at a clean end of file, or an
// error wrapping ErrFormat that names the record.
func (r *Reader) wrap(err error) error {
	if err == io.EOF {
		return io.EOF
	}
	if errors.Is(err, ErrFormat) {
		return fmt.Errorf("record %d: %w", r.n+1, err)
	}
	return fmt.Errorf("%w: record %d: %w", ErrFormat, r.n+1, unexpected(err))
}

// unexpected maps a bare io.EOF inside a structure to io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
