package mip6tls

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
)

func TestTVHeadersRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		hs   []TVHeader
		wire []byte
	}{
		{"none", nil, eom},
		{"two", []TVHeader{{"mn-id", "mn1@example.com"}, {"auth-method", "psk,eap"}}, cat(
			line("mn-id", "mn1@example.com"),
			line("auth-method", "psk,eap"),
			eom,
		)},
		{"inner space kept", []TVHeader{{"retry-after", "Sun, 06 Nov 1994 08:49:37 GMT"}}, cat(
			line("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT"),
			eom,
		)},
		{"empty value", []TVHeader{{"x-empty", ""}}, cat(line("x-empty", ""), eom)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MarshalTVHeaders(tc.hs)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.wire) {
				t.Fatalf("MarshalTVHeaders = %q, want %q", got, tc.wire)
			}
			hs, err := ParseTVHeaders(tc.wire)
			if err != nil {
				t.Fatal(err)
			}
			if len(hs) != len(tc.hs) || (len(hs) > 0 && !reflect.DeepEqual(hs, tc.hs)) {
				t.Fatalf("ParseTVHeaders = %q, want %q", hs, tc.hs)
			}
		})
	}
}

// RFC 2616 §2.1's implied *LWS: white space around a value is dropped, the
// name's case is kept as received.
func TestParseTVHeadersLWS(t *testing.T) {
	hs, err := ParseTVHeaders(cat(s("MN-Id: \tmn1@example.com \r\n"), eom))
	if err != nil {
		t.Fatal(err)
	}
	if want := []TVHeader{{"MN-Id", "mn1@example.com"}}; !reflect.DeepEqual(hs, want) {
		t.Fatalf("got %q, want %q", hs, want)
	}
}

func TestParseTVHeadersErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		wire []byte
		want error
	}{
		{"empty", nil, io.ErrUnexpectedEOF},
		{"no end-of-message", line("mn-id", "a"), io.ErrUnexpectedEOF},
		{"HTTP-style single blank line", cat(line("mn-id", "a"), s("\r\n")), ErrHeaderSyntax},
		{"one CRLF only", s("\r\n"), ErrHeaderSyntax},
		{"data after end-of-message", cat(line("mn-id", "a"), eom, s("x")), ErrHeaderSyntax},
		{"three CRLF after end", cat(line("mn-id", "a"), eom, s("\r\n")), ErrHeaderSyntax},
		{"bare LF", cat(s("mn-id:a\n"), eom), ErrHeaderSyntax},
		{"no colon", cat(s("mn-id a\r\n"), eom), ErrHeaderSyntax},
		{"empty name", cat(s(":a\r\n"), eom), ErrHeaderSyntax},
		{"space in name", cat(s("mn id:a\r\n"), eom), ErrHeaderSyntax},
		{"separator in name", cat(s("mn{id}:a\r\n"), eom), ErrHeaderSyntax},
		{"control in value", cat(s("mn-id:a\x00b\r\n"), eom), ErrHeaderSyntax},
		{"lone CR in value", cat(s("mn-id:a\rb\r\n"), eom), ErrHeaderSyntax},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTVHeaders(tc.wire)
			if !errors.Is(err, ErrParse) || !errors.Is(err, tc.want) {
				t.Fatalf("ParseTVHeaders = %v, want ErrParse and %v", err, tc.want)
			}
		})
	}
}

func TestMarshalTVHeadersErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    TVHeader
	}{
		{"empty name", TVHeader{"", "a"}},
		{"colon in name", TVHeader{"a:b", "a"}},
		{"CRLF in value", TVHeader{"mn-id", "a\r\nauth:00"}},
		{"leading space", TVHeader{"mn-id", " a"}},
		{"trailing tab", TVHeader{"mn-id", "a\t"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := MarshalTVHeaders([]TVHeader{tc.h})
			if !errors.Is(err, ErrMarshal) || !errors.Is(err, ErrHeaderSyntax) {
				t.Fatalf("MarshalTVHeaders = %v, want ErrMarshal and ErrHeaderSyntax", err)
			}
		})
	}
}
