package keystore

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
)

func testMSK(first byte) (m hokey.MSK) {
	for i := range m {
		m[i] = first + byte(i)
	}
	return m
}

// mskVector is the docs/keystore.md test vector: NAI mn@example.com, MAC
// 02:00:00:00:00:01, Expires 2024-01-01T12:00:00Z, MSK 00..3f.
var mskVector = MSKRecord{
	NAI: "mn@example.com", MSK: testMSK(0), MAC: [6]byte{2, 0, 0, 0, 0, 1},
	Expires: time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC),
}

// TestMSKRecordVector: the encoding, field by field, and back.
func TestMSKRecordVector(t *testing.T) {
	want, _ := hex.DecodeString(strings.Join([]string{
		"01", "00", // version, reserved
		"020000000001",     // MAC
		"17a637614a0c8000", // Expires
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f", // MSK
		"798b774c", // CRC-32C over NAI and octets 0..79
	}, ""))
	got, err := appendMSKRecord(nil, &mskVector)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("encoding\n got %x\nwant %x", got, want)
	}
	var r MSKRecord
	if err := parseMSKRecord([]byte(mskVector.NAI), got, &r); err != nil {
		t.Fatal(err)
	}
	if r.NAI != mskVector.NAI || !r.MSK.Equal(&mskVector.MSK) || r.MAC != mskVector.MAC || !r.Expires.Equal(mskVector.Expires) {
		t.Errorf("decoded %+v, want %+v", r, mskVector)
	}
	if s := fmt.Sprint(r); strings.Contains(s, "0102030405") {
		t.Errorf("fmt shows the MSK: %s", s)
	}
}

// TestMSKRecordCorrupt: each damage is ErrCorrupt, and the record is zeroed.
func TestMSKRecordCorrupt(t *testing.T) {
	good, _ := appendMSKRecord(nil, &mskVector)
	nai := []byte(mskVector.NAI)
	mod := func(i int, v byte) []byte { b := bytes.Clone(good); b[i] = v; return b }
	for _, c := range []struct {
		name string
		nai  []byte
		data []byte
		eof  bool
	}{
		{"short", nai, good[:MSKRecordLen-1], true},
		{"empty", nai, nil, true},
		{"trailing", nai, append(bytes.Clone(good), 0), false},
		{"version", nai, mod(0, 2), false},
		{"reserved", nai, mod(1, 1), false},
		{"crc", nai, mod(20, good[20]^1), false},
		{"other NAI", []byte("other@example.com"), good, false},
		{"empty NAI", nil, good, false},
	} {
		var r MSKRecord
		r.MSK = testMSK(9)
		err := parseMSKRecord(c.nai, c.data, &r)
		if !errors.Is(err, ErrCorrupt) || errors.Is(err, io.ErrUnexpectedEOF) != c.eof {
			t.Errorf("%s: %v, want ErrCorrupt (unexpected EOF %v)", c.name, err, c.eof)
		}
		if r.MSK != (hokey.MSK{}) {
			t.Errorf("%s: record not zeroed", c.name)
		}
	}
	// expires 0 with a valid CRC
	zero := mskVector
	zero.Expires = time.Unix(0, 1)
	b, _ := appendMSKRecord(nil, &zero)
	copy(b[offMSKExpires:], make([]byte, 8))
	b = b[:offMSKCRC]
	sum := crcOver(nai, b)
	b = append(b, byte(sum>>24), byte(sum>>16), byte(sum>>8), byte(sum))
	if err := parseMSKRecord(nai, b, new(MSKRecord)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("expires 0: %v", err)
	}
}

