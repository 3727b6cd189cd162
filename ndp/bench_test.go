package ndp_test

import (
	"testing"

	"github.com/fhkey/fhkey/ndp"
)

// The benchmarks use a SEND-signed RtSolPr with a Handover Key Request
// (976 octets, 7 options), the largest message a mobile node sends per
// handover.

func BenchmarkParseMessage(b *testing.B) {
	msg := signedRtSolPr(b)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ndp.ParseMessage(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalMessage(b *testing.B) {
	m, err := ndp.ParseMessage(signedRtSolPr(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		out, err := ndp.MarshalMessage(m)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(out)))
	}
}

func BenchmarkRSASignatureOffset(b *testing.B) {
	msg := signedRtSolPr(b)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ndp.RSASignatureOffset(msg); err != nil {
			b.Fatal(err)
		}
	}
}
