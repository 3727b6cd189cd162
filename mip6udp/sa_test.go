package mip6udp

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
)

// bindingUpdate is the payload of the golden packets: a Binding Update
// Mobility Header (RFC 6275 §6.1.7) as the MN sends it inside PType 8.
var bindingUpdate = []byte{
	59, 1, 5, 0, 0x00, 0x00, // Payload Proto, Header Len, MH Type 5, Reserved, Checksum
	0x12, 0x34, 0xa0, 0x00, 0x00, 0x40, // Sequence 0x1234, A|H, Lifetime 64 × 4 s
	1, 2, 0, 0, // PadN
}

// TestGoldenPackets seals the same Binding Update with every suite, fixed
// keys and IV, and compares the packet octet for octet with
// testdata/golden/<suite>.hex (go test -update rewrites them); then opens
// it back.
func TestGoldenPackets(t *testing.T) {
	for _, s := range Suites() {
		out, in := pair(t, fixedConfig(t, s.ID, 0x0abcdef, 0xa5))
		pkt := seal(t, out, PacketTypeMobilityHeader, 135, bindingUpdate)
		if want := len(bindingUpdate) + out.Overhead(len(bindingUpdate)); len(pkt) != want {
			t.Errorf("%s: %d octets, Overhead says %d", s.Name, len(pkt), want)
		}
		file := "testdata/golden/" + s.Name + ".hex"
		if *update {
			if err := os.WriteFile(file, []byte(hexLines(pkt)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if want := mustHex(t, string(b)); !bytes.Equal(pkt, want) {
			t.Errorf("%s:\n got %x\nwant %x", s.Name, pkt, want)
		}
		m, _, err := in.Open(nil, pkt)
		if err != nil || !bytes.Equal(m.Payload, bindingUpdate) || m.NextHeader != 135 ||
			m.Type != PacketTypeMobilityHeader || m.SPI != 0x0abcdef || m.SequenceNumber != 1 {
			t.Errorf("%s: opened %+v, %v", s.Name, m, err)
		}
	}
}

// hexLines formats b as hex, 16 octets a line.
func hexLines(b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		n := min(16, len(b))
		sb.WriteString(hex.EncodeToString(b[:n]) + "\n")
		b = b[n:]
	}
	return sb.String()
}

// craft builds a packet of o's SA whose plaintext (payload, padding, Pad
// Length, Next Header) is given as is, with a valid ICV: what a sender
// with a broken padding routine would send.
func craft(o *Outbound, seq uint32, plaintext []byte) []byte {
	s := o.suite
	pkt := appendHeader(nil, PacketTypeData, o.spi, seq)
	iv := bytes.Repeat([]byte{0x33}, s.IVLen)
	pkt = append(pkt, iv...)
	ct := bytes.Clone(plaintext)
	o.enc.crypt(ct, iv)
	pkt = append(pkt, ct...)
	icv := make([]byte, s.ICVLen)
	o.mac.sum(icv, pkt)
	return append(pkt, icv...)
}

// TestOpenErrors: one case per way a protected packet is rejected, each
// with its sentinel; none of them changes the replay window.
func TestOpenErrors(t *testing.T) {
	for _, suite := range []CipherSuite{AES128CBCSHA, NullSHA256} {
		out, in := pair(t, fixedConfig(t, suite, 42, 0x11))
		payload := []byte("an IPv6 packet, tunneled")
		first := seal(t, out, PacketTypeData, 41, payload)
		if _, _, err := in.Open(nil, first); err != nil {
			t.Fatal(err)
		}
		for range 70 {
			seal(t, out, PacketTypeData, 41, payload)
		}
		fresh := seal(t, out, PacketTypeData, 41, payload) // Sequence Number 72
		last := seal(t, out, PacketTypeData, 41, payload)  // 73, opened below
		if _, _, err := in.Open(nil, last); err != nil {
			t.Fatal(err)
		}
		flip := func(i int) []byte { b := bytes.Clone(fresh); b[i] ^= 1; return b }
		align := out.suite.align()
		good := bytes.Repeat([]byte{0xee}, align*2)
		badPad := bytes.Clone(good)
		badPad[len(badPad)-4], badPad[len(badPad)-3], badPad[len(badPad)-2] = 1, 3, 2 // padding 1, 3
		longPad := bytes.Clone(good)
		longPad[len(longPad)-2] = byte(len(longPad) - 1)
		other := fixedConfig(t, suite, 43, 0x11)
		otherOut, _ := pair(t, other)
		for _, tc := range []struct {
			name string
			pkt  []byte
			want []error
		}{
			{"replayed", bytes.Clone(last), []error{ErrAuth, ErrReplayed}},
			{"left of the window", bytes.Clone(first), []error{ErrAuth, ErrTooOld}},
			{"other SPI", seal(t, otherOut, PacketTypeData, 41, payload), []error{ErrAuth, ErrUnknownSPI}},
			{"tampered header", flip(6), []error{ErrAuth, ErrICV}},
			{"tampered ciphertext", flip(HeaderLen + out.suite.IVLen), []error{ErrAuth, ErrICV}},
			{"tampered ICV", flip(len(fresh) - 1), []error{ErrAuth, ErrICV}},
			{"truncated ICV", fresh[:len(fresh)-1], []error{ErrParse, ErrCiphertextLength}},
			{"header only", fresh[:HeaderLen], []error{ErrParse, ErrCiphertextLength}},
			{"bad Padding octet", craft(out, 100, badPad), []error{ErrParse, ErrPadding}},
			{"Pad Length too long", craft(out, 101, longPad), []error{ErrParse, ErrPadding}},
			{"SPI 0 on PType 8", append([]byte{0x80, 0, 0, 0}, fresh[4:]...), []error{ErrParse, ErrSPI}},
			{"plaintext packet", make([]byte, 8), []error{ErrParse, ErrPacketType}},
		} {
			before := in.window
			dst := make([]byte, 0, 2048)
			_, got, err := in.Open(dst, tc.pkt)
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("%s, %s: err %v, want %v", suite, tc.name, err, w)
				}
			}
			if in.window != before || len(got) != 0 {
				t.Errorf("%s, %s: the rejected packet changed the window or dst", suite, tc.name)
			}
		}
		if suite == AES128CBCSHA {
			// Not a multiple of the block size, with an ICV that verifies.
			odd := craft(out, 102, good)
			odd = append(odd[:len(odd)-12-1], odd[len(odd)-12:]...)
			if _, _, err := in.Open(nil, odd); !errors.Is(err, ErrCiphertextLength) {
				t.Errorf("ciphertext not a multiple of 16: err %v", err)
			}
		}
		if _, _, err := in.Open(nil, fresh); err != nil {
			t.Errorf("%s: the untouched packet after the rejections: %v", suite, err)
		}
		_, _, err := Open(nil, seal(t, otherOut, PacketTypeData, 41, payload), ScopeAll,
			func(s SPI) (*Inbound, bool) { return in, s == in.SPI() })
		if !errors.Is(err, ErrUnknownSPI) {
			t.Errorf("%s: Open with an unknown SPI: err %v", suite, err)
		}
	}
}