// TestMSKsPersist: Put, LookupMSK and SupplicantAddr; a reopened file
// holds the MSK still valid, and not the one expired meanwhile; Delete
// and Expire remove from memory and file.
func TestMSKsPersist(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	path := filepath.Join(t.TempDir(), "keys.db")
	open := func() (*Bolt, *MSKs) {
		b, err := OpenBolt(path, WithClock(clock), WithNoSync())
		if err != nil {
			t.Fatal(err)
		}
		m, err := b.MSKs()
		if err != nil {
			t.Fatal(err)
		}
		return b, m
	}
	b, m := open()
	long := MSKRecord{NAI: "long@example.com", MSK: testMSK(1), MAC: [6]byte{2, 0, 0, 0, 0, 2}, Expires: now.Add(time.Hour)}
	short := MSKRecord{NAI: "short@example.com", MSK: testMSK(2), MAC: [6]byte{2, 0, 0, 0, 0, 3}, Expires: now.Add(time.Minute)}
	for _, r := range []MSKRecord{long, short} {
		if err := m.Put(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Put(MSKRecord{NAI: "", Expires: now.Add(time.Hour)}); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty NAI: %v", err)
	}
	if err := m.Put(MSKRecord{NAI: strings.Repeat("a", MaxNAILen+1), Expires: now.Add(time.Hour)}); !errors.Is(err, ErrInvalid) {
		t.Errorf("long NAI: %v", err)
	}
	// Holders: sorted by NAI, no MSK, only the ones valid at the time.
	want := []MSKHolder{{long.NAI, long.MAC, long.Expires}, {short.NAI, short.MAC, short.Expires}}
	if got := m.Holders(now); !slices.Equal(got, want) {
		t.Errorf("Holders = %+v, want %+v", got, want)
	}
	if got := m.Holders(now.Add(30 * time.Minute)); !slices.Equal(got, want[:1]) {
		t.Errorf("Holders after the short one expired = %+v", got)
	}
	msk, exp, ok := m.LookupMSK([]byte(long.NAI))
	if !ok || !msk.Equal(&long.MSK) || !exp.Equal(long.Expires) {
		t.Fatalf("LookupMSK = %v %v %v", msk, exp, ok)
	}
	if mac, ok := m.SupplicantAddr([]byte(short.NAI)); !ok || mac != short.MAC {
		t.Errorf("SupplicantAddr = %x %v", mac, ok)
	}
	if _, _, ok := m.LookupMSK([]byte("nobody@example.com")); ok {
		t.Error("unknown NAI found")
	}
	b.Close()

	now = now.Add(2 * time.Minute) // short expired while the router was down
	b, m = open()
	if m.Len() != 1 {
		t.Errorf("after reopening: %d MSKs, want 1", m.Len())
	}
	if msk, _, ok := m.LookupMSK([]byte(long.NAI)); !ok || !msk.Equal(&long.MSK) {
		t.Error("long-lived MSK lost across the restart")
	}
	if _, ok := m.SupplicantAddr([]byte(short.NAI)); ok {
		t.Error("expired MSK's MAC returned")
	}
	now = now.Add(time.Hour)
	if _, _, ok := m.LookupMSK([]byte(long.NAI)); ok {
		t.Error("expired MSK returned")
	}
	if n, err := m.Expire(now); err != nil || n != 1 {
		t.Errorf("Expire = %d, %v; want 1", n, err)
	}
	if err := m.Put(long); err != nil { // put back, then delete
		t.Fatal(err)
	}
	if err := m.Delete(long.NAI); err != nil || m.Len() != 0 {
		t.Errorf("Delete: %v, %d left", err, m.Len())
	}
	if err := m.Delete(long.NAI); err != nil {
		t.Errorf("Delete absent: %v", err)
	}
	b.Close()
	b, m = open()
	defer b.Close()
	if m.Len() != 0 {
		t.Errorf("deleted MSK back after reopening (%d)", m.Len())
	}
}

// TestMSKsLookupAllocs: the PAR's lookup per FBU allocates nothing.
func TestMSKsLookupAllocs(t *testing.T) {
	b, err := OpenBolt(filepath.Join(t.TempDir(), "keys.db"), WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	m, err := b.MSKs()
	if err != nil {
		t.Fatal(err)
	}
	r := mskVector
	r.Expires = time.Now().Add(time.Hour)
	if err := m.Put(r); err != nil {
		t.Fatal(err)
	}
	nai := []byte(r.NAI)
	if a := testing.AllocsPerRun(100, func() {
		if _, _, ok := m.LookupMSK(nai); !ok {
			t.Fatal("not found")
		}
		if _, ok := m.SupplicantAddr(nai); !ok {
			t.Fatal("no MAC")
		}
		if _, _, mac, ok := m.LookupSupplicantMSK(nai); !ok || mac != r.MAC {
			t.Fatal("no MSK with MAC")
		}
	}); a != 0 {
		t.Errorf("%v allocations per lookup", a)
	}
}

// FuzzParseMSKRecord: a record that parses re-encodes to the same octets.
func FuzzParseMSKRecord(f *testing.F) {
	good, _ := appendMSKRecord(nil, &mskVector)
	f.Add([]byte(mskVector.NAI), good)
	f.Add([]byte("x"), good[:10])
	f.Fuzz(func(t *testing.T, nai, data []byte) {
		var r MSKRecord
		if err := parseMSKRecord(nai, data, &r); err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error not ErrCorrupt: %v", err)
			}
			return
		}
		if r.Expires.Year() > 2262 {
			return // decodes, but Put refuses it
		}
		again, err := appendMSKRecord(nil, &r)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("re-encoded %x, parsed %x", again, data)
		}
	})
}
