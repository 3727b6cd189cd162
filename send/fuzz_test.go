package send

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"net/netip"
	"testing"
)

// FuzzVerify feeds arbitrary bytes to Verify (with the wire checksum left
// as is or repaired, so that the fuzzer gets past it). Verify must never
// panic; on success the result must be consistent with the bytes and
// verification must be repeatable.
func FuzzVerify(f *testing.F) {
	for _, bits := range []int{1024, 2048} {
		for _, m := range messages(f, bits) {
			s, err := Sign(m.msg, m.src, m.dst, m.key)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(s, m.src.AsSlice(), m.dst.AsSlice(), false)
			f.Add(s[:len(s)-1], m.src.AsSlice(), m.dst.AsSlice(), true)
			f.Add(concat(s, nonceOption(testNonce)), m.src.AsSlice(), m.dst.AsSlice(), true)
		}
	}
	f.Add([]byte{135, 0, 0, 0}, make([]byte, 16), make([]byte, 16), true)
	key := testKey(f, 1024)
	der := spki(f, key)
	f.Fuzz(func(t *testing.T, msg, src, dst []byte, fix bool) {
		s, ok1 := netip.AddrFromSlice(src)
		d, ok2 := netip.AddrFromSlice(dst)
		if !ok1 || !ok2 {
			s, d = netip.MustParseAddr("fe80::1"), netip.MustParseAddr("fe80::2")
		}
		if fix && len(msg) >= 4 {
			fixChecksum(msg, s, d)
		}
		now := testTime
		for _, v := range []*Verifier{
			{Now: fixedClock(&now)},
			routerVerifier(key, der, &now),
		} {
			r, err := v.Verify(msg, s, d)
			if err != nil {
				continue
			}
			if r.SignedLength > len(msg) || r.SignedLength <= headerLen(msg[0]) || r.PublicKey == nil {
				t.Fatalf("inconsistent result %+v for %d octets", r, len(msg))
			}
			if r.Nonce != nil && !bytes.Contains(msg[:r.SignedLength], r.Nonce) {
				t.Fatal("Nonce not from the signed part")
			}
			sd, err := SignedData(msg, s, d)
			if err != nil {
				t.Fatalf("SignedData fails on a verified message: %v", err)
			}
			h := crypto.SHA1.New()
			h.Write(sd)
			sigOff := len(sd) - 48 // the signed data covers msg[:sigOff]
			sig := msg[sigOff+rsaSignatureFixedLen:][:r.PublicKey.Size()]
			if err := rsa.VerifyPKCS1v15(r.PublicKey, crypto.SHA1, h.Sum(nil), sig); err != nil {
				t.Fatalf("SignedData disagrees with Verify: %v", err)
			}
			if _, err := v.Verify(msg, s, d); err != nil {
				t.Fatalf("second verification failed: %v", err)
			}
		}
	})
}

// FuzzSignedData: SignedData never panics, and for messages it accepts the
// signed data is the tag, the addresses and the message prefix with only the
// checksum changed.
func FuzzSignedData(f *testing.F) {
	for _, m := range messages(f, 1024) {
		s, _ := Sign(m.msg, m.src, m.dst, m.key)
		f.Add(s)
		f.Add(m.msg)
	}
	src, dst := netip.MustParseAddr("fe80::1"), netip.MustParseAddr("ff02::2")
	f.Fuzz(func(t *testing.T, msg []byte) {
		sd, err := SignedData(msg, src, dst)
		if err != nil {
			return
		}
		if len(sd) < 48+4 || !bytes.Equal(sd[:16], MessageTypeTag[:]) || !bytes.Equal(sd[52:], msg[4:len(sd)-48]) || !bytes.Equal(sd[48:50], msg[:2]) {
			t.Fatalf("signed data %x for message %x", sd, msg)
		}
	})
}
