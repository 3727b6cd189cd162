package keystore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"net/netip"
	"testing"
	"time"
)

// Wire fields of the test vectors, one per row.
func concat(fields ...[]byte) []byte { return bytes.Join(fields, nil) }

func hexb(s string) []byte {
	b := make([]byte, 0, len(s)/2)
	for i := 0; i+1 < len(s); i += 2 {
		var v byte
		for _, c := range s[i : i+2] {
			v <<= 4
			switch {
			case c >= '0' && c <= '9':
				v |= byte(c - '0')
			case c >= 'a' && c <= 'f':
				v |= byte(c-'a') + 10
			}
		}
		b = append(b, v)
	}
	return b
}

var (
	vecCreated = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	vecAR      = netip.MustParseAddr("2001:db8::1")
	vecMN      = netip.MustParseAddr("2001:db8:1::a")
)

func vectorRecord() Record {
	r := Record{AR: vecAR, MN: vecMN, AT: 0, SPI: 0, Created: vecCreated, Expires: vecCreated.Add(HKLifetime)}
	for i := range 20 {
		r.Key[i] = byte(i + 1)
	}
	r.KeyLen = 20
	return r
}

func TestRecordRoundTrip(t *testing.T) {
	long := vectorRecord()
	long.AT, long.SPI = 1, 0x100
	for i := range long.Key {
		long.Key[i] = 0xa5
	}
	long.KeyLen = 32
	tests := []struct {
		name string
		r    Record
		want []byte
	}{
		{"HMAC-SHA1 key, SEND SPI 0 (docs/keystore.md vector)", vectorRecord(), concat(
			hexb("01"),                               // Version 1
			hexb("00"),                               // AT 0, reserved nibble 0
			hexb("14"),                               // Key Length 20
			hexb("00"),                               // Reserved
			hexb("00000000"),                         // SPI 0
			hexb("20010db8000000000000000000000001"), // AR 2001:db8::1
			hexb("20010db800010000000000000000000a"), // MN 2001:db8:1::a
			hexb("17a6101701650000"),                 // Created 2024-01-01T00:00:00Z
			hexb("17a637614a0c8000"),                 // Expires Created + 43200 s
			hexb("0102030405060708090a0b0c0d0e0f1011121314"), // Key
			hexb("ed12684e"), // CRC-32C
		)},
		{"32-octet key, AT 1, SPI 256", long, concat(
			hexb("01"),                               // Version 1
			hexb("01"),                               // AT 1
			hexb("20"),                               // Key Length 32
			hexb("00"),                               // Reserved
			hexb("00000100"),                         // SPI 256
			hexb("20010db8000000000000000000000001"), // AR
			hexb("20010db800010000000000000000000a"), // MN
			hexb("17a6101701650000"),                 // Created
			hexb("17a637614a0c8000"),                 // Expires
			bytes.Repeat([]byte{0xa5}, 32),           // Key
			hexb("51cafb27"),                         // CRC-32C
		)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.r.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("MarshalBinary\n got %x\nwant %x", got, tc.want)
			}
			if n := tc.r.EncodedLen(); n != len(tc.want) {
				t.Errorf("EncodedLen = %d, want %d", n, len(tc.want))
			}
			var back Record
			if err := back.UnmarshalBinary(tc.want); err != nil {
				t.Fatal(err)
			}
			if !back.Equal(&tc.r) {
				t.Fatalf("UnmarshalBinary = %v, want %v", back, tc.r)
			}
			if back.Created.Location() != time.UTC {
				t.Errorf("decoded time location %v, want UTC", back.Created.Location())
			}
		})
	}
}

func TestCRC32CCheckValue(t *testing.T) {
	// The CRC-32C check value of "123456789" (RFC 3720 §B.4 polynomial).
	if got := crc32.Checksum([]byte("123456789"), castagnoli); got != 0xe3069283 {
		t.Fatalf("CRC-32C check = %#x", got)
	}
}

// withCRC recomputes the trailing CRC-32C so a test can reach the checks
// behind it.
func withCRC(b []byte) []byte {
	b = bytes.Clone(b)
	if len(b) >= crcLen {
		binary.BigEndian.PutUint32(b[len(b)-crcLen:], crc32.Checksum(b[:len(b)-crcLen], castagnoli))
	}
	return b
}

func mutate(b []byte, off int, v ...byte) []byte {
	b = bytes.Clone(b)
	copy(b[off:], v)
	return b
}

