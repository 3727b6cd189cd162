package send

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"testing"
	"time"
)

// benchRtSolPr returns a SEND-signed RtSolPr (RSA-2048, CGA, Timestamp,
// Nonce: 712 octets) and a Verifier with the caches a node runs with. The
// replay cache is left out because the benchmark verifies one message over
// and over, which it would (rightly) reject; TestReplayedSolicitation covers
// it, and it costs one SHA-256 and a map operation.
func benchRtSolPr(b *testing.B) (testMessage, []byte, *Verifier) {
	m, signed := signedMessage(b, 2048, "RtSolPr")
	ts, _ := NewTimestampCache(DefaultTimestampParams, DefaultTimestampCacheSize)
	now := testTime
	v := &Verifier{
		Keys:       NewKeyCache(DefaultKeyCacheSize),
		Timestamps: ts,
		Now:        func() time.Time { return now },
	}
	return m, signed, v
}

// rsaVerifyRate measures rsa.VerifyPKCS1v15 alone on the benchmark's key,
// the physical limit of a verification.
func rsaVerifyRate(b *testing.B, key *rsa.PrivateKey) float64 {
	digest := sha1.Sum([]byte("limit"))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA1, digest[:])
	if err != nil {
		b.Fatal(err)
	}
	const n = 2000
	start := time.Now()
	for range n {
		if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA1, digest[:], sig); err != nil {
			b.Fatal(err)
		}
	}
	return n / time.Since(start).Seconds()
}

// BenchmarkVerify is a full verification (checksum, options, CGA through the
// key cache, Key Hash, timestamp cache, RSA-2048 signature) of a signed
// RtSolPr. It reports verifications per second and the ratio to
// rsa.VerifyPKCS1v15 alone measured in the same run.
func BenchmarkVerify(b *testing.B) {
	m, signed, v := benchRtSolPr(b)
	if _, err := v.Verify(signed, m.src, m.dst); err != nil {
		b.Fatal(err)
	}
	limit := rsaVerifyRate(b, m.key)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.Verify(signed, m.src, m.dst); err != nil {
			b.Fatal(err)
		}
	}
	rate := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "verif/s")
	b.ReportMetric(limit, "rsa-verif/s")
	b.ReportMetric(rate/limit, "ratio")
}

// BenchmarkVerifyColdCache verifies with an empty key cache each time: the
// cost for a first message from a neighbor (cga.Verify and key decoding).
func BenchmarkVerifyColdCache(b *testing.B) {
	m, signed, v := benchRtSolPr(b)
	v.Keys = nil
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(signed, m.src, m.dst); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verif/s")
}

// BenchmarkRSAVerifyLimit is rsa.VerifyPKCS1v15 alone (RSA-2048, SHA-1).
func BenchmarkRSAVerifyLimit(b *testing.B) {
	key := testKey(b, 2048)
	digest := sha1.Sum([]byte("limit"))
	sig, _ := rsa.SignPKCS1v15(nil, key, crypto.SHA1, digest[:])
	b.ReportAllocs()
	for b.Loop() {
		if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA1, digest[:], sig); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verif/s")
}

// BenchmarkVerifyParallel runs BenchmarkVerify's work on every core.
func BenchmarkVerifyParallel(b *testing.B) {
	m, signed, v := benchRtSolPr(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(signed, m.src, m.dst); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verif/s")
}

// BenchmarkSign signs the same RtSolPr with RSA-2048.
func BenchmarkSign(b *testing.B) {
	m, _ := signedMessage(b, 2048, "RtSolPr")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Sign(m.msg, m.src, m.dst, m.key); err != nil {
			b.Fatal(err)
		}
	}
}
