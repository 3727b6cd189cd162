package mip6udp

import (
	"bytes"
	"crypto/des"
	"testing"
)

// TestHMACSHA196 checks HMAC-SHA1-96 (RFC 2404) on the HMAC-SHA-1 cases
// of RFC 2202 §3, truncated to 96 bits.
func TestHMACSHA196(t *testing.T) {
	cases := readVectors(t, "rfc2202-hmac-sha1-96.txt")
	if len(cases) != 7 {
		t.Fatalf("%d cases, want 7", len(cases))
	}
	for _, c := range cases {
		if !bytes.Equal(c["digest"][:12], c["mac96"]) {
			t.Fatalf("case %s: mac96 is not the digest's first 96 bits", c["case"])
		}
		checkICV(t, Suite{Integrity: HMACSHA196, IntegrityKeyLen: len(c["key"])}, c)
	}
}

// checkICV computes the 96-bit ICV of case c twice with one integrity
// state (the second from the reset state) and compares it with mac96.
func checkICV(t *testing.T, s Suite, c vectorCase) {
	t.Helper()
	mac, err := newIntegrity(s, c["key"])
	if err != nil {
		t.Fatal(err)
	}
	icv := make([]byte, 12)
	for range 2 {
		mac.sum(icv, c["data"])
		if !bytes.Equal(icv, c["mac96"]) {
			t.Errorf("case %s: %s = %x, want %x", c["case"], s.Integrity, icv, c["mac96"])
		}
	}
}

// TestAESXCBCMAC checks AES-XCBC-MAC and AES-XCBC-MAC-96 on all the test
// vectors of RFC 3566 §4.6.
func TestAESXCBCMAC(t *testing.T) {
	cases := readVectors(t, "rfc3566-aes-xcbc-mac-96.txt")
	if len(cases) != 7 {
		t.Fatalf("%d cases, want 7", len(cases))
	}
	for _, c := range cases {
		x, err := NewAESXCBCMAC(c["key"])
		if err != nil {
			t.Fatal(err)
		}
		var mac [16]byte
		x.Sum(&mac, c["data"])
		if !bytes.Equal(mac[:], c["mac"]) {
			t.Errorf("case %s: AES-XCBC-MAC = %x, want %x", c["case"], mac, c["mac"])
		}
		checkICV(t, Suite{Integrity: AESXCBCMAC96, IntegrityKeyLen: 16}, c)
	}
	for _, n := range []int{0, 15, 17, 32} {
		if _, err := NewAESXCBCMAC(make([]byte, n)); !errorsIs(err, ErrKeyLength) {
			t.Errorf("key of %d octets: err %v, want ErrKeyLength", n, err)
		}
	}
}

// TestAESCBC checks AES-128-CBC (RFC 3602) on the block vectors of RFC
// 3602 §4, cases 1–4, both ways.
func TestAESCBC(t *testing.T) {
	s, _ := LookupSuite(AES128CBCSHA)
	for _, c := range readVectors(t, "rfc3602-aes-cbc.txt")[:4] {
		enc, err := newEncryption(s, c["key"], false)
		if err != nil {
			t.Fatal(err)
		}
		buf := bytes.Clone(c["plaintext"])
		enc.crypt(buf, c["iv"])
		if !bytes.Equal(buf, c["ciphertext"]) {
			t.Errorf("case %s: ciphertext %x, want %x", c["case"], buf, c["ciphertext"])
		}
		dec, err := newEncryption(s, c["key"], true)
		if err != nil {
			t.Fatal(err)
		}
		dec.crypt(buf, c["iv"])
		if !bytes.Equal(buf, c["plaintext"]) {
			t.Errorf("case %s: decrypted %x, want %x", c["case"], buf, c["plaintext"])
		}
	}
}