func TestRecordUnmarshalErrors(t *testing.T) {
	good, err := func() ([]byte, error) { r := vectorRecord(); return r.MarshalBinary() }()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   []byte
		eof  bool
	}{
		{"empty", nil, true},
		{"header truncated", good[:offKey-1], true},
		{"key truncated", good[:offKey+5], true},
		{"CRC truncated", good[:len(good)-1], true},
		{"trailing octet", append(bytes.Clone(good), 0), false},
		{"version 0", withCRC(mutate(good, offVersion, 0)), false},
		{"version 2", withCRC(mutate(good, offVersion, 2)), false},
		{"key length 0", withCRC(mutate(good, offKeyLen, 0)), false},
		{"key length 33", withCRC(mutate(good, offKeyLen, 33)), false},
		{"key length beyond data", withCRC(mutate(good, offKeyLen, 30)), true},
		{"CRC mismatch", mutate(good, len(good)-1, good[len(good)-1]^1), false},
		{"key octet flipped", mutate(good, offKey, good[offKey]^0x80), false},
		{"AT reserved bits", withCRC(mutate(good, offAT, 0x10)), false},
		{"reserved octet", withCRC(mutate(good, offReserved, 1)), false},
		{"created negative", withCRC(mutate(good, offCreated, 0x80)), false},
		{"expires equals created", withCRC(mutate(good, offExpires, good[offCreated:offCreated+8]...)), false},
		{"expires before created", withCRC(mutate(good, offExpires, 0, 0, 0, 0, 0, 0, 0, 1)), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Record{KeyLen: 3, Key: Key{9, 9, 9}}
			err := r.UnmarshalBinary(tc.in)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
			if got := errors.Is(err, io.ErrUnexpectedEOF); got != tc.eof {
				t.Errorf("errors.Is(err, io.ErrUnexpectedEOF) = %v, want %v (%v)", got, tc.eof, err)
			}
			if r.KeyLen != 0 || r.Key != (Key{}) {
				t.Errorf("failed decode left key material: KeyLen %d", r.KeyLen)
			}
		})
	}
}

func TestRecordMarshalInvalid(t *testing.T) {
	for name, edit := range invalidEdits() {
		t.Run(name, func(t *testing.T) {
			r := vectorRecord()
			edit(&r)
			if _, err := r.MarshalBinary(); !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

// invalidEdits turns a valid record into one Validate rejects.
func invalidEdits() map[string]func(*Record) {
	return map[string]func(*Record){
		"AR zero":             func(r *Record) { r.AR = netip.Addr{} },
		"AR IPv4":             func(r *Record) { r.AR = netip.MustParseAddr("192.0.2.1") },
		"MN zero":             func(r *Record) { r.MN = netip.Addr{} },
		"MN IPv4":             func(r *Record) { r.MN = netip.MustParseAddr("192.0.2.2") },
		"AT 16":               func(r *Record) { r.AT = 16 },
		"key length 0":        func(r *Record) { r.KeyLen = 0 },
		"key length 33":       func(r *Record) { r.KeyLen = 33 },
		"created zero":        func(r *Record) { r.Created = time.Time{} },
		"created before 1970": func(r *Record) { r.Created = time.Unix(-1, 0) },
		"expires after 2262":  func(r *Record) { r.Expires = time.Date(2263, 1, 1, 0, 0, 0, 0, time.UTC) },
		"expires = created":   func(r *Record) { r.Expires = r.Created },
		"expires < created":   func(r *Record) { r.Expires = r.Created.Add(-time.Second) },
	}
}

func FuzzDecodeRecord(f *testing.F) {
	r := vectorRecord()
	good, _ := r.MarshalBinary()
	f.Add(good)
	long := vectorRecord()
	long.AT, long.SPI, long.KeyLen = 15, 0xffffffff, 32
	b, _ := long.MarshalBinary()
	f.Add(b)
	f.Add(good[:offKey])
	f.Add(withCRC(mutate(good, offKeyLen, 1)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		// Raw input, then the same input with its CRC fixed, so mutations
		// reach the field checks behind the CRC.
		for _, in := range [][]byte{data, withCRC(data)} {
			var r Record
			err := r.UnmarshalBinary(in)
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("error %v does not wrap ErrCorrupt", err)
				}
				continue
			}
			out, err := r.MarshalBinary()
			if err != nil {
				t.Fatalf("decoded record does not marshal: %v", err)
			}
			if !bytes.Equal(out, in) {
				t.Fatalf("re-marshal differs\n in %x\nout %x", in, out)
			}
			var back Record
			if err := back.UnmarshalBinary(out); err != nil || !back.Equal(&r) {
				t.Fatalf("re-parse: %v, equal %v", err, back.Equal(&r))
			}
		}
	})
}

func BenchmarkRecordMarshal(b *testing.B) {
	r := vectorRecord()
	buf := make([]byte, 0, maxEncodedLen)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = r.AppendBinary(buf[:0])
	}
}

func BenchmarkRecordUnmarshal(b *testing.B) {
	r := vectorRecord()
	data, _ := r.MarshalBinary()
	b.ReportAllocs()
	var back Record
	for b.Loop() {
		if err := back.UnmarshalBinary(data); err != nil {
			b.Fatal(err)
		}
	}
}
