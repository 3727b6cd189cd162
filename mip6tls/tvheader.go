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
	hs, _, err := parseTVHeaders(content)
	return hs, err
}

// parseTVHeaders also returns the offset in content at which each header
// starts, so that the octets an authenticator covers are the received ones.
// The content is copied into one string whose substrings are the names and
// values (one allocation, not two per header); the slices start at a small
// capacity, so that content made of CRLFs allocates nothing large.
func parseTVHeaders(content []byte) ([]TVHeader, []int, error) {
	capacity := min(bytes.Count(content, []byte(crlf)), 32)
	hs := make([]TVHeader, 0, capacity)
	offsets := make([]int, 0, capacity)
	text := string(content)
	pos := 0
	for {
		rest := text[pos:]
		if rest == EndOfMessage {
			return hs, offsets, nil
		}
		end := strings.Index(rest, crlf)
		if end < 0 {
			return nil, nil, parseErr(io.ErrUnexpectedEOF, "TV-header %d at offset %d: no CRLF, or no end-of-message (2CRLF)", len(hs)+1, pos)
		}
		if end == 0 {
			return nil, nil, parseErr(ErrHeaderSyntax, "empty line at offset %d is not end-of-message: after the last TV-header's CRLF come exactly 2CRLF and nothing else", pos)
		}
		h, err := parseTVHeaderLine(rest[:end])
		if err != nil {
			return nil, nil, parseErr(err, "TV-header %d at offset %d", len(hs)+1, pos)
		}
		hs = append(hs, h)
		offsets = append(offsets, pos)
		pos += end + len(crlf)
	}
}

// parseTVHeaderLine splits name ":" value, dropping the white space that
// RFC 2616 §2.1 ("implied *LWS") allows around the value. Name and Value
// are substrings of line.
func parseTVHeaderLine(line string) (TVHeader, error) {
	colon := strings.IndexByte(line, ':')
	if colon < 0 {
		return TVHeader{}, wrapCause(ErrHeaderSyntax, "no ':'")
	}
	name := line[:colon]
	if !isToken(name) {
		return TVHeader{}, wrapCause(ErrHeaderSyntax, "name %q is not an RFC 2616 token", name)
	}
	value := strings.Trim(line[colon+1:], " \t")
	if i := strings.IndexFunc(value, isCTL); i >= 0 {
		return TVHeader{}, wrapCause(ErrHeaderSyntax, "%s: control character %#02x in value", name, value[i])
	}
	return TVHeader{Name: name, Value: value}, nil
}

// MarshalTVHeaders encodes hs followed by end-of-message. It refuses what
// ParseTVHeaders would not read back as the same headers: a name that is
// not a token, a value with a control character or with white space at
// either end.
func MarshalTVHeaders(hs []TVHeader) ([]byte, error) {
	var b []byte
	for i, h := range hs {
		var err error
		if b, err = appendTVHeader(b, h); err != nil {
			return nil, marshalErr(err, "TV-header %d", i+1)
		}
	}
	return append(b, EndOfMessage...), nil
}

func appendTVHeader(b []byte, h TVHeader) ([]byte, error) {
	if !isToken(h.Name) {
		return nil, wrapCause(ErrHeaderSyntax, "name %q is not an RFC 2616 token", h.Name)
	}
	if v := h.Value; strings.IndexFunc(v, isCTL) >= 0 || len(strings.Trim(v, " \t")) != len(v) {
		return nil, wrapCause(ErrHeaderSyntax, "%s: value %q has a control character or white space at an end", h.Name, h.Value)
	}
	b = append(b, h.Name...)
	b = append(b, ':')
	b = append(b, h.Value...)
	return append(b, crlf...), nil
}

// isToken reports whether s is an RFC 2616 §2.2 token: 1*<any CHAR except
// CTLs or separators>.
func isToken(s string) bool {
	if len(s) == 0 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if c <= ' ' || c >= 0x7f {
			return false
		}
		switch c {
		case '(', ')', '<', '>', '@', ',', ';', ':', '\\', '"', '/', '[', ']', '?', '=', '{', '}':
			return false
		}
	}
	return true
}

// isCTL reports an RFC 2616 §2.2 CTL other than HT, which TEXT allows.
func isCTL(r rune) bool { return (r < ' ' && r != '\t') || r == 0x7f }
