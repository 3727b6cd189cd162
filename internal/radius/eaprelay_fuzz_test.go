package radius

import (
	"testing"
)

// FuzzDecodeEAPReply: the EAP relay's reply decoder (EAP-Message, State,
// Session-Timeout, the Microsoft keys) never panics, and an MSK comes
// only with an Access-Accept.
func FuzzDecodeEAPReply(f *testing.F) {
	var auth [16]byte
	secret := []byte("s")
	ok, _ := EncodeEAPRequest(1, auth, NAS{Identifier: "n"}, "u", []byte{1}, []byte{3, 1, 0, 4}, 0, secret)
	ok[0] = 2
	f.Add(ok)
	f.Add([]byte{11, 1, 0, 30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 79, 6, 1, 2, 0, 4, 24, 3, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		res, _, err := DecodeEAPReply(b, auth, secret, 1)
		if err == nil && res.HaveMSK && res.Outcome != EAPAccept {
			t.Fatalf("MSK with outcome %d", res.Outcome)
		}
	})
}
