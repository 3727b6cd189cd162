package mip6tls

import (
	"errors"
	"fmt"
	"testing"
)

func TestParseMessageErrors(t *testing.T) {
	auth := line("auth", hex32)
	for _, tc := range []struct {
		name    string
		content []byte
		want    error
	}{
		{"mn-id twice", cat(line("mn-id", "a"), line("mn-id", "b"), eom), ErrDuplicate},
		{"mn-id twice, other case", cat(line("mn-id", "a"), line("MN-ID", "a"), eom), ErrDuplicate},
		{"auth twice", cat(auth, auth, eom), ErrAuthNotLast},
		{"auth not last", cat(auth, line("mn-id", "a"), eom), ErrAuthNotLast},
		{"auth before unknown", cat(auth, line("x-vendor", "a"), eom), ErrAuthNotLast},
		{"bad value", cat(line("mip6-spi", "0"), eom), ErrValue},
		{"bad header", cat(s("mn-id\r\n"), eom), ErrHeaderSyntax},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseMessage(container(1, tc.content))
			if !errors.Is(err, ErrParse) || !errors.Is(err, tc.want) {
				t.Fatalf("ParseMessage = %v, want ErrParse and %v", err, tc.want)
			}
		})
	}
	if _, err := ParseMessage(b(0x00, 0x01, 0x00)); !errors.Is(err, ErrParse) {
		t.Fatalf("truncated container: %v", err)
	}
}

// Unknown TV-headers may repeat and are kept in order, byte for byte.
func TestParseMessageUnknownRepeated(t *testing.T) {
	wire := container(3, cat(line("x-a", "1"), line("mn-id", "a"), line("x-a", "2"), eom))
	m, err := ParseMessage(wire)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(m.Parameters); got != "[{{x-a 1}} a {{x-a 2}}]" {
		t.Fatalf("parameters %s", got)
	}
	out, err := MarshalMessage(m)
	if err != nil || string(out) != string(wire) {
		t.Fatalf("MarshalMessage = %q, %v; want %q", out, err, wire)
	}
}

func TestMarshalMessageErrors(t *testing.T) {
	var a MessageAuthenticator
	for _, tc := range []struct {
		name string
		m    Message
		want error
	}{
		{"Identifier 0", Message{Identifier: 0, Parameters: []Parameter{SPI(1)}}, ErrIdentifier},
		{"duplicate", Message{Identifier: 1, Parameters: []Parameter{SPI(1), SPI(2)}}, ErrDuplicate},
		{"auth not last", Message{Identifier: 1, Parameters: []Parameter{a, SPI(1)}}, ErrAuthNotLast},
		{"nil parameter", Message{Identifier: 1, Parameters: []Parameter{nil}}, ErrValue},
		{"content over 65535", Message{Identifier: 1, Parameters: []Parameter{EAPPayload(make([]byte, 40000))}}, ErrLength},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := MarshalMessage(tc.m)
			if !errors.Is(err, ErrMarshal) || !errors.Is(err, tc.want) {
				t.Fatalf("MarshalMessage = %v, want ErrMarshal and %v", err, tc.want)
			}
		})
	}
}

func TestFind(t *testing.T) {
	m := Message{Identifier: 1, Parameters: []Parameter{MNIdentifier("a"), SPI(9)}}
	if spi, ok := Find[SPI](m); !ok || spi != 9 {
		t.Fatalf("Find[SPI] = %v, %v", spi, ok)
	}
	if _, ok := Find[StatusCode](m); ok {
		t.Fatal("Find[StatusCode] found one")
	}
}