// TestConfigErrors: SA parameters RFC 6618 forbids are refused, and the
// keys never show in the printed forms.
func TestConfigErrors(t *testing.T) {
	base := fixedConfig(t, AES128CBCSHA, 1, 0)
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want error
	}{
		{"SPI 0 (§5.6.1)", func(c *Config) { c.SPI = 0 }, ErrSPI},
		{"SPI of 29 bits", func(c *Config) { c.SPI = MaxSPI + 1 }, ErrSPI},
		{"TLS_RSA_WITH_AES_256_CBC_SHA", func(c *Config) { c.Suite = 0x0035 }, ErrCipherSuite},
		{"short ekey", func(c *Config) { c.EncryptionKey = c.EncryptionKey[:15] }, ErrKeyLength},
		{"short ikey", func(c *Config) { c.IntegrityKey = c.IntegrityKey[:16] }, ErrKeyLength},
		{"no ikey", func(c *Config) { c.IntegrityKey = nil }, ErrKeyLength},
	} {
		c := base
		tc.edit(&c)
		if _, err := NewOutbound(c); !errors.Is(err, ErrConfig) || !errors.Is(err, tc.want) {
			t.Errorf("%s: NewOutbound err %v, want %v", tc.name, err, tc.want)
		}
		if _, err := NewInbound(c); !errors.Is(err, tc.want) {
			t.Errorf("%s: NewInbound err %v, want %v", tc.name, err, tc.want)
		}
	}
	key := hex.EncodeToString(base.IntegrityKey)
	for _, s := range []string{fmt.Sprint(base), fmt.Sprintf("%+v", base), fmt.Sprintf("%#v", base), fmt.Sprintf("%x", base)} {
		if strings.Contains(s, key) || strings.Contains(s, "ABCD") || !strings.Contains(s, "redacted") {
			t.Errorf("Config printed as %q", s)
		}
	}
}

// TestSealErrors: Seal builds only PType 1 and 8, and stops before the
// Sequence Number would cycle.
func TestSealErrors(t *testing.T) {
	out, in := pair(t, fixedConfig(t, NullSHA, 5, 0))
	if _, err := out.Seal(nil, PacketTypePlaintext, 41, nil); !errors.Is(err, ErrPacketType) {
		t.Errorf("Seal PType 0: err %v", err)
	}
	out.seq = math.MaxUint32 - 1
	in.window.right = math.MaxUint32 - 1
	pkt := seal(t, out, PacketTypeData, 41, nil)
	if m, _, err := in.Open(nil, pkt); err != nil || m.SequenceNumber != math.MaxUint32 {
		t.Errorf("last Sequence Number: %+v, %v", m, err)
	}
	dst := []byte{1, 2, 3}
	got, err := out.Seal(dst, PacketTypeData, 41, nil)
	if !errors.Is(err, ErrSequenceNumberExhausted) || !bytes.Equal(got, dst) {
		t.Errorf("past 2^32-1: %x, %v; want ErrSequenceNumberExhausted and dst unchanged", got, err)
	}
	fail := fixedConfig(t, AES128CBCSHA, 5, 0)
	fail.Rand = bytes.NewReader(nil)
	o, _ := pair(t, fail)
	if _, err := o.Seal(nil, PacketTypeData, 41, nil); !errors.Is(err, ErrMarshal) || o.seq != 0 {
		t.Errorf("IV source fails: err %v, seq %d", err, o.seq)
	}
}
