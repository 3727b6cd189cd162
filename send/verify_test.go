package send

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/fhkey/fhkey/cga"
)

func signedMessage(tb testing.TB, bits int, name string) (testMessage, []byte) {
	tb.Helper()
	for _, m := range messages(tb, bits) {
		if m.name == name {
			s, err := Sign(m.msg, m.src, m.dst, m.key)
			if err != nil {
				tb.Fatal(err)
			}
			return m, s
		}
	}
	tb.Fatalf("no message %q", name)
	return testMessage{}, nil
}

// TestTamperEveryByte changes every octet of signed messages. Without
// fixing the checksum every change must be rejected. With the wire checksum
// recomputed (an attacker can always do that), every change must still be
// rejected except in the octets the signature does not cover: the wire
// Checksum field itself (recomputing undoes the change), and the RSA
// Signature option's Reserved and Padding fields (RFC 3971 §5.2 signs only
// what precedes the option; those octets carry no meaning).
func TestTamperEveryByte(t *testing.T) {
	for _, name := range []string{"RtSolPr", "CPA"} {
		m, signed := signedMessage(t, 1024, name)
		now := testTime
		v := &Verifier{Now: fixedClock(&now), Method: AuthorizeCGA}
		if m.router {
			v = routerVerifier(m.key, spki(t, m.key), &now)
		}
		if _, err := v.Verify(signed, m.src, m.dst); err != nil {
			t.Fatal(err)
		}
		sigOff := len(m.msg)
		uncovered := func(i int) bool {
			return i == 2 || i == 3 || // Checksum
				i == sigOff+2 || i == sigOff+3 || // Reserved
				i >= sigOff+rsaSignatureFixedLen+m.key.Size() // Padding
		}
		for i := range signed {
			for _, x := range []byte{0x01, 0x80} {
				b := bytes.Clone(signed)
				b[i] ^= x
				if _, err := v.Verify(b, m.src, m.dst); err == nil {
					t.Errorf("%s: octet %d ^ %#02x accepted without checksum fix", name, i, x)
				}
				fixChecksum(b, m.src, m.dst)
				_, err := v.Verify(b, m.src, m.dst)
				if uncovered(i) {
					if err != nil {
						t.Errorf("%s: octet %d ^ %#02x is not signed but was rejected: %v", name, i, x, err)
					}
				} else if err == nil {
					t.Errorf("%s: octet %d ^ %#02x accepted with the checksum fixed", name, i, x)
				}
			}
		}
		// The addresses are signed too.
		if _, err := v.Verify(signed, m.src, netip.MustParseAddr("ff02::3")); err == nil {
			t.Errorf("%s: accepted for another destination", name)
		}
	}
}

// TestOptionsAfterSignature: RFC 3971 §5.2.2 "The receiver MUST ignore any
// options that come after the first RSA Signature option".
func TestOptionsAfterSignature(t *testing.T) {
	m, signed := signedMessage(t, 1024, "RtSolPr")
	// An unsigned trailing Nonce and a second RSA Signature option.
	trailing := concat(signed, nonceOption([]byte{9, 9, 9, 9, 9, 9}), signed[len(m.msg):])
	fixChecksum(trailing, m.src, m.dst)
	now := testTime
	v := &Verifier{Now: fixedClock(&now)}
	r, err := v.Verify(trailing, m.src, m.dst)
	if err != nil {
		t.Fatal(err)
	}
	if r.SignedLength != len(signed) || !bytes.Equal(r.Nonce, testNonce) {
		t.Fatalf("SignedLength %d (want %d), Nonce %x: trailing options were not ignored", r.SignedLength, len(signed), r.Nonce)
	}
	v.RejectOptionsAfterSignature = true
	if _, err := v.Verify(trailing, m.src, m.dst); !errors.Is(err, ErrVerify) || !errors.Is(err, ErrSignatureNotLast) {
		t.Fatalf("strict: %v, want ErrSignatureNotLast", err)
	}
	if _, err := v.Verify(signed, m.src, m.dst); err != nil {
		t.Fatalf("strict on a message with the signature last: %v", err)
	}
}

