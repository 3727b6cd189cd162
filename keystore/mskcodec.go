package keystore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/fhkey/fhkey/hokey"
)

// MSKRecord is what the access router keeps per NAI after an EAP success
// on its access link (issue 12, docs/msk.md): the EAP MSK, the MAC
// address of the supplicant that authenticated (the PAR checks an FBU's
// PCoA against it), the expiry (the RADIUS Session-Timeout, RFC 2865
// §5.27), and, so that a restarted authenticator re-authenticates the
// supplicant on time (docs/eap.md, Re-authentication), when it
// authenticated and on which port (interface).
type MSKRecord struct {
	NAI     string
	MSK     hokey.MSK
	MAC     [6]byte
	Expires time.Time
	// Authenticated is when the MSK was stored (the Access-Accept);
	// zero: unknown (a record of version 1).
	Authenticated time.Time
	// Port is the authenticator's interface, at most MaxMSKPortLen
	// octets, no NUL; empty: unknown (version 1) or none given.
	Port string
}

// MSK record encoding (docs/keystore.md); the NAI is the bbolt key.
// Big-endian. Version 2, written:
//
//	offset length field
//	0      1      Version (2)
//	1      1      Reserved, zero
//	2      6      MAC address of the supplicant
//	8      8      Expires, nanoseconds since 1970-01-01 UTC, > 0
//	16     8      Authenticated, nanoseconds since 1970-01-01 UTC, 0: unknown
//	24     16     Port, octets then NUL padding
//	40     64     MSK
//	104    4      CRC-32C (Castagnoli) of the NAI then octets 0..103
//
// Version 1, read only (files written before the re-authentication
// timers were kept): octets 0..15 as above, the MSK at 16, the CRC-32C
// of the NAI then octets 0..79 at 80; 84 octets.
const (
	// MSKRecordVersion is the version octet of an encoded MSKRecord.
	MSKRecordVersion = 2
	// MSKRecordLen is the length of an encoded MSKRecord.
	MSKRecordLen = 108
	// MSKRecordV1Len is the length of a version 1 record.
	MSKRecordV1Len = 84
	// MaxNAILen bounds the NAI of an MSKRecord (hokey.MaxNAILen, what an
	// MN-NAI option carries).
	MaxNAILen = hokey.MaxNAILen
	// MaxMSKPortLen bounds MSKRecord.Port: a Linux interface name
	// (IFNAMSIZ 16 with its NUL) fits.
	MaxMSKPortLen = 16

	offMSKMAC     = 2
	offMSKExpires = 8
	offMSKAuth    = 16
	offMSKPort    = 24
	offMSK        = 40
	offMSKCRC     = 104
	offMSKV1      = 16
	offMSKV1CRC   = 80
)

func (r *MSKRecord) validate() error {
	if n := len(r.NAI); n == 0 || n > MaxNAILen {
		return fmt.Errorf("%w: NAI of %d octets, want 1 to %d", ErrInvalid, n, MaxNAILen)
	}
	if ns := r.Expires.UnixNano(); ns <= 0 || r.Expires.Year() > 2262 {
		return fmt.Errorf("%w: MSK expiry %v outside 1970..2262", ErrInvalid, r.Expires)
	}
	if !r.Authenticated.IsZero() && (r.Authenticated.UnixNano() <= 0 || r.Authenticated.Year() > 2262) {
		return fmt.Errorf("%w: MSK authentication time %v outside 1970..2262", ErrInvalid, r.Authenticated)
	}
	if len(r.Port) > MaxMSKPortLen || strings.IndexByte(r.Port, 0) >= 0 {
		return fmt.Errorf("%w: MSK port %q: at most %d octets, no NUL", ErrInvalid, r.Port, MaxMSKPortLen)
	}
	return nil
}