// TestAESCBCESPPackets seals the payloads of RFC 3602 §4 cases 5 and 6
// (sample ESP packets) with AES_128_CBC_SHA and the RFC's key and IV:
// the IV and ciphertext must be the RFC's octet for octet, which checks
// the RFC 4303 §2.4 padding (1, 2, 3, …), Pad Length and Next Header of
// Seal, and Open must give the payload back.
func TestAESCBCESPPackets(t *testing.T) {
	for _, c := range readVectors(t, "rfc3602-aes-cbc.txt")[4:] {
		esp := c["esp"]
		seq := uint32(c["seq"][3])
		cfg := Config{SPI: 0x4321, Suite: AES128CBCSHA, EncryptionKey: c["key"], IntegrityKey: bytes.Repeat([]byte{7}, 20), Rand: bytes.NewReader(c["iv"])}
		out, in := pair(t, cfg)
		out.seq = seq - 1
		pkt := seal(t, out, PacketTypeData, c["nh"][0], c["payload"])
		want := append([]byte{0x10 | esp[0]}, esp[1:]...) // PType 1 over the RFC's SPI
		if !bytes.Equal(pkt[:len(pkt)-12], want) {
			t.Errorf("case %s:\n got %x\nwant %x", c["case"], pkt[:len(pkt)-12], want)
		}
		in.window.right = seq - 1
		m, _, err := in.Open(nil, pkt)
		if err != nil {
			t.Fatalf("case %s: %v", c["case"], err)
		}
		if !bytes.Equal(m.Payload, c["payload"]) || m.NextHeader != c["nh"][0] || m.SequenceNumber != seq {
			t.Errorf("case %s: opened %+v", c["case"], m)
		}
	}
}

// TestTripleDESAndNull checks that the 3DES-CBC and NULL encryption of a
// suite match the standard library's 3DES-CBC and the identity, and that
// sealed packets of those suites open to the same payload.
func TestTripleDESAndNull(t *testing.T) {
	s, _ := LookupSuite(TripleDESEDECBCSHA)
	key := bytes.Repeat([]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}, 3)
	key[8], key[16] = 0xfe, 0x10 // three different DES keys
	iv := []byte("initvect")
	plain := []byte("The quick brown fox jumps over t") // 4 blocks
	enc, err := newEncryption(s, key, false)
	if err != nil {
		t.Fatal(err)
	}
	got := bytes.Clone(plain)
	enc.crypt(got, iv)
	b, _ := des.NewTripleDESCipher(key)
	want := make([]byte, len(plain))
	prev := iv
	for i := 0; i < len(plain); i += des.BlockSize {
		x := make([]byte, des.BlockSize)
		for j := range x {
			x[j] = plain[i+j] ^ prev[j]
		}
		b.Encrypt(want[i:], x)
		prev = want[i : i+des.BlockSize]
	}
	if !bytes.Equal(got, want) {
		t.Errorf("3DES-CBC %x, want %x", got, want)
	}
	null, err := newEncryption(Suite{Encryption: EncryptionNull}, nil, false)
	if err != nil || null != nil {
		t.Fatalf("NULL encryption = %v, %v; want nil", null, err)
	}
	buf := bytes.Clone(plain)
	null.crypt(buf, nil)
	if !bytes.Equal(buf, plain) {
		t.Error("NULL encryption changed the data")
	}
	for _, suite := range []CipherSuite{TripleDESEDECBCSHA, NullSHA, NullSHA256} {
		out, in := pair(t, fixedConfig(t, suite, 9, 0x5a))
		for n := range 40 {
			payload := bytes.Repeat([]byte{byte(n)}, n)
			pkt := seal(t, out, PacketTypeData, 41, payload)
			if suite != TripleDESEDECBCSHA && !bytes.Equal(pkt[HeaderLen:HeaderLen+n], payload) {
				t.Errorf("%s: NULL encryption changed the payload", suite)
			}
			m, _, err := in.Open(nil, pkt)
			if err != nil || !bytes.Equal(m.Payload, payload) || m.NextHeader != 41 {
				t.Fatalf("%s, %d octets: %+v, %v", suite, n, m, err)
			}
		}
	}
}
