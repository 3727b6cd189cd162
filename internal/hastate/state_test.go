package hastate

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/fhkey/fhkey/internal/ha"
	"github.com/fhkey/fhkey/mip6tls"
)

func key(t *testing.T, n int, v byte) mip6tls.Key {
	b := make([]byte, n)
	for i := range b {
		b[i] = v + byte(i)
	}
	k, err := mip6tls.NewKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestRoundTrip: what is put is loaded back equal (keys included), deletes
// remove, and the file is 0600.
func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ha.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	end := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := ha.SARecord{
		SA: mip6tls.SecurityAssociation{SPI: 77, CipherSuite: mip6tls.CipherSuiteAES128CBCSHA, Scope: 1, ValidityEnd: end,
			MNToHAIntegrity: key(t, 20, 1), HAToMNIntegrity: key(t, 20, 2), MNToHAEncryption: key(t, 16, 3), HAToMNEncryption: key(t, 16, 4)},
		Bootstrap: mip6tls.Bootstrap{HomeAgent6: netip.MustParseAddr("2001:db8::1"), HomeAddress6: netip.MustParseAddr("2001:db8::100"),
			HomePrefix6: netip.MustParsePrefix("2001:db8::/64"), Port: 9000},
		OutReserved: 65536, InHighest: 12,
	}
	b := ha.Binding{HomeAddress: netip.MustParseAddr("2001:db8::100"), CareOf: netip.MustParseAddrPort("[2001:db8:2::1]:4000"),
		SPI: 77, Sequence: 9, Expires: end}
	if err := s.PutSA(rec); err != nil {
		t.Fatal(err)
	}
	if err := s.PutBinding(b); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sas, bs, err := s.Load()
	if err != nil || len(sas) != 1 || len(bs) != 1 {
		t.Fatalf("Load: %v %d %d", err, len(sas), len(bs))
	}
	if !sas[0].SA.MNToHAIntegrity.Equal(&rec.SA.MNToHAIntegrity) || !sas[0].SA.HAToMNEncryption.Equal(&rec.SA.HAToMNEncryption) {
		t.Error("keys differ")
	}
	got, want := sas[0], rec
	got.SA.ValidityEnd, want.SA.ValidityEnd = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) || !sas[0].SA.ValidityEnd.Equal(end) {
		t.Errorf("SA %+v, want %+v", got, want)
	}
	if bs[0].HomeAddress != b.HomeAddress || bs[0].CareOf != b.CareOf || bs[0].Sequence != 9 || !bs[0].Expires.Equal(end) {
		t.Errorf("binding %+v", bs[0])
	}
	if err := s.DeleteSA(77); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteBinding(b.HomeAddress); err != nil {
		t.Fatal(err)
	}
	if sas, bs, _ := s.Load(); len(sas)+len(bs) != 0 {
		t.Error("deleted records loaded")
	}
	// A corrupt record is an error, not a panic.
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketSAs).Put([]byte{1}, []byte("{")) }); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Load(); !errors.Is(err, ErrCorrupt) {
		t.Errorf("corrupt record: %v", err)
	}
}

// TestPutLeases: one call sets the lease of several SAs (the rest of each
// record, keys included, unchanged) and skips an SA that is not stored.
func TestPutLeases(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "ha.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	end := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var want []ha.SARecord
	for _, spi := range []mip6tls.SPI{5, 6} {
		rec := ha.SARecord{SA: mip6tls.SecurityAssociation{SPI: spi, CipherSuite: mip6tls.CipherSuiteAES128CBCSHA, Scope: 1, ValidityEnd: end,
			MNToHAIntegrity: key(t, 20, 1), HAToMNIntegrity: key(t, 20, 2), MNToHAEncryption: key(t, 16, 3), HAToMNEncryption: key(t, 16, 4)},
			Bootstrap:   mip6tls.Bootstrap{HomeAddress6: netip.MustParseAddr("2001:db8::100")},
			OutReserved: 65536, InHighest: 3, InLease: 16}
		if err := s.PutSA(rec); err != nil {
			t.Fatal(err)
		}
		want = append(want, rec)
	}
	if err := s.PutLeases([]ha.Lease{{SPI: 5, Lease: 4000}, {SPI: 6, Lease: 7}, {SPI: 99, Lease: 1}}); err != nil {
		t.Fatal(err)
	}
	want[0].InLease, want[1].InLease = 4000, 7
	sas, _, err := s.Load()
	if err != nil || len(sas) != 2 {
		t.Fatalf("Load: %v, %d SAs (the lease of an unknown SPI must not create one)", err, len(sas))
	}
	for i, got := range sas {
		if !got.SA.MNToHAIntegrity.Equal(&want[i].SA.MNToHAIntegrity) || !got.SA.HAToMNEncryption.Equal(&want[i].SA.HAToMNEncryption) {
			t.Errorf("SA %d: keys changed", got.SA.SPI)
		}
		got.SA.ValidityEnd, want[i].SA.ValidityEnd = time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("SA %d: %+v, want %+v", got.SA.SPI, got, want[i])
		}
	}
}
