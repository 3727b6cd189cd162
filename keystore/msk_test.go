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

	bolt "go.etcd.io/bbolt"

	"github.com/fhkey/fhkey/hokey"
)

func testMSK(first byte) (m hokey.MSK) {
	for i := range m {
		m[i] = first + byte(i)
	}
	return m
}

// mskVector is the docs/keystore.md test vector: NAI mn@example.com, MAC
// 02:00:00:00:00:01, Expires 2024-01-01T12:00:00Z, authenticated
// 2024-01-01T11:00:00Z on port eth1, MSK 00..3f.
var mskVector = MSKRecord{
	NAI: "mn@example.com", MSK: testMSK(0), MAC: [6]byte{2, 0, 0, 0, 0, 1},
	Expires:       time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC),
	Authenticated: time.Date(2024, 1, 1, 11, 0, 0, 0, time.UTC), Port: "eth1",
}

// mskVectorV1 is the same record as written by the version 1 layout
// (no authentication time, no port): docs/keystore.md's earlier vector.
var mskVectorV1, _ = hex.DecodeString(strings.Join([]string{
	"01", "00", // version, reserved
	"020000000001",     // MAC
	"17a637614a0c8000", // Expires
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f", // MSK
	"798b774c", // CRC-32C over NAI and octets 0..79
}, ""))

