package mip6tls

import (
	"crypto/hmac"
	"crypto/sha256"
	"testing"
	"time"
)

// doneResponse is the largest message of a PSK exchange: message 4 with a
// full SA and bootstrapping data.
func doneResponse(b *testing.B) []byte {
	sa := exampleSA(b)
	bs := exampleBootstrap
	w, err := PSKDoneResponse(2, exampleMNRand, exampleHACRand, StatusOK, &sa, &bs, examplePSK, exampleCB)
	if err != nil {
		b.Fatal(err)
	}
	return w
}

// hmacRate measures the limit: HMAC-SHA256 alone over the same input as
// the message's auth ("HAC" | msg-octets | CB-octets), n times.
func hmacRate(b *testing.B, wire []byte, n int) float64 {
	msgOctets, _, err := MsgOctets(wire)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	var sum [32]byte
	for range n {
		m := hmac.New(sha256.New, examplePSK)
		m.Write([]byte("HAC"))
		m.Write(msgOctets)
		m.Write(exampleCB)
		m.Sum(sum[:0])
	}
	return float64(n) / time.Since(start).Seconds()
}

// BenchmarkVerifyMessage verifies message 4 (parse, locate msg-octets,
// HMAC, constant-time compare, typed parse); limit-ratio is its rate over
// the rate of the bare HMAC over the same octets, measured right after in
// the same run (1.0 would mean parsing costs nothing).
func BenchmarkVerifyMessage(b *testing.B) {
	wire := doneResponse(b)
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := VerifyMessage(wire, examplePSK, SenderHAC, exampleCB); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	rate := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "msgs/s")
	b.ReportMetric(rate/hmacRate(b, wire, b.N), "limit-ratio")
}

// BenchmarkParseMessage parses message 4 into typed parameters.
func BenchmarkParseMessage(b *testing.B) {
	wire := doneResponse(b)
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for range b.N {
		if _, err := ParseMessage(wire); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignMessage marshals and signs message 4 (PSKDoneResponse).
func BenchmarkSignMessage(b *testing.B) {
	sa := exampleSA(b)
	bs := exampleBootstrap
	b.ReportAllocs()
	for range b.N {
		if _, err := PSKDoneResponse(2, exampleMNRand, exampleHACRand, StatusOK, &sa, &bs, examplePSK, exampleCB); err != nil {
			b.Fatal(err)
		}
	}
}