// withSignature appends an RSA Signature option holding keyHash and sig
// (zero-padded) to msg and fixes the checksum; no real signing.
func withSignature(msg []byte, keyHash []byte, sig []byte, src, dst netip.Addr) []byte {
	body := concat([]byte{0, 0}, keyHash, sig)
	b := concat(msg, option(optionRSASignature, body))
	fixChecksum(b, src, dst)
	return b
}

// TestVerifyErrors has one case per failure.
func TestVerifyErrors(t *testing.T) {
	key := testKey(t, 1024)
	key2048 := testKey(t, 2048)
	addr, params := makeCGA(t, key, linkLocal)
	ts := timestampOption(TimestampFromTime(testTime))
	nonce := nonceOption(testNonce)
	rtsolpr := []byte{154, 0, 0, 0, 2, 0, 0, 1}
	prrtadv := []byte{154, 0, 0, 0, 3, 0, 0, 1}
	cpa := []byte{149, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0}
	dst := routerLL
	sign := func(msg []byte, src netip.Addr, k *rsa.PrivateKey) []byte {
		t.Helper()
		l, err := scan(msg)
		if err != nil { // duplicates: sign anyway, the key hash is the same
			l = layout{cga: -1, timestamp: -1, nonce: -1, signature: -1}
		}
		b, err := signMessage(msg, l, src, dst, k)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	good := sign(concat(rtsolpr, cgaOption(params), ts, nonce), addr, key)
	kh := KeyHash(spki(t, key))
	flip := func(b []byte, i int) []byte {
		b = bytes.Clone(b)
		b[i] ^= 1
		fixChecksum(b, addr, dst)
		return b
	}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	ecParams := concat(params[:25], ecDER)
	otherAddr := netip.MustParseAddr("fe80::1234")
	globalAddr := netip.MustParseAddr("2001:db8::1234")
	cgaVerifier := func(now *time.Time) *Verifier { return &Verifier{Now: fixedClock(now)} }

	type tc struct {
		name     string
		msg      []byte
		src      netip.Addr
		verifier func(now *time.Time) *Verifier
		now      time.Time
		want     []error
	}
	cases := []tc{
		{"truncated ICMP header", good[:3], addr, cgaVerifier, testTime, []error{ErrParse, io.ErrUnexpectedEOF}},
		{"truncated option", good[:len(good)-8], addr, cgaVerifier, testTime, []error{ErrParse, io.ErrUnexpectedEOF}},
		{"zero-length option", func() []byte {
			b := concat(rtsolpr, []byte{1, 0, 0, 0, 0, 0, 0, 0})
			fixChecksum(b, addr, dst)
			return b
		}(), addr, cgaVerifier, testTime, []error{ErrParse}},
		{"unsupported type", []byte{128, 0, 0, 0}, addr, cgaVerifier, testTime, []error{ErrParse, ErrUnsupportedType}},
		{"IPv4 source", good, netip.MustParseAddr("192.0.2.1"), cgaVerifier, testTime, []error{ErrParse}},
		{"Timestamp of wrong length", func() []byte {
			b := concat(rtsolpr, option(optionTimestamp, make([]byte, 22)))
			fixChecksum(b, addr, dst)
			return b
		}(), addr, cgaVerifier, testTime, []error{ErrParse}},
		{"CGA Pad Length too large", func() []byte {
			o := cgaOption(params)
			o[2] = byte(len(o) - 3)
			return withSignature(concat(rtsolpr, o, ts, nonce), kh[:], make([]byte, 128), addr, dst)
		}(), addr, cgaVerifier, testTime, []error{ErrParse}},
		{"wrong checksum", func() []byte { b := bytes.Clone(good); b[3] ^= 1; return b }(), addr, cgaVerifier, testTime, []error{ErrVerify, ErrChecksum}},
		{"duplicate Timestamp", sign(concat(rtsolpr, cgaOption(params), ts, ts, nonce), addr, key), addr, cgaVerifier, testTime, []error{ErrParse, ErrDuplicateOption}},
		{"duplicate CGA option", sign(concat(rtsolpr, cgaOption(params), cgaOption(params), ts, nonce), addr, key), addr, cgaVerifier, testTime, []error{ErrParse, ErrDuplicateOption}},
		{"duplicate Nonce", sign(concat(rtsolpr, cgaOption(params), ts, nonce, nonce), addr, key), addr, cgaVerifier, testTime, []error{ErrParse, ErrDuplicateOption}},
		{"no RSA Signature", func() []byte {
			b := concat(rtsolpr, cgaOption(params), ts, nonce)
			fixChecksum(b, addr, dst)
			return b
		}(), addr, cgaVerifier, testTime, []error{ErrVerify, ErrMissingSignature}},
		{"no Timestamp", sign(concat(rtsolpr, cgaOption(params), nonce), addr, key), addr, cgaVerifier, testTime, []error{ErrVerify, ErrMissingTimestamp}},
		{"solicitation without Nonce", sign(concat(rtsolpr, cgaOption(params), ts), addr, key), addr, cgaVerifier, testTime, []error{ErrVerify, ErrMissingNonce}},
		{"no CGA option under AuthorizeCGA", sign(concat(cpa, ts), routerLL, key), routerLL, cgaVerifier, testTime, []error{ErrVerify, ErrMissingCGA}},
		{"CGA subnet prefix differs", sign(concat(rtsolpr, cgaOption(params), ts, nonce), globalAddr, key), globalAddr, cgaVerifier, testTime, []error{ErrVerify, ErrCGA, cga.ErrSubnetPrefix}},
		{"Hash1 mismatch", sign(concat(rtsolpr, cgaOption(params), ts, nonce), netip.MustParseAddr("fe80::1234"), key), netip.MustParseAddr("fe80::1234"), cgaVerifier, testTime, []error{ErrVerify, ErrCGA, cga.ErrHash1}},
		{"non-RSA CGA key under AuthorizeCGA", withSignature(concat(rtsolpr, cgaOption(ecParams), ts, nonce), kh[:], make([]byte, 128), otherAddr, dst), otherAddr, cgaVerifier, testTime, []error{ErrVerify, ErrCGA}},
		{"non-RSA CGA key under a trust anchor", withSignature(concat(prrtadv, cgaOption(ecParams), ts), kh[:], make([]byte, 128), routerLL, dst), routerLL,
			func(now *time.Time) *Verifier {
				return routerVerifier(key, spki(t, key), now)
			}, testTime, []error{ErrVerify, ErrBadKey}},
		{"key too small for MinBits", good, addr, func(now *time.Time) *Verifier {
			return &Verifier{Now: fixedClock(now), MinBits: 2048}
		}, testTime, []error{ErrVerify, ErrKeySize}},
		{"Key Hash names another key", flip(good, len(good)-(rsaSignatureFixedLen+128)+4), addr, cgaVerifier, testTime, []error{ErrVerify, ErrKeyHashMismatch}},
		{"Key Hash names no known key", sign(concat(cpa, ts), routerLL, key2048), routerLL, func(now *time.Time) *Verifier {
			return routerVerifier(key, spki(t, key), now)
		}, testTime, []error{ErrVerify, ErrUnknownKey}},
		{"signature octet changed", flip(good, len(good)-10), addr, cgaVerifier, testTime, []error{ErrVerify, ErrBadSignature}},
		{"signature longer than the option", withSignature(concat(rtsolpr, cgaOption(params), ts, nonce), kh[:], make([]byte, 60), addr, dst), addr, cgaVerifier, testTime, []error{ErrVerify, ErrBadSignature}},
		{"Authorize refuses", sign(concat(cpa, ts), routerLL, key), routerLL, func(now *time.Time) *Verifier {
			v := routerVerifier(key, spki(t, key), now)
			v.Authorize = func(*Result) error { return errors.New("prefix not authorized") }
			return v
		}, testTime, []error{ErrVerify, ErrUnauthorized}},
		{"trust anchor method without Authorize", sign(concat(cpa, ts), routerLL, key), routerLL, func(now *time.Time) *Verifier {
			v := routerVerifier(key, spki(t, key), now)
			v.Authorize = nil
			return v
		}, testTime, []error{ErrVerify, ErrUnauthorized}},
		{"trust anchor and CGA, CGA fails", sign(concat(prrtadv, cgaOption(params), ts), otherAddr, key), otherAddr, func(now *time.Time) *Verifier {
			v := routerVerifier(key, spki(t, key), now)
			v.Method = AuthorizeTrustAnchorAndCGA
			return v
		}, testTime, []error{ErrVerify, ErrCGA}},
		{"timestamp too old", good, addr, cgaVerifier, testTime.Add(DefaultTimestampDelta), []error{ErrVerify, ErrTimestampWindow}},
		{"timestamp too new", good, addr, cgaVerifier, testTime.Add(-DefaultTimestampDelta), []error{ErrVerify, ErrTimestampWindow}},
		{"unmatched advertisement nonce", sign(concat(prrtadv, cgaOption(params), ts, nonceOption([]byte{7, 7, 7, 7, 7, 7})), addr, key), addr, func(now *time.Time) *Verifier {
			v := NewVerifier(AuthorizeCGA)
			v.Now = fixedClock(now)
			_ = v.Nonces.Expect(testNonce, now.Add(time.Minute), 1)
			return v
		}, testTime, []error{ErrVerify, ErrUnmatchedNonce}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now := c.now
			_, err := c.verifier(&now).Verify(c.msg, c.src, dst)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !errors.Is(err, w) {
					t.Fatalf("error %v does not wrap %v", err, w)
				}
			}
		})
	}
}