// TestMSKRecordVector: the encoding (version 2), field by field, and
// back.
func TestMSKRecordVector(t *testing.T) {
	want, _ := hex.DecodeString(strings.Join([]string{
		"02", "00", // version, reserved
		"020000000001",                     // MAC
		"17a637614a0c8000",                 // Expires
		"17a6341b1953e000",                 // Authenticated
		"65746831000000000000000000000000", // Port "eth1", NUL padded
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f", // MSK
		"52928415", // CRC-32C over NAI and octets 0..103
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
	if !mskRecordEqual(&r, &mskVector) {
		t.Errorf("decoded %+v, want %+v", r, mskVector)
	}
	if s := fmt.Sprint(r); strings.Contains(s, "0102030405") {
		t.Errorf("fmt shows the MSK: %s", s)
	}
	noPort := mskVector
	noPort.Authenticated, noPort.Port = time.Time{}, ""
	b, _ := appendMSKRecord(nil, &noPort)
	if err := parseMSKRecord([]byte(noPort.NAI), b, &r); err != nil || !mskRecordEqual(&r, &noPort) {
		t.Errorf("without time and port: %+v, %v", r, err)
	}
}

// TestMSKRecordV1: a record of the version 1 layout decodes with no
// authentication time and no port.
func TestMSKRecordV1(t *testing.T) {
	var r MSKRecord
	if err := parseMSKRecord([]byte(mskVector.NAI), mskVectorV1, &r); err != nil {
		t.Fatal(err)
	}
	want := mskVector
	want.Authenticated, want.Port = time.Time{}, ""
	if !mskRecordEqual(&r, &want) {
		t.Errorf("decoded %+v, want %+v", r, want)
	}
}

func mskRecordEqual(a, b *MSKRecord) bool {
	return a.NAI == b.NAI && a.MSK.Equal(&b.MSK) && a.MAC == b.MAC && a.Expires.Equal(b.Expires) &&
		a.Authenticated.Equal(b.Authenticated) && a.Port == b.Port
}

// TestMSKRecordCorrupt: each damage is ErrCorrupt, and the record is zeroed.
func TestMSKRecordCorrupt(t *testing.T) {
	good, _ := appendMSKRecord(nil, &mskVector)
	nai := []byte(mskVector.NAI)
	mod := func(b []byte, i int, v byte) []byte { b = bytes.Clone(b); b[i] = v; return b }
	withCRC := func(b []byte) []byte {
		b = bytes.Clone(b[:len(b)-4])
		sum := crcOver(nai, b)
		return append(b, byte(sum>>24), byte(sum>>16), byte(sum>>8), byte(sum))
	}
	for _, c := range []struct {
		name string
		nai  []byte
		data []byte
		eof  bool
	}{
		{"short", nai, good[:MSKRecordLen-1], true},
		{"v1 short", nai, mskVectorV1[:MSKRecordV1Len-1], true},
		{"v1 length of v2", nai, mod(good, 0, 1), false},
		{"v2 length of v1", nai, mod(mskVectorV1, 0, 2), true},
		{"empty", nai, nil, true},
		{"trailing", nai, append(bytes.Clone(good), 0), false},
		{"v1 trailing", nai, append(bytes.Clone(mskVectorV1), 0), false},
		{"version 3", nai, mod(good, 0, 3), false},
		{"version 0", nai, mod(good, 0, 0), false},
		{"reserved", nai, mod(good, 1, 1), false},
		{"crc", nai, mod(good, 20, good[20]^1), false},
		{"v1 crc", nai, mod(mskVectorV1, 20, mskVectorV1[20]^1), false},
		{"other NAI", []byte("other@example.com"), good, false},
		{"empty NAI", nil, good, false},
		{"authenticated negative", nai, withCRC(mod(good, offMSKAuth, 0x80)), false},
		{"port after padding", nai, withCRC(mod(good, offMSK-1, 'x')), false},
		{"expires 0", nai, withCRC(append(append(bytes.Clone(good[:offMSKExpires]), make([]byte, 8)...), good[offMSKAuth:]...)), false},
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
}

// TestMSKRecordInvalid: Put refuses a port too long or with a NUL and an
// authentication time before 1970.
func TestMSKRecordInvalid(t *testing.T) {
	for name, edit := range map[string]func(*MSKRecord){
		"port too long": func(r *MSKRecord) { r.Port = strings.Repeat("p", MaxMSKPortLen+1) },
		"port NUL":      func(r *MSKRecord) { r.Port = "eth\x001" },
		"authenticated": func(r *MSKRecord) { r.Authenticated = time.Unix(-1, 0) },
	} {
		r := mskVector
		edit(&r)
		if _, err := appendMSKRecord(nil, &r); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	r := mskVector
	r.Port = strings.Repeat("p", MaxMSKPortLen)
	b, err := appendMSKRecord(nil, &r)
	var back MSKRecord
	if err != nil || parseMSKRecord([]byte(r.NAI), b, &back) != nil || back.Port != r.Port {
		t.Errorf("16-octet port: %v, got %q", err, back.Port)
	}
}

// TestMSKsOpenV1File: a bbolt file whose msk bucket holds a record of the
// version 1 layout (written by the previous fhkey) opens; the record is
// served with no authentication time and no port, and a Put rewrites it
// as version 2.
func TestMSKsOpenV1File(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	now := mskVector.Expires.Add(-30 * time.Minute)
	// The store's file as the previous fhkey made it (the file layout
	// is unchanged: version 1), then its record written as it wrote it.
	b0, err := OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	b0.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucket(bucketMSK)
		if err != nil {
			return err
		}
		return bk.Put([]byte(mskVector.NAI), mskVectorV1)
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	b, err := OpenBolt(path, WithClock(func() time.Time { return now }), WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	m, err := b.MSKs()
	if err != nil {
		t.Fatal(err)
	}
	h := m.Holders(now)
	if len(h) != 1 || h[0].NAI != mskVector.NAI || h[0].MAC != mskVector.MAC || !h[0].Expires.Equal(mskVector.Expires) ||
		!h[0].Authenticated.IsZero() || h[0].Port != "" {
		t.Fatalf("Holders of the version 1 file: %+v", h)
	}
	if msk, _, ok := m.LookupMSK([]byte(mskVector.NAI)); !ok || !msk.Equal(&mskVector.MSK) {
		t.Fatal("version 1 MSK not served")
	}
	if err := m.Put(mskVector); err != nil {
		t.Fatal(err)
	}
	if err := b.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMSK).Get([]byte(mskVector.NAI)); len(v) != MSKRecordLen || v[0] != MSKRecordVersion {
			return fmt.Errorf("rewritten record: % x", v)
		}
		return nil
	}); err != nil {
		t.Error(err)
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
	want := []MSKHolder{{NAI: long.NAI, MAC: long.MAC, Expires: long.Expires}, {NAI: short.NAI, MAC: short.MAC, Expires: short.Expires}}
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

// openMSKs opens the MSK table of a new store with opts, closed at the
// test's end.
func openMSKs(t testing.TB, opts ...Option) *MSKs {
	t.Helper()
	b, err := OpenBolt(filepath.Join(t.TempDir(), "keys.db"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	m, err := b.MSKs()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestMSKsGeneration: every change of the table advances MSKGeneration
// (Put, Delete, Expire removing a record), lookups and no-op deletes do
// not: the router's FHK cache trusts an entry while it has not moved.
func TestMSKsGeneration(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	m := openMSKs(t, WithClock(func() time.Time { return now }), WithNoSync())
	r := MSKRecord{NAI: "mn@example.com", MSK: testMSK(1), Expires: now.Add(time.Minute)}
	for _, step := range []struct {
		name    string
		do      func() error
		advance bool
	}{
		{"Put", func() error { return m.Put(r) }, true},
		{"LookupSupplicantMSK", func() error { m.LookupSupplicantMSK([]byte(r.NAI)); return nil }, false},
		{"Put again", func() error { return m.Put(r) }, true},
		{"Delete", func() error { return m.Delete(r.NAI) }, true},
		{"Delete absent", func() error { return m.Delete(r.NAI) }, false},
		{"Put back", func() error { return m.Put(r) }, true},
		{"Expire, nothing expired", func() error { _, err := m.Expire(now); return err }, false},
		{"Expire", func() error { _, err := m.Expire(now.Add(time.Hour)); return err }, true},
	} {
		before := m.MSKGeneration()
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if moved := m.MSKGeneration() != before; moved != step.advance {
			t.Errorf("%s: generation moved %v, want %v", step.name, moved, step.advance)
		}
	}
}

// TestMSKsLookupAllocs: the PAR's lookup per FBU allocates nothing.
func TestMSKsLookupAllocs(t *testing.T) {
	m := openMSKs(t, WithNoSync())
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

// FuzzParseMSKRecord: a version 2 record that parses re-encodes to the
// same octets; a version 1 record re-encodes (as version 2) to one that
// parses equal.
func FuzzParseMSKRecord(f *testing.F) {
	good, _ := appendMSKRecord(nil, &mskVector)
	f.Add([]byte(mskVector.NAI), good)
	f.Add([]byte(mskVector.NAI), mskVectorV1)
	f.Add([]byte("x"), good[:10])
	f.Fuzz(func(t *testing.T, nai, data []byte) {
		var r MSKRecord
		if err := parseMSKRecord(nai, data, &r); err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error not ErrCorrupt: %v", err)
			}
			return
		}
		if r.Expires.Year() > 2262 || r.Authenticated.Year() > 2262 {
			return // decodes, but Put refuses it
		}
		again, err := appendMSKRecord(nil, &r)
		if err != nil {
			t.Fatal(err)
		}
		if data[0] == MSKRecordVersion && !bytes.Equal(again, data) {
			t.Fatalf("re-encoded %x, parsed %x", again, data)
		}
		var back MSKRecord
		if err := parseMSKRecord(nai, again, &back); err != nil || !mskRecordEqual(&back, &r) {
			t.Fatalf("re-parsed %+v (%v), want %+v", back, err, r)
		}
	})
}
