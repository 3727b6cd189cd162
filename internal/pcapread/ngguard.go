package pcapread

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// pcapng block types and constants (draft-ietf-opsawg-pcapng §4).
const (
	ngBlockSectionHeader  = 0x0a0d0d0a
	ngBlockInterface      = 1
	ngBlockPacket         = 2 // obsolete Packet Block
	ngBlockSimplePacket   = 3
	ngBlockEnhancedPacket = 6
	ngByteOrderMagic      = 0x1a2b3c4d
	ngOptionTSResol       = 9 // if_tsresol
	// maxBlockLen bounds one block: a record of MaxSnaplen octets and
	// 64 KiB of options.
	maxBlockLen = MaxSnaplen + 1<<16
)

// ngGuard hands pcapgo's NgReader one whole, checked block at a time: the
// Block Total Length is bounded, a multiple of 4 and repeated at the end;
// packet blocks name a known interface and their captured length fits the
// block; Interface Description Block options fit the block and if_tsresol
// is one pcapgo can scale (it divides by 10^n or 2^n). pcapgo trusts all
// of this.
type ngGuard struct {
	r      io.Reader
	order  binary.ByteOrder
	buf    []byte // rest of the current block
	off    int64  // file offset of the next block
	ifaces int    // interfaces in the current section
	snap0  uint32 // snapshot length of interface 0 (Simple Packet Blocks)
	err    error
}

func (g *ngGuard) Read(p []byte) (int, error) {
	if len(g.buf) == 0 {
		if g.err == nil {
			g.err = g.next()
		}
		if g.err != nil {
			return 0, g.err
		}
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}

func (g *ngGuard) fail(format string, args ...any) error {
	return fmt.Errorf("%w: pcapng block at offset %d: %s", ErrFormat, g.off, fmt.Sprintf(format, args...))
}

// next reads and checks the next block into g.buf.
func (g *ngGuard) next() error {
	var h [12]byte
	if _, err := io.ReadFull(g.r, h[:8]); err != nil {
		if err == io.EOF {
			return io.EOF
		}
		return fmt.Errorf("%w: pcapng block header at offset %d: %w", ErrFormat, g.off, err)
	}
	typ, hl := binary.BigEndian.Uint32(h[:4]), 8
	if typ == ngBlockSectionHeader {
		if _, err := io.ReadFull(g.r, h[8:12]); err != nil {
			return fmt.Errorf("%w: pcapng byte-order magic at offset %d: %w", ErrFormat, g.off+8, unexpected(err))
		}
		switch {
		case binary.BigEndian.Uint32(h[8:]) == ngByteOrderMagic:
			g.order = binary.BigEndian
		case binary.LittleEndian.Uint32(h[8:]) == ngByteOrderMagic:
			g.order = binary.LittleEndian
		default:
			return g.fail("byte-order magic %#08x", binary.BigEndian.Uint32(h[8:]))
		}
		g.ifaces, g.snap0, hl = 0, 0, 12
	} else if g.order == nil {
		return g.fail("type %#x before any Section Header Block", typ)
	} else {
		typ = g.order.Uint32(h[:4])
	}
	n := g.order.Uint32(h[4:8])
	min := uint32(12)
	switch typ {
	case ngBlockSectionHeader:
		min = 28
	case ngBlockInterface, ngBlockSimplePacket:
		min = 20
		if typ == ngBlockSimplePacket {
			min = 16
		}
	case ngBlockEnhancedPacket, ngBlockPacket:
		min = 32
	}
	if n < min || n%4 != 0 || n > maxBlockLen {
		return g.fail("type %#x: Block Total Length %d (want a multiple of 4 from %d to %d)", typ, n, min, maxBlockLen)
	}
	b := make([]byte, n)
	copy(b, h[:hl])
	if _, err := io.ReadFull(g.r, b[hl:]); err != nil {
		return fmt.Errorf("%w: pcapng block at offset %d: %d octets: %w", ErrFormat, g.off, n, unexpected(err))
	}
	if t := g.order.Uint32(b[n-4:]); t != n {
		return g.fail("trailing Block Total Length %d differs from %d", t, n)
	}
	if err := g.check(typ, b); err != nil {
		return err
	}
	g.buf = b
	g.off += int64(n)
	return nil
}

// check applies the per-type checks to block b of type typ.
func (g *ngGuard) check(typ uint32, b []byte) error {
	n := uint32(len(b))
	switch typ {
	case ngBlockInterface:
		if g.ifaces == 0 {
			g.snap0 = g.order.Uint32(b[12:16])
		}
		g.ifaces++
		return g.checkOptions(b[16 : n-4])
	case ngBlockEnhancedPacket, ngBlockPacket:
		id := g.order.Uint32(b[8:12])
		if typ == ngBlockPacket {
			id = uint32(g.order.Uint16(b[8:10]))
		}
		if id >= uint32(g.ifaces) {
			return g.fail("packet on interface %d, %d described", id, g.ifaces)
		}
		if c := g.order.Uint32(b[20:24]); c > n-32 {
			return g.fail("captured length %d exceeds the block's %d octets of data", c, n-32)
		}
	case ngBlockSimplePacket:
		if g.ifaces == 0 {
			return g.fail("Simple Packet Block before any Interface Description Block")
		}
		c := g.order.Uint32(b[8:12])
		if g.snap0 != 0 && c > g.snap0 {
			c = g.snap0
		}
		if c > n-16 {
			return g.fail("packet length %d exceeds the block's %d octets of data", c, n-16)
		}
	}
	return nil
}

// errOption is wrapped for a bad Interface Description Block option.
var errOption = errors.New("bad interface option")

// checkOptions walks the options of an Interface Description Block.
func (g *ngGuard) checkOptions(o []byte) error {
	for off := 0; off+4 <= len(o); {
		code, l := g.order.Uint16(o[off:]), int(g.order.Uint16(o[off+2:]))
		if code == 0 {
			return nil
		}
		if off+4+l > len(o) {
			return g.fail("%v: option %d of %d octets at block offset %d overruns the block", errOption, code, l, 16+off)
		}
		if code == ngOptionTSResol {
			if l < 1 {
				return g.fail("%v: empty if_tsresol", errOption)
			}
			// pcapgo computes 2^e or 10^e in 64 bits and divides by it.
			if v := o[off+4]; (v&0x80 != 0 && v&0x7f > 63) || (v&0x80 == 0 && v > 19) {
				return g.fail("%v: if_tsresol %#02x out of range", errOption, v)
			}
		}
		off += 4 + (l+3)&^3
	}
	return nil
}
