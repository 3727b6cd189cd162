package send

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/inet"
)

// onesComplement computes the ICMPv6 checksum independently of
// internal/inet: the pseudo-header (RFC 8200 §8.1) then the message, summed
// in 16-bit words with end-around carry.
func onesComplement(src, dst netip.Addr, msg []byte) uint16 {
	s, d := src.As16(), dst.As16()
	var ph []byte
	ph = append(ph, s[:]...)
	ph = append(ph, d[:]...)
	ph = binary.BigEndian.AppendUint32(ph, uint32(len(msg)))
	ph = append(ph, 0, 0, 0, 58)
	all := append(ph, msg...)
	if len(all)%2 == 1 {
		all = append(all, 0)
	}
	var sum uint64
	for i := 0; i < len(all); i += 2 {
		sum += uint64(all[i])<<8 | uint64(all[i+1])
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// TestSignWireFormat checks the RSA Signature option and the signed data of
// a Neighbor Solicitation against an independent construction, one field
// per row.
func TestSignWireFormat(t *testing.T) {
	key := testKey(t, 1024)
	for _, m := range messages(t, 1024) {
		if m.name != "NS" {
			continue
		}
		got, err := Sign(m.msg, m.src, m.dst, key)
		if err != nil {
			t.Fatal(err)
		}
		// The signed data (RFC 3971 §5.2), with the checksum of the
		// message truncated before the RSA Signature option.
		trunc := bytes.Clone(m.msg)
		trunc[2], trunc[3] = 0, 0
		binary.BigEndian.PutUint16(trunc[2:], onesComplement(m.src, m.dst, trunc))
		s, d := m.src.As16(), m.dst.As16()
		signedData := concat(
			[]byte{0x08, 0x6f, 0xca, 0x5e, 0x10, 0xb2, 0x00, 0xc9, 0x9c, 0x8c, 0xe0, 0x01, 0x64, 0x27, 0x7c, 0x08}, // 1. CGA Message Type tag
			s[:],      // 2. Source Address
			d[:],      // 3. Destination Address
			trunc[:4], // 4. Type, Code, truncated-message Checksum
			trunc[4:], // 5-6. NDP header and the options before the RSA Signature
		)
		sd, err := SignedData(got, m.src, m.dst)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(sd, signedData) {
			t.Fatalf("SignedData differs:\n got %x\nwant %x", sd, signedData)
		}
		digest := sha1.Sum(signedData)
		sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA1, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		kh := sha1.Sum(spki(t, key))
		want := concat(
			m.msg,              // the message as given (checksum fixed below)
			[]byte{12},         // Type: RSA Signature
			[]byte{19},         // Length: 20 + 128 octets, padded to 152 = 19 units
			[]byte{0, 0},       // Reserved
			kh[:16],            // Key Hash: leftmost 128 bits of SHA-1(SPKI)
			sig,                // Digital Signature: RSASSA-PKCS1-v1_5, SHA-1
			[]byte{0, 0, 0, 0}, // Padding
		)
		want[2], want[3] = 0, 0
		binary.BigEndian.PutUint16(want[2:], onesComplement(m.src, m.dst, want)) // wire Checksum over all
		if !bytes.Equal(got, want) {
			t.Fatalf("signed message differs:\n got %x\nwant %x", got, want)
		}
		if bytes.Equal(got[2:4], trunc[2:4]) {
			t.Fatalf("wire and signed checksums coincide (%x): vector does not tell the conventions apart", got[2:4])
		}
	}
}

// TestSignVerifyRoundTrip signs and verifies every message kind with 1024-
// and 2048-bit keys.
func TestSignVerifyRoundTrip(t *testing.T) {
	for _, bits := range []int{1024, 2048} {
		for _, m := range messages(t, bits) {
			t.Run(m.name+"/"+strconv.Itoa(bits), func(t *testing.T) {
				signed, err := Sign(m.msg, m.src, m.dst, m.key)
				if err != nil {
					t.Fatal(err)
				}
				if n := len(signed) - headerLen(m.msg[0]); n <= 255 {
					t.Errorf("options total %d octets, want over 255", n)
				}
				if !bytes.Equal(signed[4:len(m.msg)], m.msg[4:]) || signed[0] != m.msg[0] || signed[1] != m.msg[1] {
					t.Fatal("Sign changed the message beyond the checksum")
				}
				if c := inet.Checksum(m.src, m.dst, inet.ProtocolICMPv6, signed); c != 0 {
					t.Fatalf("wire checksum does not verify (residue %#04x)", c)
				}
				now := testTime.Add(10 * time.Second)
				var v *Verifier
				if m.router {
					v = routerVerifier(m.key, spki(t, m.key), &now)
				} else {
					v = NewVerifier(AuthorizeCGA)
					v.Now = fixedClock(&now)
				}
				if classify(m.msg) == classAdvertisement && v.Nonces != nil {
					if err := v.Nonces.Expect(testNonce, now.Add(time.Minute), 1); err != nil {
						t.Fatal(err)
					}
				}
				r, err := v.Verify(signed, m.src, m.dst)
				if err != nil {
					t.Fatal(err)
				}
				wantAddr := m.src
				if m.name == "NS" && m.src.IsUnspecified() {
					wantAddr = m.dst
				}
				kh := KeyHash(spki(t, m.key))
				switch {
				case r.Address != wantAddr:
					t.Errorf("Address = %v, want %v", r.Address, wantAddr)
				case r.CGAVerified == m.router:
					t.Errorf("CGAVerified = %v for router=%v", r.CGAVerified, m.router)
				case r.KeyHash != kh:
					t.Errorf("KeyHash = %x, want %x", r.KeyHash, kh)
				case !r.PublicKey.Equal(&m.key.PublicKey):
					t.Error("PublicKey differs")
				case r.Timestamp != TimestampFromTime(testTime):
					t.Errorf("Timestamp = %v", r.Timestamp.Time())
				case !bytes.Equal(r.Nonce, testNonce):
					t.Errorf("Nonce = %x", r.Nonce)
				case r.SignedLength != len(signed):
					t.Errorf("SignedLength = %d, want %d", r.SignedLength, len(signed))
				case r.Solicited != (classify(m.msg) == classAdvertisement && !m.router):
					t.Errorf("Solicited = %v", r.Solicited)
				case (r.Parameters == nil) != m.router:
					t.Errorf("Parameters = %v", r.Parameters)
				case r.Type != m.msg[0] || r.Source != m.src || r.Destination != m.dst || !r.Received.Equal(now):
					t.Errorf("Result header fields wrong: %+v", r)
				}
			})
		}
	}
}

// TestSignDADNeighborSolicitation signs an NS from the unspecified address:
// the CGA is the Target Address (RFC 3971 §5.1.1).
func TestSignDADNeighborSolicitation(t *testing.T) {
	key := testKey(t, 1024)
	addr, params := makeCGA(t, key, linkLocal)
	target := addr.As16()
	msg := concat([]byte{135, 0, 0, 0, 0, 0, 0, 0}, target[:], cgaOption(params),
		timestampOption(TimestampFromTime(testTime)), nonceOption(testNonce))
	src, dst := netip.IPv6Unspecified(), netip.MustParseAddr("ff02::1:ff00:1")
	signed, err := Sign(msg, src, dst, key)
	if err != nil {
		t.Fatal(err)
	}
	now := testTime
	v := &Verifier{Now: fixedClock(&now)}
	r, err := v.Verify(signed, src, dst)
	if err != nil {
		t.Fatal(err)
	}
	if r.Address != addr || !r.CGAVerified {
		t.Fatalf("Address %v CGAVerified %v, want %v true", r.Address, r.CGAVerified, addr)
	}
}

// TestSignErrors covers the sender MUSTs and bad inputs of Sign.
func TestSignErrors(t *testing.T) {
	key := testKey(t, 1024)
	other := testKey(t, 2048)
	addr, params := makeCGA(t, key, linkLocal)
	ts := timestampOption(TimestampFromTime(testTime))
	nonce := nonceOption(testNonce)
	rtsolpr := []byte{154, 0, 0, 0, 2, 0, 0, 1}
	ra := make([]byte, 16)
	ra[0] = 134
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signed, err := Sign(concat(rtsolpr, cgaOption(params), ts, nonce), addr, routerLL, key)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		msg    []byte
		src    netip.Addr
		signer crypto.Signer
		want   error
	}{
		{"no Timestamp", concat(rtsolpr, cgaOption(params), nonce), addr, key, ErrMissingTimestamp},
		{"solicitation without Nonce", concat(rtsolpr, cgaOption(params), ts), addr, key, ErrMissingNonce},
		{"RtSolPr without CGA", concat(rtsolpr, ts, nonce), addr, key, ErrMissingCGA},
		{"NA without CGA", concat([]byte{136, 0, 0, 0, 0, 0, 0, 0}, make([]byte, 16), ts), addr, key, ErrMissingCGA},
		{"signer is not the CGA key", concat(rtsolpr, cgaOption(params), ts, nonce), addr, other, ErrKeyHashMismatch},
		{"ECDSA signer", concat(ra, ts), routerLL, ec, ErrBadKey},
		{"already signed", signed, addr, key, ErrSign},
		{"truncated header", rtsolpr[:6], addr, key, ErrParse},
		{"unsupported type", []byte{128, 0, 0, 0, 0, 0, 0, 0}, addr, key, ErrUnsupportedType},
		{"IPv4 source", concat(ra, ts), netip.MustParseAddr("192.0.2.1"), key, ErrSign},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Sign(tc.msg, tc.src, routerLL, tc.signer)
			if !errors.Is(err, ErrSign) || !errors.Is(err, tc.want) {
				t.Fatalf("Sign error %v, want ErrSign and %v", err, tc.want)
			}
		})
	}
	// A Router Advertisement needs no CGA and no Nonce: a router's key.
	if _, err := Sign(concat(ra, ts), routerLL, routerLL, key); err != nil {
		t.Fatalf("RA with Timestamp only: %v", err)
	}
}