// TestVerifyTrustAnchorPaths covers the methods that accept a signer by
// Authorize rather than by CGA.
func TestVerifyTrustAnchorPaths(t *testing.T) {
	key := testKey(t, 1024)
	addr, params := makeCGA(t, key, linkLocal)
	ts := timestampOption(TimestampFromTime(testTime))
	prrtadv := []byte{154, 0, 0, 0, 3, 0, 0, 1}
	now := testTime
	// A non-CGA source with a CGA option: the key comes from the option,
	// the CGA property is reported false, Authorize is consulted.
	msg, err := Sign(concat(prrtadv, cgaOption(params), ts), routerLL, addr, key)
	if err != nil {
		t.Fatal(err)
	}
	called := 0
	v := routerVerifier(key, spki(t, key), &now)
	v.Authorize = func(r *Result) error { called++; return nil }
	r, err := v.Verify(msg, routerLL, addr)
	if err != nil || r.CGAVerified || called != 1 || r.Parameters == nil {
		t.Fatalf("err %v, CGAVerified %v, Authorize calls %d", err, r.CGAVerified, called)
	}
	// With a CGA source under TrustAnchorOrCGA, Authorize is not needed.
	msg, err = Sign(concat(prrtadv, cgaOption(params), ts), addr, routerLL, key)
	if err != nil {
		t.Fatal(err)
	}
	if r, err = v.Verify(msg, addr, routerLL); err != nil || !r.CGAVerified || called != 1 {
		t.Fatalf("err %v, CGAVerified %v, Authorize calls %d", err, r.CGAVerified, called)
	}
	// Under TrustAnchorAndCGA both happen.
	v.Method = AuthorizeTrustAnchorAndCGA
	if r, err = v.Verify(msg, addr, routerLL); err != nil || !r.CGAVerified || called != 2 {
		t.Fatalf("err %v, CGAVerified %v, Authorize calls %d", err, r.CGAVerified, called)
	}
}

