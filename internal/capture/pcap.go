package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// Link types of the pcap global header (https://www.tcpdump.org/linktypes.html).
const (
	// LinkTypeRaw (LINKTYPE_RAW) records start with an IPv4 or IPv6 header;
	// the version nibble tells which. Wireshark maps it to "Raw IP".
	LinkTypeRaw uint32 = 101
	// LinkTypeIPv6 (LINKTYPE_IPV6) records start with an IPv6 header.
	LinkTypeIPv6 uint32 = 229
)

// Magic numbers of the classic pcap file header.
const (
	magicMicroseconds uint32 = 0xa1b2c3d4
	magicNanoseconds  uint32 = 0xa1b23c4d
)

// Snaplen is the snapshot length written in the file header and the largest
// record the Reader accepts: the largest IPv6 packet without a Jumbo
// Payload option (40 octets of header plus 65535 of payload).
const Snaplen = 40 + 0xffff

const (
	fileHeaderLen   = 24
	recordHeaderLen = 16
)

// ErrFormat is wrapped by every error the Reader returns for a malformed
// capture file.
var ErrFormat = errors.New("capture: malformed pcap file")

// Writer writes a classic pcap file (microsecond timestamps, little endian)
// of link type LinkTypeRaw.
type Writer struct {
	w   io.Writer
	buf []byte
}

// NewWriter writes the pcap file header to w and returns a Writer.
func NewWriter(w io.Writer) (*Writer, error) {
	h := make([]byte, fileHeaderLen)
	binary.LittleEndian.PutUint32(h[0:], magicMicroseconds)
	binary.LittleEndian.PutUint16(h[4:], 2) // version major
	binary.LittleEndian.PutUint16(h[6:], 4) // version minor
	// thiszone (8:12) and sigfigs (12:16) stay zero.
	binary.LittleEndian.PutUint32(h[16:], Snaplen)
	binary.LittleEndian.PutUint32(h[20:], LinkTypeRaw)
	if _, err := w.Write(h); err != nil {
		return nil, fmt.Errorf("capture: write file header: %w", err)
	}
	return &Writer{w: w}, nil
}

// WritePacket appends one record holding data, stamped with ts (microsecond
// resolution). data must not exceed Snaplen octets.
func (w *Writer) WritePacket(ts time.Time, data []byte) error {
	if len(data) > Snaplen {
		return fmt.Errorf("capture: packet of %d octets exceeds the snapshot length %d", len(data), Snaplen)
	}
	us := ts.UnixMicro()
	if us < 0 || us/1e6 > 0xffffffff {
		return fmt.Errorf("capture: timestamp %v outside the pcap range", ts)
	}
	w.buf = w.buf[:0]
	w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(us/1e6))
	w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(us%1e6))
	w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(len(data))) // incl_len
	w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(len(data))) // orig_len
	w.buf = append(w.buf, data...)
	if _, err := w.w.Write(w.buf); err != nil {
		return fmt.Errorf("capture: write record: %w", err)
	}
	return nil
}

// Record is one packet of a capture file.
type Record struct {
	Time time.Time
	// Data is the captured bytes; OriginalLength the length on the wire.
	Data           []byte
	OriginalLength int
}

// Reader reads a classic pcap file.
type Reader struct {
	r        io.Reader
	order    binary.ByteOrder
	nanos    bool
	snaplen  uint32
	linkType uint32
	off      int64
	hdr      [recordHeaderLen]byte
}

// NewReader reads the pcap file header from r. It accepts both byte orders
// and the microsecond and nanosecond magic numbers, and link types
// LinkTypeRaw and LinkTypeIPv6 only.
func NewReader(r io.Reader) (*Reader, error) {
	var h [fileHeaderLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("%w: file header at offset 0: %w", ErrFormat, err)
	}
	rd := &Reader{r: r, off: fileHeaderLen}
	switch {
	case binary.LittleEndian.Uint32(h[:]) == magicMicroseconds:
		rd.order = binary.LittleEndian
	case binary.BigEndian.Uint32(h[:]) == magicMicroseconds:
		rd.order = binary.BigEndian
	case binary.LittleEndian.Uint32(h[:]) == magicNanoseconds:
		rd.order, rd.nanos = binary.LittleEndian, true
	case binary.BigEndian.Uint32(h[:]) == magicNanoseconds:
		rd.order, rd.nanos = binary.BigEndian, true
	default:
		return nil, fmt.Errorf("%w: magic number %#08x at offset 0 is not a pcap file", ErrFormat, binary.BigEndian.Uint32(h[:]))
	}
	if major := rd.order.Uint16(h[4:]); major != 2 {
		return nil, fmt.Errorf("%w: version %d.%d at offset 4, want 2.x", ErrFormat, major, rd.order.Uint16(h[6:]))
	}
	rd.snaplen = rd.order.Uint32(h[16:])
	// The upper bits of the link-type field carry the FCS length (pcap-savefile).
	rd.linkType = rd.order.Uint32(h[20:]) & 0x0fffffff
	if rd.linkType != LinkTypeRaw && rd.linkType != LinkTypeIPv6 {
		return nil, fmt.Errorf("%w: link type %d at offset 20, want %d (RAW) or %d (IPV6)", ErrFormat, rd.linkType, LinkTypeRaw, LinkTypeIPv6)
	}
	return rd, nil
}

// LinkType returns the link type of the file.
func (r *Reader) LinkType() uint32 { return r.linkType }

// Next returns the next record, or io.EOF after the last one. A record
// longer than Snaplen is rejected before anything is allocated for it.
func (r *Reader) Next() (Record, error) {
	if _, err := io.ReadFull(r.r, r.hdr[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return Record{}, io.EOF
		}
		return Record{}, fmt.Errorf("%w: record header at offset %d: %w", ErrFormat, r.off, err)
	}
	sec := r.order.Uint32(r.hdr[0:])
	frac := r.order.Uint32(r.hdr[4:])
	incl := r.order.Uint32(r.hdr[8:])
	orig := r.order.Uint32(r.hdr[12:])
	if incl > Snaplen {
		return Record{}, fmt.Errorf("%w: record at offset %d: captured length %d exceeds %d", ErrFormat, r.off, incl, Snaplen)
	}
	if orig < incl {
		return Record{}, fmt.Errorf("%w: record at offset %d: original length %d below captured length %d", ErrFormat, r.off, orig, incl)
	}
	data := make([]byte, incl)
	if _, err := io.ReadFull(r.r, data); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return Record{}, fmt.Errorf("%w: record data at offset %d: %w", ErrFormat, r.off+recordHeaderLen, err)
	}
	r.off += recordHeaderLen + int64(incl)
	nsec := int64(frac) * 1000
	if r.nanos {
		nsec = int64(frac)
	}
	return Record{Time: time.Unix(int64(sec), nsec).UTC(), Data: data, OriginalLength: int(orig)}, nil
}
