package mh

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"testing"

	"github.com/fhkey/fhkey/internal/inet"
)

// refChecksum is an independent RFC 6275 §6.1.1 checksum: one's complement
// of the one's complement sum of the pseudo-header (RFC 8200 §8.1) and the
// Mobility Header with its Checksum field as zero.
func refChecksum(mh []byte, src, dst netip.Addr) uint16 {
	s, d := src.As16(), dst.As16()
	m := bytes.Clone(mh)
	m[4], m[5] = 0, 0
	buf := cat(s[:], d[:], u32(uint32(len(m))), b(0, 0, 0, 135), m)
	if len(buf)%2 == 1 {
		buf = append(buf, 0)
	}
	var sum uint64
	for i := 0; i < len(buf); i += 2 {
		sum += uint64(buf[i])<<8 | uint64(buf[i+1])
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

func TestChecksum(t *testing.T) {
	for _, tc := range messageCases() {
		msg := bytes.Clone(tc.wire)
		want := refChecksum(msg, mnCoA, parAddr)
		msg[4], msg[5] = 0xa5, 0x5a // the field's old value must not matter
		if got := Checksum(msg, mnCoA, parAddr); got != want {
			t.Fatalf("%s: Checksum = %#04x, want %#04x", tc.name, got, want)
		}
		if err := SetChecksum(msg, mnCoA, parAddr); err != nil {
			t.Fatal(err)
		}
		if err := VerifyChecksum(msg, mnCoA, parAddr); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if inet.Checksum(mnCoA, parAddr, inet.ProtocolMobility, msg) != 0 {
			t.Fatalf("%s: the sum over the packet is not all ones", tc.name)
		}
		if err := VerifyChecksum(msg, newCoA, parAddr); !errors.Is(err, ErrChecksum) || !errors.Is(err, ErrParse) {
			t.Fatalf("%s: wrong source address: %v", tc.name, err)
		}
		msg[len(msg)-1] ^= 0x80
		if err := VerifyChecksum(msg, mnCoA, parAddr); !errors.Is(err, ErrChecksum) {
			t.Fatalf("%s: flipped bit: %v", tc.name, err)
		}
	}
	if err := VerifyChecksum(b(59, 0, 0), mnCoA, parAddr); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatal(err)
	}
	if err := SetChecksum(b(59, 0, 0), mnCoA, parAddr); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatal(err)
	}
}