// TestKeyCache: a verified CGA is cached, bounded, and a hit is only used
// for the same address; failures are not cached.
func TestKeyCache(t *testing.T) {
	m, signed := signedMessage(t, 1024, "RtSolPr")
	now := testTime
	v := &Verifier{Now: fixedClock(&now), Keys: NewKeyCache(1)}
	bad := bytes.Clone(signed)
	bad[len(bad)-10] ^= 1
	fixChecksum(bad, m.src, m.dst)
	if _, err := v.Verify(bad, m.src, m.dst); !errors.Is(err, ErrBadSignature) {
		t.Fatal(err)
	}
	if n := v.Keys.Len(); n != 0 {
		t.Fatalf("failed verification cached %d entries", n)
	}
	for range 2 {
		if _, err := v.Verify(signed, m.src, m.dst); err != nil {
			t.Fatal(err)
		}
		if n := v.Keys.Len(); n != 1 {
			t.Fatalf("cache holds %d entries, want 1", n)
		}
	}
	// Same parameters, another address: the cache must not vouch for it.
	other := netip.MustParseAddr("fe80::1234")
	msg := bytes.Clone(signed)
	fixChecksum(msg, other, m.dst)
	if _, err := v.Verify(msg, other, m.dst); !errors.Is(err, ErrCGA) {
		t.Fatalf("other address: %v, want ErrCGA", err)
	}
	// Another message evicts the first (size 1).
	m2, s2 := signedMessage(t, 2048, "RtSolPr")
	if _, err := v.Verify(s2, m2.src, m2.dst); err != nil {
		t.Fatal(err)
	}
	if n := v.Keys.Len(); n != 1 {
		t.Fatalf("cache holds %d entries, want 1", n)
	}
}

