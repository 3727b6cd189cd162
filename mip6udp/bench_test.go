package mip6udp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"net"
	"testing"
	"time"
)

// benchPayload is the payload of the data-plane benchmarks: a 1400-octet
// tunneled packet, near a 1500-octet MTU once encapsulated.
const benchPayload = 1400

// TestSealOpenDoesNotAllocate: with caller-supplied buffers, sealing and
// opening allocate nothing, for every suite.
func TestSealOpenDoesNotAllocate(t *testing.T) {
	for _, s := range Suites() {
		out, in := pair(t, fixedConfig(t, s.ID, 3, 0x42))
		payload := make([]byte, benchPayload)
		pkt := make([]byte, 0, 2048)
		dst := make([]byte, 0, 2048)
		allocs := testing.AllocsPerRun(200, func() {
			var err error
			pkt, err = out.Seal(pkt[:0], PacketTypeData, 41, payload)
			if err != nil {
				t.Fatal(err)
			}
			if _, dst, err = in.Open(dst[:0], pkt); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per seal+open, want 0", s.Name, allocs)
		}
	}
}

// limitPath is the physical limit of one packet: the standard library's
// AES-128-CBC encryption and HMAC-SHA1 of the sender, HMAC-SHA1 and
// AES-128-CBC decryption of the receiver, over the same octets as a
// sealed packet, with nothing else (no header, padding, window or
// checks).
type limitPath struct {
	enc, dec cbcMode
	macS     hashSum
	macR     hashSum
	iv       []byte
	buf      []byte
	out      []byte
}

type hashSum interface {
	Reset()
	Write([]byte) (int, error)
	Sum([]byte) []byte
}

func newLimitPath(tb testing.TB, n int) *limitPath {
	block, err := aes.NewCipher(make([]byte, 16))
	if err != nil {
		tb.Fatal(err)
	}
	iv := make([]byte, aes.BlockSize)
	return &limitPath{
		enc:  cipher.NewCBCEncrypter(block, iv).(cbcMode),
		dec:  cipher.NewCBCDecrypter(block, iv).(cbcMode),
		macS: hmac.New(sha1.New, make([]byte, 20)),
		macR: hmac.New(sha1.New, make([]byte, 20)),
		iv:   iv,
		buf:  make([]byte, HeaderLen+aes.BlockSize+n),
		out:  make([]byte, 0, sha1.Size),
	}
}

func (l *limitPath) run() {
	ct := l.buf[HeaderLen+aes.BlockSize:]
	l.enc.SetIV(l.iv)
	l.enc.CryptBlocks(ct, ct)
	l.macS.Reset()
	l.macS.Write(l.buf)
	l.out = l.macS.Sum(l.out[:0])
	l.macR.Reset()
	l.macR.Write(l.buf)
	l.out = l.macR.Sum(l.out[:0])
	l.dec.SetIV(l.iv)
	l.dec.CryptBlocks(ct, ct)
}

// BenchmarkSealOpen measures, in one run, Seal+Open of a 1400-octet
// payload with AES_128_CBC_SHA against limitPath over the same
// ciphertext length (1408 octets), alternating batches so both see the
// same machine state. Target: limit-ratio ≤ 1.2 and 0 allocs/op.
func BenchmarkSealOpen(b *testing.B) {
	out, in := pair(b, fixedConfig(b, AES128CBCSHA, 3, 0x42))
	payload := make([]byte, benchPayload)
	pkt := make([]byte, 0, 2048)
	dst := make([]byte, 0, 2048)
	limit := newLimitPath(b, out.paddedLen(benchPayload))
	tOurs, tLimit, n := alternate(b, func() {
		var err error
		pkt, _ = out.Seal(pkt[:0], PacketTypeData, 41, payload)
		if _, dst, err = in.Open(dst[:0], pkt); err != nil {
			b.Fatal(err)
		}
	}, limit.run)
	b.ReportMetric(float64(tOurs.Nanoseconds())/n, "ns/packet")
	b.ReportMetric(float64(tLimit.Nanoseconds())/n, "limit-ns/packet")
	b.ReportMetric(tOurs.Seconds()/tLimit.Seconds(), "limit-ratio")
	b.ReportMetric(n*benchPayload*8/tOurs.Seconds()/1e6, "Mbit/s")
}

// BenchmarkSuites measures Seal+Open of a 1400-octet payload per suite.
func BenchmarkSuites(b *testing.B) {
	for _, s := range Suites() {
		b.Run(s.Name, func(b *testing.B) {
			out, in := pair(b, fixedConfig(b, s.ID, 3, 0x42))
			payload := make([]byte, benchPayload)
			pkt := make([]byte, 0, 2048)
			dst := make([]byte, 0, 2048)
			b.ReportAllocs()
			b.SetBytes(benchPayload)
			for b.Loop() {
				var err error
				pkt, _ = out.Seal(pkt[:0], PacketTypeData, 41, payload)
				if _, dst, err = in.Open(dst[:0], pkt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUDPPath measures the MN→HA data plane over a real UDP socket
// pair on loopback, in one run: 1400-octet payloads sent plain (the
// payload alone in a datagram) and protected (Seal, send to the mipv6tls
// path, receive, Open), in lockstep (send one, receive one) so no
// datagram is lost. Reports both throughputs in Mbit/s of payload and
// their ratio.
func BenchmarkUDPPath(b *testing.B) {
	ha, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Skipf("no loopback UDP: %v", err)
	}
	defer ha.Close()
	mn, err := net.DialUDP("udp", nil, ha.LocalAddr().(*net.UDPAddr))
	if err != nil {
		b.Fatal(err)
	}
	defer mn.Close()
	out, in := pair(b, fixedConfig(b, AES128CBCSHA, 3, 0x42))
	payload := make([]byte, benchPayload)
	pkt := make([]byte, 0, 2048)
	rx := make([]byte, 2048)
	dst := make([]byte, 0, 2048)
	lookup := func(s SPI) (*Inbound, bool) { return in, s == in.SPI() }
	exchange := func(send []byte) []byte {
		if _, err := mn.Write(send); err != nil {
			b.Fatal(err)
		}
		n, err := ha.Read(rx)
		if err != nil {
			b.Fatal(err)
		}
		return rx[:n]
	}
	tPlain, tProtected, n := alternate(b, func() {
		if got := exchange(payload); len(got) != benchPayload {
			b.Fatalf("received %d octets", len(got))
		}
	}, func() {
		pkt, _ = out.Seal(pkt[:0], PacketTypeData, 41, payload)
		var m Message
		if m, dst, err = Open(dst[:0], exchange(pkt), ScopeAll, lookup); err != nil || len(m.Payload) != benchPayload {
			b.Fatalf("Open: %v", err)
		}
	})
	bits := n * benchPayload * 8
	b.ReportMetric(bits/tPlain.Seconds()/1e6, "plain-Mbit/s")
	b.ReportMetric(bits/tProtected.Seconds()/1e6, "protected-Mbit/s")
	b.ReportMetric(tPlain.Seconds()/tProtected.Seconds(), "protected/plain")
}

// alternate runs batches of first and second in turn for b.N rounds, so
// that both see the same machine state, and returns the time each took
// and how many times each ran.
func alternate(b *testing.B, first, second func()) (tFirst, tSecond time.Duration, n float64) {
	const batch = 32
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		for range batch {
			first()
		}
		mid := time.Now()
		for range batch {
			second()
		}
		tFirst += mid.Sub(start)
		tSecond += time.Since(mid)
	}
	return tFirst, tSecond, float64(b.N * batch)
}
