package keystore

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"net/netip"
)

// Record encoding, version 1 (docs/keystore.md has the table and a hex test
// vector). All integers are big-endian.
//
//	offset length field
//	0      1      Version (1)
//	1      1      AT in the low 4 bits; the high 4 bits are zero
//	2      1      Key Length, 1..32
//	3      1      Reserved, zero
//	4      4      SPI
//	8      16     AR address
//	24     16     MN address
//	40     8      Created, nanoseconds since 1970-01-01 UTC, >= 0
//	48     8      Expires, nanoseconds since 1970-01-01 UTC, > Created
//	56     n      Key (n = Key Length octets)
//	56+n   4      CRC-32C (Castagnoli) of octets 0 .. 55+n
const (
	// RecordVersion is the version octet MarshalBinary writes.
	RecordVersion = 1

	offVersion  = 0
	offAT       = 1
	offKeyLen   = 2
	offReserved = 3
	offSPI      = 4
	offAR       = 8
	offMN       = 24
	offCreated  = 40
	offExpires  = 48
	offKey      = 56
	crcLen      = 4

	// maxEncodedLen bounds an encoded record.
	maxEncodedLen = offKey + MaxKeyLen + crcLen
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// EncodedLen returns the length of r's encoding: 60 octets plus the key.
func (r *Record) EncodedLen() int { return offKey + int(r.KeyLen) + crcLen }

// MarshalBinary encodes r in the version 1 record format (docs/keystore.md).
// It fails with ErrInvalid when r does not Validate. The result holds the key
// octets: wipe it with clear when done.
func (r *Record) MarshalBinary() ([]byte, error) {
	return r.AppendBinary(make([]byte, 0, r.EncodedLen()))
}

// AppendBinary appends the version 1 encoding of r to b (see MarshalBinary).
func (r *Record) AppendBinary(b []byte) ([]byte, error) {
	if err := r.Validate(); err != nil {
		return b, err
	}
	start := len(b)
	b = append(b, RecordVersion, r.AT, r.KeyLen, 0)
	b = binary.BigEndian.AppendUint32(b, r.SPI)
	ar, mn := r.AR.As16(), r.MN.As16()
	b = append(b, ar[:]...)
	b = append(b, mn[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Created.UnixNano()))
	b = binary.BigEndian.AppendUint64(b, uint64(r.Expires.UnixNano()))
	b = append(b, r.KeyBytes()...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli)), nil
}

// UnmarshalBinary decodes a version 1 record into r. Every failure wraps
// ErrCorrupt and names the field; truncation also wraps io.ErrUnexpectedEOF.
// A record that decodes always Validates and re-encodes to the same octets.
// On failure r is left zeroed.
func (r *Record) UnmarshalBinary(data []byte) (err error) {
	*r = Record{}
	defer func() {
		if err != nil {
			*r = Record{} // wipes any key octets copied so far
		}
	}()
	if len(data) < offKey {
		return fmt.Errorf("%w: %d octets, header needs %d: %w", ErrCorrupt, len(data), offKey, io.ErrUnexpectedEOF)
	}
	if v := data[offVersion]; v != RecordVersion {
		return fmt.Errorf("%w: version %d at offset %d, want %d", ErrCorrupt, v, offVersion, RecordVersion)
	}
	keyLen := int(data[offKeyLen])
	if keyLen == 0 || keyLen > MaxKeyLen {
		return fmt.Errorf("%w: key length %d at offset %d, want 1 to %d", ErrCorrupt, keyLen, offKeyLen, MaxKeyLen)
	}
	want := offKey + keyLen + crcLen
	if len(data) < want {
		return fmt.Errorf("%w: %d octets, key length %d needs %d: %w", ErrCorrupt, len(data), keyLen, want, io.ErrUnexpectedEOF)
	}
	if len(data) > want {
		return fmt.Errorf("%w: %d trailing octets after offset %d", ErrCorrupt, len(data)-want, want)
	}
	sum := binary.BigEndian.Uint32(data[want-crcLen:])
	if got := crc32.Checksum(data[:want-crcLen], castagnoli); got != sum {
		return fmt.Errorf("%w: CRC-32C at offset %d is %#08x, computed %#08x", ErrCorrupt, want-crcLen, sum, got)
	}
	if at := data[offAT]; at > MaxAlgorithmType {
		return fmt.Errorf("%w: AT octet %#02x at offset %d has reserved bits set", ErrCorrupt, at, offAT)
	}
	if res := data[offReserved]; res != 0 {
		return fmt.Errorf("%w: reserved octet %#02x at offset %d is not zero", ErrCorrupt, res, offReserved)
	}
	created := int64(binary.BigEndian.Uint64(data[offCreated:]))
	expires := int64(binary.BigEndian.Uint64(data[offExpires:]))
	if created < 0 {
		return fmt.Errorf("%w: created %d at offset %d is negative", ErrCorrupt, created, offCreated)
	}
	if expires <= created {
		return fmt.Errorf("%w: expires %d at offset %d not after created %d", ErrCorrupt, expires, offExpires, created)
	}
	r.AT = data[offAT]
	r.KeyLen = uint8(keyLen)
	r.SPI = binary.BigEndian.Uint32(data[offSPI:])
	r.AR = netip.AddrFrom16([16]byte(data[offAR:offMN]))
	r.MN = netip.AddrFrom16([16]byte(data[offMN:offCreated]))
	r.Created = fromUnixNano(created)
	r.Expires = fromUnixNano(expires)
	copy(r.Key[:], data[offKey:offKey+keyLen])
	return nil
}

// encodedExpires returns the Expires field of an encoded record without
// decoding (or checking) the rest, so that a corrupt record can still be
// unlinked from the expiry index.
func encodedExpires(data []byte) (uint64, bool) {
	if len(data) < offKey || data[offVersion] != RecordVersion {
		return 0, false
	}
	return binary.BigEndian.Uint64(data[offExpires:]), true
}
