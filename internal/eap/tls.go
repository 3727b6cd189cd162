package eap

import (
	"encoding/binary"
	"fmt"
	"io"
)

// TLSFlags is the Flags octet of an EAP-TLS packet (RFC 5216 §3.1).
type TLSFlags uint8

// EAP-TLS flags (RFC 5216 §3.1). The other five bits are reserved: sent
// as zero, ignored on receipt (RFC 9190 §2.1 keeps them so).
const (
	FlagLength TLSFlags = 0x80 // L: a TLS Message Length follows
	FlagMore   TLSFlags = 0x40 // M: more fragments follow
	FlagStart  TLSFlags = 0x20 // S: EAP-TLS Start (server only)
)

// MaxTLSMessage is the largest TLS message (the TLS records of one flight)
// a Reassembler takes by default: 64 KiB. RFC 5216 §3.1 sets no bound
// (its TLS Message Length is 4 octets); a server flight with a few
// certificates is a few KiB, and the bound keeps a hostile peer from making
// the reassembler grow without end.
const MaxTLSMessage = 64 << 10

// TLSMessage is the Type-Data of an EAP-TLS Request or Response: the
// flags, the TLS Message Length (present with FlagLength) and one fragment
// of TLS data. An empty message (no flag, no data) acknowledges a
// fragment (RFC 5216 §3.1); a Start carries FlagStart and no data.
type TLSMessage struct {
	Flags TLSFlags
	// Length is the total length of the TLS message, meaningful with
	// FlagLength.
	Length uint32
	Data   []byte
}

// ParseTLS parses the Type-Data of an EAP-TLS packet; Data aliases b.
// Reserved flag bits are ignored.
func ParseTLS(b []byte) (TLSMessage, error) {
	if len(b) < 1 {
		return TLSMessage{}, fmt.Errorf("%w: EAP-TLS Flags: %w", ErrParse, io.ErrUnexpectedEOF)
	}
	m := TLSMessage{Flags: TLSFlags(b[0]) & (FlagLength | FlagMore | FlagStart)}
	b = b[1:]
	if m.Flags&FlagLength != 0 {
		if len(b) < 4 {
			return TLSMessage{}, fmt.Errorf("%w: EAP-TLS TLS Message Length: %w", ErrParse, io.ErrUnexpectedEOF)
		}
		m.Length = binary.BigEndian.Uint32(b)
		b = b[4:]
		if int(m.Length) < len(b) {
			return TLSMessage{}, fmt.Errorf("%w: EAP-TLS TLS Message Length %d, fragment of %d octets", ErrFragment, m.Length, len(b))
		}
	}
	m.Data = b
	return m, nil
}

// Marshal returns the Type-Data of the message.
func (m TLSMessage) Marshal() []byte {
	n := 1 + len(m.Data)
	if m.Flags&FlagLength != 0 {
		n += 4
	}
	b := make([]byte, 1, n)
	b[0] = byte(m.Flags)
	if m.Flags&FlagLength != 0 {
		b = binary.BigEndian.AppendUint32(b, m.Length)
	}
	return append(b, m.Data...)
}

// IsAck reports whether m is a fragment acknowledgement: no flag, no data.
func (m TLSMessage) IsAck() bool { return m.Flags == 0 && len(m.Data) == 0 }

// Fragment splits the TLS message data into EAP-TLS messages of at most
// size octets of TLS data each (size ≥ 1). One fragment carries no
// TLS Message Length; several carry it on the first ("MUST be set for the
// first fragment of a fragmented TLS message", RFC 5216 §3.1) and M on all
// but the last. Empty data gives one empty message (an acknowledgement).
func Fragment(data []byte, size int) []TLSMessage {
	if size < 1 {
		panic("eap: Fragment: size < 1")
	}
	if len(data) <= size {
		return []TLSMessage{{Data: data}}
	}
	var out []TLSMessage
	for off := 0; off < len(data); off += size {
		m := TLSMessage{Data: data[off:min(off+size, len(data))]}
		if off == 0 {
			m.Flags |= FlagLength
			m.Length = uint32(len(data))
		}
		if off+size < len(data) {
			m.Flags |= FlagMore
		}
		out = append(out, m)
	}
	return out
}

// Reassembler gathers the fragments of one TLS message (RFC 5216 §3.1).
// The zero value takes messages up to MaxTLSMessage octets.
type Reassembler struct {
	// Limit bounds the TLS message length, declared or gathered; 0 means
	// MaxTLSMessage.
	Limit int

	buf    []byte
	total  int // the first fragment's TLS Message Length, -1 if none
	active bool
}

// Add takes the next fragment. It returns the whole TLS message when m is
// the last fragment (M clear), nil while more are expected. On an error
// the reassembler is reset.
func (r *Reassembler) Add(m TLSMessage) ([]byte, error) {
	limit := r.Limit
	if limit <= 0 {
		limit = MaxTLSMessage
	}
	if !r.active {
		r.buf, r.total, r.active = r.buf[:0], -1, true
		if m.Flags&FlagLength != 0 {
			if int64(m.Length) > int64(limit) {
				r.Reset()
				return nil, fmt.Errorf("%w: EAP-TLS TLS Message Length %d, limit %d", ErrTooLong, m.Length, limit)
			}
			r.total = int(m.Length)
		} else if m.Flags&FlagMore != 0 {
			// RFC 5216 §3.1: L "MUST be set for the first fragment of a
			// fragmented TLS message".
			r.Reset()
			return nil, fmt.Errorf("%w: first fragment without TLS Message Length", ErrFragment)
		}
	}
	if len(r.buf)+len(m.Data) > limit {
		r.Reset()
		return nil, fmt.Errorf("%w: EAP-TLS fragments beyond %d octets", ErrTooLong, limit)
	}
	if r.total >= 0 && len(r.buf)+len(m.Data) > r.total {
		n := len(r.buf) + len(m.Data)
		r.Reset()
		return nil, fmt.Errorf("%w: %d octets of fragments, TLS Message Length %d", ErrFragment, n, r.total)
	}
	if m.Flags&FlagMore != 0 && len(m.Data) == 0 {
		r.Reset()
		return nil, fmt.Errorf("%w: empty fragment with M set", ErrFragment)
	}
	r.buf = append(r.buf, m.Data...)
	if m.Flags&FlagMore != 0 {
		return nil, nil
	}
	if r.total >= 0 && len(r.buf) != r.total {
		n := len(r.buf)
		r.Reset()
		return nil, fmt.Errorf("%w: last fragment ends at %d octets, TLS Message Length %d", ErrFragment, n, r.total)
	}
	out := append([]byte(nil), r.buf...)
	r.Reset()
	return out, nil
}

// InProgress reports whether fragments are being gathered.
func (r *Reassembler) InProgress() bool { return r.active }

// Reset drops the fragments gathered.
func (r *Reassembler) Reset() {
	clear(r.buf)
	r.buf, r.total, r.active = r.buf[:0], -1, false
}
