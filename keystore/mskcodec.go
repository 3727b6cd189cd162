package keystore

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"time"

	"github.com/fhkey/fhkey/hokey"
)

// MSKRecord is what the access router keeps per NAI after an EAP success
// on its access link (issue 12, docs/msk.md): the EAP MSK, the MAC
// address of the supplicant that authenticated (the PAR checks an FBU's
// PCoA against it) and the expiry (the RADIUS Session-Timeout, RFC 2865
// §5.27).
type MSKRecord struct {
	NAI     string
	MSK     hokey.MSK
	MAC     [6]byte
	Expires time.Time
}

// MSK record encoding, version 1 (docs/keystore.md); the NAI is the bbolt
// key. Big-endian.
//
//	offset length field
//	0      1      Version (1)
//	1      1      Reserved, zero
//	2      6      MAC address of the supplicant
//	8      8      Expires, nanoseconds since 1970-01-01 UTC, > 0
//	16     64     MSK
//	80     4      CRC-32C (Castagnoli) of the NAI then octets 0..79
const (
	// MSKRecordVersion is the version octet of an encoded MSKRecord.
	MSKRecordVersion = 1
	// MSKRecordLen is the length of an encoded MSKRecord.
	MSKRecordLen = 84
	// MaxNAILen bounds the NAI of an MSKRecord (hokey.MaxNAILen, what an
	// MN-NAI option carries).
	MaxNAILen = hokey.MaxNAILen

	offMSKMAC     = 2
	offMSKExpires = 8
	offMSK        = 16
	offMSKCRC     = 80
)

func (r *MSKRecord) validate() error {
	if n := len(r.NAI); n == 0 || n > MaxNAILen {
		return fmt.Errorf("%w: NAI of %d octets, want 1 to %d", ErrInvalid, n, MaxNAILen)
	}
	if ns := r.Expires.UnixNano(); ns <= 0 || r.Expires.Year() > 2262 {
		return fmt.Errorf("%w: MSK expiry %v outside 1970..2262", ErrInvalid, r.Expires)
	}
	return nil
}

// appendMSKRecord appends the encoding of r (validated) to b.
func appendMSKRecord(b []byte, r *MSKRecord) ([]byte, error) {
	if err := r.validate(); err != nil {
		return b, err
	}
	start := len(b)
	b = append(b, MSKRecordVersion, 0)
	b = append(b, r.MAC[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Expires.UnixNano()))
	b = append(b, r.MSK[:]...)
	sum := crcOver([]byte(r.NAI), b[start:])
	return binary.BigEndian.AppendUint32(b, sum), nil
}

// parseMSKRecord decodes the value stored under nai. Every failure wraps
// ErrCorrupt and names the field; truncation also wraps
// io.ErrUnexpectedEOF. On failure r is left zeroed.
func parseMSKRecord(nai, data []byte, r *MSKRecord) error {
	*r = MSKRecord{}
	if n := len(nai); n == 0 || n > MaxNAILen {
		return fmt.Errorf("%w: MSK record: NAI of %d octets, want 1 to %d", ErrCorrupt, n, MaxNAILen)
	}
	if len(data) < MSKRecordLen {
		return fmt.Errorf("%w: MSK record: %d octets, want %d: %w", ErrCorrupt, len(data), MSKRecordLen, io.ErrUnexpectedEOF)
	}
	if len(data) > MSKRecordLen {
		return fmt.Errorf("%w: MSK record: %d trailing octets", ErrCorrupt, len(data)-MSKRecordLen)
	}
	if v := data[offVersion]; v != MSKRecordVersion {
		return fmt.Errorf("%w: MSK record: version %d, want %d", ErrCorrupt, v, MSKRecordVersion)
	}
	if data[1] != 0 {
		return fmt.Errorf("%w: MSK record: reserved octet %#02x is not zero", ErrCorrupt, data[1])
	}
	sum := binary.BigEndian.Uint32(data[offMSKCRC:])
	if got := crcOver(nai, data[:offMSKCRC]); got != sum {
		return fmt.Errorf("%w: MSK record: CRC-32C at offset %d is %#08x, computed %#08x", ErrCorrupt, offMSKCRC, sum, got)
	}
	expires := int64(binary.BigEndian.Uint64(data[offMSKExpires:]))
	if expires <= 0 {
		return fmt.Errorf("%w: MSK record: expires %d at offset %d is not positive", ErrCorrupt, expires, offMSKExpires)
	}
	r.NAI = string(nai)
	copy(r.MAC[:], data[offMSKMAC:offMSKExpires])
	r.Expires = fromUnixNano(expires)
	copy(r.MSK[:], data[offMSK:offMSKCRC])
	return nil
}

// crcOver is the CRC-32C of nai then fields.
func crcOver(nai, fields []byte) uint32 {
	return crc32.Update(crc32.Checksum(nai, castagnoli), castagnoli, fields)
}