// appendMSKRecord appends the encoding of r (validated), version 2, to b.
func appendMSKRecord(b []byte, r *MSKRecord) ([]byte, error) {
	if err := r.validate(); err != nil {
		return b, err
	}
	start := len(b)
	b = append(b, MSKRecordVersion, 0)
	b = append(b, r.MAC[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Expires.UnixNano()))
	var auth int64
	if !r.Authenticated.IsZero() {
		auth = r.Authenticated.UnixNano()
	}
	b = binary.BigEndian.AppendUint64(b, uint64(auth))
	var port [MaxMSKPortLen]byte
	copy(port[:], r.Port)
	b = append(b, port[:]...)
	b = append(b, r.MSK[:]...)
	sum := crcOver([]byte(r.NAI), b[start:])
	return binary.BigEndian.AppendUint32(b, sum), nil
}

// parseMSKRecord decodes the value stored under nai, of version 2 or 1.
// Every failure wraps ErrCorrupt and names the field; truncation also
// wraps io.ErrUnexpectedEOF. On failure r is left zeroed.
func parseMSKRecord(nai, data []byte, r *MSKRecord) error {
	*r = MSKRecord{}
	if n := len(nai); n == 0 || n > MaxNAILen {
		return fmt.Errorf("%w: MSK record: NAI of %d octets, want 1 to %d", ErrCorrupt, n, MaxNAILen)
	}
	if len(data) == 0 {
		return fmt.Errorf("%w: MSK record: empty: %w", ErrCorrupt, io.ErrUnexpectedEOF)
	}
	size, offKey, offCRC := MSKRecordLen, offMSK, offMSKCRC
	switch v := data[offVersion]; v {
	case MSKRecordVersion:
	case 1:
		size, offKey, offCRC = MSKRecordV1Len, offMSKV1, offMSKV1CRC
	default:
		return fmt.Errorf("%w: MSK record: version %d, want %d or 1", ErrCorrupt, v, MSKRecordVersion)
	}
	if len(data) < size {
		return fmt.Errorf("%w: MSK record: %d octets, want %d: %w", ErrCorrupt, len(data), size, io.ErrUnexpectedEOF)
	}
	if len(data) > size {
		return fmt.Errorf("%w: MSK record: %d trailing octets", ErrCorrupt, len(data)-size)
	}
	if data[1] != 0 {
		return fmt.Errorf("%w: MSK record: reserved octet %#02x is not zero", ErrCorrupt, data[1])
	}
	sum := binary.BigEndian.Uint32(data[offCRC:])
	if got := crcOver(nai, data[:offCRC]); got != sum {
		return fmt.Errorf("%w: MSK record: CRC-32C at offset %d is %#08x, computed %#08x", ErrCorrupt, offCRC, sum, got)
	}
	expires := int64(binary.BigEndian.Uint64(data[offMSKExpires:]))
	if expires <= 0 {
		return fmt.Errorf("%w: MSK record: expires %d at offset %d is not positive", ErrCorrupt, expires, offMSKExpires)
	}
	var auth time.Time
	var port string
	if size == MSKRecordLen {
		ns := int64(binary.BigEndian.Uint64(data[offMSKAuth:]))
		if ns < 0 {
			return fmt.Errorf("%w: MSK record: authenticated %d at offset %d is negative", ErrCorrupt, ns, offMSKAuth)
		}
		if ns > 0 {
			auth = fromUnixNano(ns)
		}
		p := data[offMSKPort:offMSK]
		n := bytes.IndexByte(p, 0)
		if n < 0 {
			n = len(p)
		}
		if slices.ContainsFunc(p[n:], func(c byte) bool { return c != 0 }) {
			return fmt.Errorf("%w: MSK record: port at offset %d: octets after its NUL padding", ErrCorrupt, offMSKPort)
		}
		port = string(p[:n])
	}
	r.NAI = string(nai)
	copy(r.MAC[:], data[offMSKMAC:offMSKExpires])
	r.Expires = fromUnixNano(expires)
	r.Authenticated, r.Port = auth, port
	copy(r.MSK[:], data[offKey:offCRC])
	return nil
}

// crcOver is the CRC-32C of nai then fields.
func crcOver(nai, fields []byte) uint32 {
	return crc32.Update(crc32.Checksum(nai, castagnoli), castagnoli, fields)
}
