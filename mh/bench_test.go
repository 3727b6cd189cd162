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
