package mip6tls

import (
	"bytes"
	"encoding/hex"
	"strings"
)

// cat joins wire fields, one per argument, into the expected octets.
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// b returns its arguments as octets.
func b(v ...byte) []byte { return v }

// s returns a string's octets.
func s(v string) []byte { return []byte(v) }

// line returns one TV-header line, name ":" value CRLF.
func line(name, value string) []byte { return []byte(name + ":" + value + "\r\n") }

// unhex decodes hex with optional spaces; it panics on a typo in a test.
func unhex(v string) []byte {
	out, err := hex.DecodeString(strings.ReplaceAll(v, " ", ""))
	if err != nil {
		panic(err)
	}
	return out
}

// eom is end-of-message, 2CRLF.
var eom = []byte("\r\n\r\n")

// container frames content with Identifier id.
func container(id byte, content []byte) []byte {
	return cat(b(0x00, id, byte(len(content)>>8), byte(len(content))), content)
}