// TestReplayedSolicitation: the same signed solicitation twice.
func TestReplayedSolicitation(t *testing.T) {
	m, signed := signedMessage(t, 1024, "RtSolPr")
	now := testTime
	v := NewVerifier(AuthorizeCGA)
	v.Now = fixedClock(&now)
	if _, err := v.Verify(signed, m.src, m.dst); err != nil {
		t.Fatal(err)
	}
	now = now.Add(500 * time.Millisecond)
	if _, err := v.Verify(signed, m.src, m.dst); !errors.Is(err, ErrVerify) || !errors.Is(err, ErrReplayedNonce) {
		t.Fatalf("replay: %v, want ErrReplayedNonce", err)
	}
	// After the window the replay cache forgets, and the timestamp check
	// rejects it instead.
	now = now.Add(DefaultTimestampDelta + 2*time.Second)
	if _, err := v.Verify(signed, m.src, m.dst); !errors.Is(err, ErrTimestampOlder) {
		t.Fatalf("late replay: %v, want ErrTimestampOlder", err)
	}
	// SkipFreshness accepts it (for answering an NS without a Neighbor
	// Cache entry, RFC 3971 §5.3.4.2).
	v.SkipFreshness = true
	if _, err := v.Verify(signed, m.src, m.dst); err != nil {
		t.Fatalf("SkipFreshness: %v", err)
	}
}

// TestSolicitedAdvertisement: a matched Nonce is consumed, a replayed
// advertisement is then unmatched, and the timestamp is not window-checked
// (RFC 3971 §5.3.4.1).
func TestSolicitedAdvertisement(t *testing.T) {
	m, signed := signedMessage(t, 1024, "PrRtAdv")
	now := testTime.Add(time.Hour) // far outside the window
	v := NewVerifier(AuthorizeCGA)
	v.Now = fixedClock(&now)
	if err := v.Nonces.Expect(testNonce, now.Add(time.Second), 1); err != nil {
		t.Fatal(err)
	}
	r, err := v.Verify(signed, m.src, m.dst)
	if err != nil || !r.Solicited {
		t.Fatalf("solicited: %v, Solicited %v", err, r.Solicited)
	}
	if v.Timestamps.Len() != 1 {
		t.Fatal("solicited advertisement did not record RDlast/TSlast")
	}
	if _, err := v.Verify(signed, m.src, m.dst); !errors.Is(err, ErrUnmatchedNonce) {
		t.Fatalf("second answer: %v, want ErrUnmatchedNonce", err)
	}
	// A forged answer (bad signature) does not consume the nonce.
	_ = v.Nonces.Expect(testNonce, now.Add(time.Second), 1)
	bad := bytes.Clone(signed)
	bad[len(bad)-10] ^= 1
	fixChecksum(bad, m.src, m.dst)
	if _, err := v.Verify(bad, m.src, m.dst); !errors.Is(err, ErrBadSignature) {
		t.Fatal(err)
	}
	if _, err := v.Verify(signed, m.src, m.dst); err != nil {
		t.Fatalf("genuine answer after a forged one: %v", err)
	}
}
