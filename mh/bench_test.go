package mh

import (
	"testing"
)

// The hot path of a PAR: a received FBU with AltCoA, MH-LLA and BADF (64
// octets).

func BenchmarkParseFastBindingUpdate(b *testing.B) {
	_, _, wire := fbuWithBADF()
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseMessage(wire); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseFastBindingUpdateView is the PAR's allocation-free decode
// of the same FBU.
func BenchmarkParseFastBindingUpdateView(b *testing.B) {
	_, _, wire := fbuWithBADF()
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseFastBindingUpdate(wire); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalFastBindingUpdate(b *testing.B) {
	msg, _, wire := fbuWithBADF()
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := MarshalMessage(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendFastBindingUpdate(b *testing.B) {
	msg, _, wire := fbuWithBADF()
	buf := make([]byte, 0, 128)
	var cp Codepoints
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cp.AppendMessage(buf[:0], msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCoveredByBADF(b *testing.B) {
	_, _, wire := fbuWithBADF()
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CoveredByBADF(wire, newCoA, parAddr); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendCoveredByBADF(b *testing.B) {
	_, _, wire := fbuWithBADF()
	var buf [MaxMobilityDataLen]byte
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := AppendCoveredByBADF(buf[:0], wire, newCoA, parAddr); err != nil {
			b.Fatal(err)
		}
	}
}

// TestReceiveFastBindingUpdateAllocs keeps the PAR's decode of an FBU
// allocation-free: checksum, ParseFastBindingUpdate, AppendCoveredByBADF.
func TestReceiveFastBindingUpdateAllocs(t *testing.T) {
	_, _, wire := fbuWithBADF()
	if err := SetChecksum(wire, mnCoA, parAddr); err != nil {
		t.Fatal(err)
	}
	var buf [MaxMobilityDataLen]byte
	allocs := testing.AllocsPerRun(100, func() {
		if err := VerifyChecksum(wire, mnCoA, parAddr); err != nil {
			t.Fatal(err)
		}
		v, err := ParseFastBindingUpdate(wire)
		if err != nil || !v.BADF || v.AlternateCareOfAddress != newCoA || v.Sequence != 7 {
			t.Fatalf("%+v, %v", v, err)
		}
		c, err := AppendCoveredByBADF(buf[:0], wire, newCoA, parAddr)
		if err != nil || len(c.Authenticator) != len(auth96) {
			t.Fatalf("%+v, %v", c, err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per FBU decode, want 0", allocs)
	}
}

// BenchmarkVerifyFastBindingUpdate is the whole receive check: checksum,
// covered data, HMAC-SHA1-96 and constant-time compare.
func BenchmarkVerifyFastBindingUpdate(b *testing.B) {
	_, _, wire := fbuWithBADF()
	key := seq(20)
	c, _ := CoveredByBADF(wire, newCoA, parAddr)
	WriteAuthenticator(wire, c, hmacSHA196(key, c.Data))
	SetChecksum(wire, mnCoA, parAddr)
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifyChecksum(wire, mnCoA, parAddr); err != nil {
			b.Fatal(err)
		}
		c, err := CoveredByBADF(wire, newCoA, parAddr)
		if err != nil || !c.Equal(hmacSHA196(key, c.Data)) {
			b.Fatal("does not verify", err)
		}
	}
}

func BenchmarkChecksum(b *testing.B) {
	_, _, wire := fbuWithBADF()
	b.SetBytes(int64(len(wire)))
	for b.Loop() {
		SetChecksum(wire, mnCoA, parAddr)
	}
}
