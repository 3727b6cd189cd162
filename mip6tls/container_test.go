package mip6tls

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestContainerRoundTrip(t *testing.T) {
	long := bytes.Repeat([]byte{'x'}, MaxContentLen)
	for _, tc := range []struct {
		name string
		c    Container
		wire []byte
	}{
		{"one octet", Container{Identifier: 1, Content: s("x")}, cat(
			b(0x00),       // Ver 0, Rsrvd 0
			b(0x01),       // Identifier 1
			b(0x00, 0x01), // Length 1
			s("x"),        // Content portion
		)},
		{"identifier 255", Container{Identifier: 255, Content: eom}, cat(
			b(0x00),
			b(0xff),
			b(0x00, 0x04),
			eom,
		)},
		{"65535 octets", Container{Identifier: 7, Content: long}, cat(
			b(0x00),
			b(0x07),
			b(0xff, 0xff),
			long,
		)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MarshalContainer(tc.c)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.wire) {
				t.Fatalf("MarshalContainer = % x\nwant % x", head(got), head(tc.wire))
			}
			c, err := ParseContainer(tc.wire)
			if err != nil {
				t.Fatal(err)
			}
			if c.Identifier != tc.c.Identifier || !bytes.Equal(c.Content, tc.c.Content) {
				t.Fatalf("ParseContainer = %d, %d octets", c.Identifier, len(c.Content))
			}
			id, n, err := ParseContainerHeader(tc.wire[:ContainerHeaderLen])
			if err != nil || id != tc.c.Identifier || n != len(tc.c.Content) {
				t.Fatalf("ParseContainerHeader = %d, %d, %v", id, n, err)
			}
		})
	}
}

func head(b []byte) []byte { return b[:min(len(b), 16)] }

func TestParseContainerErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		wire []byte
		want error
	}{
		{"empty", nil, io.ErrUnexpectedEOF},
		{"header truncated", b(0x00, 0x01, 0x00), io.ErrUnexpectedEOF},
		{"content truncated", cat(b(0x00, 0x01, 0x00, 0x05), s("abcd")), io.ErrUnexpectedEOF},
		{"content too long for Length", cat(b(0x00, 0x01, 0x00, 0x03), s("abcd")), ErrLength},
		{"Length 0", b(0x00, 0x01, 0x00, 0x00), ErrLength},
		{"Ver 1", cat(b(0x20, 0x01, 0x00, 0x01), s("x")), ErrVersion},
		{"Ver 7", cat(b(0xe0, 0x01, 0x00, 0x01), s("x")), ErrVersion},
		{"Rsrvd set", cat(b(0x01, 0x01, 0x00, 0x01), s("x")), ErrReserved},
		{"Identifier 0", cat(b(0x00, 0x00, 0x00, 0x01), s("x")), ErrIdentifier},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseContainer(tc.wire)
			if !errors.Is(err, ErrParse) || !errors.Is(err, tc.want) {
				t.Fatalf("ParseContainer = %v, want ErrParse and %v", err, tc.want)
			}
		})
	}
}

func TestMarshalContainerErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Container
		want error
	}{
		{"Identifier 0", Container{Identifier: 0, Content: s("x")}, ErrIdentifier},
		{"empty content", Container{Identifier: 1}, ErrLength},
		{"content over 65535", Container{Identifier: 1, Content: make([]byte, MaxContentLen+1)}, ErrLength},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := MarshalContainer(tc.c)
			if !errors.Is(err, ErrMarshal) || !errors.Is(err, tc.want) {
				t.Fatalf("MarshalContainer = %v, want ErrMarshal and %v", err, tc.want)
			}
		})
	}
}
