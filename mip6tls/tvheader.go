package mip6tls

import (
	"bytes"
	"io"
	"strings"
)

// RFC 6618 §5.2: "The encoding of the message content is similar to HTTP
// header encoding and complies with the augmented Backus-Naur Form (BNF)
// defined in Section 2.1 of [RFC2616]"; every parameter of §5.5-§5.7 is
//
//	name ":" value CRLF
//
// and §5.5.7 ends the content with
//
//	end-of-message = 2CRLF
//
// which this package reads literally: after the CRLF of the last TV-header
// come two more CRLFs (docs/tls.md, "End of message").

const crlf = "\r\n"

// EndOfMessage is the end-of-message marker of RFC 6618 §5.5.7 (2CRLF).
const EndOfMessage = crlf + crlf

// TVHeader is one TypeValue header as it is on the wire (RFC 6618 §5.2):
// the name as received (names compare case-insensitively, RFC 2616 §2.1)
// and the value without the optional white space around it.
type TVHeader struct {
	Name  string
	Value string
}

// ParseTVHeaders decodes a content portion into its TV-headers, in order.
func ParseTVHeaders(content []byte) ([]TVHeader, error) {
	hs := make([]TVHeader, 0, headerCapacity(content))
	err := scanTVHeaders(content, func(_, _ int, name, value []byte, _ bool) error {
		hs = append(hs, TVHeader{Name: string(name), Value: string(value)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return hs, nil
}

// headerCapacity is the capacity to start a slice of content's TV-headers
// with: one per CRLF, at most 32, so that content made of CRLFs allocates
// nothing large.
func headerCapacity(content []byte) int { return min(bytes.Count(content, []byte(crlf)), 32) }

// scanTVHeaders walks content up to end-of-message, calling each with the
// TV-header's number (from 1), the offset in content at which it starts
// (so that the octets an authenticator covers are the received ones), its
// name and value (aliasing content, without the white space around the
// value) and whether it is the last one. It stops at the first error,
// each's or the content's.
func scanTVHeaders(content []byte, each func(n, offset int, name, value []byte, last bool) error) error {
	pos := 0
	for n := 1; ; n++ {
		rest := content[pos:]
		if string(rest) == EndOfMessage {
			return nil
		}
		end := bytes.Index(rest, []byte(crlf))
		if end < 0 {
			return parseErr(io.ErrUnexpectedEOF, "TV-header %d at offset %d: no CRLF, or no end-of-message (2CRLF)", n, pos)
		}
		if end == 0 {
			return parseErr(ErrHeaderSyntax, "empty line at offset %d is not end-of-message: after the last TV-header's CRLF come exactly 2CRLF and nothing else", pos)
		}
		name, value, err := splitTVHeader(rest[:end])
		if err != nil {
			return parseErr(err, "TV-header %d at offset %d", n, pos)
		}
		if err := each(n, pos, name, value, string(rest[end+len(crlf):]) == EndOfMessage); err != nil {
			return err
		}
		pos += end + len(crlf)
	}
}

// splitTVHeader splits name ":" value, dropping the white space that RFC
// 2616 §2.1 ("implied *LWS") allows around the value.
func splitTVHeader(line []byte) (name, value []byte, err error) {
	colon := bytes.IndexByte(line, ':')
	if colon < 0 {
		return nil, nil, wrapCause(ErrHeaderSyntax, "no ':'")
	}
	name, value = line[:colon], trimLWS(line[colon+1:])
	if err := checkTVHeader(name, value); err != nil {
		return nil, nil, err
	}
	return name, value, nil
}

// checkTVHeader checks a name and a value without white space at either
// end: the name is an RFC 2616 §2.2 token, the value has no CTL other
// than HT (TEXT).
func checkTVHeader[T string | []byte](name, value T) error {
	if !isToken(name) {
		return wrapCause(ErrHeaderSyntax, "name %q is not an RFC 2616 token", name)
	}
	for i := range len(value) {
		if isCTL(value[i]) {
			return wrapCause(ErrHeaderSyntax, "%s: control character %#02x in value", name, value[i])
		}
	}
	return nil
}

// checkTVHeaderOut is checkTVHeader for a header to be sent, whose value
// must also have no white space at either end (the receiver drops it).
func checkTVHeaderOut[T string | []byte](name, value T) error {
	if len(trimLWS(value)) != len(value) {
		return wrapCause(ErrHeaderSyntax, "%s: value %q has white space at an end", name, value)
	}
	return checkTVHeader(name, value)
}

// trimLWS drops the spaces and tabs at both ends of v.
func trimLWS[T string | []byte](v T) T {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	return v
}

// MarshalTVHeaders encodes hs followed by end-of-message. It refuses what
// ParseTVHeaders would not read back as the same headers: a name that is
// not a token, a value with a control character or with white space at
// either end.
func MarshalTVHeaders(hs []TVHeader) ([]byte, error) {
	var b []byte
	for i, h := range hs {
		if err := checkTVHeaderOut(h.Name, h.Value); err != nil {
			return nil, marshalErr(err, "TV-header %d", i+1)
		}
		b = append(b, h.Name...)
		b = append(b, ':')
		b = append(b, h.Value...)
		b = append(b, crlf...)
	}
	return append(b, EndOfMessage...), nil
}

// isToken reports whether s is an RFC 2616 §2.2 token: 1*<any CHAR except
// CTLs or separators>.
func isToken[T string | []byte](s T) bool {
	if len(s) == 0 {
		return false
	}
	for i := range len(s) {
		if !tokenChar[s[i]] {
			return false
		}
	}
	return true
}

// tokenChar marks the octets of an RFC 2616 §2.2 token: CHAR (0..127)
// except CTLs (0..31, 127), SP and the separators.
var tokenChar = func() (t [256]bool) {
	for c := '!'; c < 0x7f; c++ {
		t[c] = !strings.ContainsRune(`()<>@,;:\"/[]?={}`, c)
	}
	return t
}()

// isCTL reports an RFC 2616 §2.2 CTL other than HT, which TEXT allows.
// An octet of a multi-octet UTF-8 sequence (128..255) is TEXT.
func isCTL(c byte) bool { return (c < ' ' && c != '\t') || c == 0x7f }
