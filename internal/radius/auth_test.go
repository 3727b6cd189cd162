package radius

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"testing"
)

// TestMessageAuthenticatorMatchesCryptoHMAC checks the stack HMAC-MD5 and
// the one-shot Response Authenticator against crypto/hmac and crypto/md5,
// for secrets up to and beyond the block length.
func TestMessageAuthenticatorMatchesCryptoHMAC(t *testing.T) {
	for _, secretLen := range []int{1, 16, 63, 64, 65, 200, maxPacketLen} {
		secret := bytes.Repeat([]byte{0xa5}, secretLen)
		for _, pktLen := range []int{headerLen + maLen, 300, maxPacketLen} {
			b := make([]byte, pktLen)
			for i := range b {
				b[i] = byte(i * 7)
			}
			off := headerLen + 2
			var auth [authenticator]byte
			copy(auth[:], "request-auth-16o")
			var got [md5.Size]byte
			messageAuthenticator(&got, b, off, &auth, secret)
			m := hmac.New(md5.New, secret)
			m.Write(b[:4])
			m.Write(auth[:])
			m.Write(b[headerLen:off])
			m.Write(make([]byte, md5.Size))
			m.Write(b[off+md5.Size:])
			if want := m.Sum(nil); !bytes.Equal(got[:], want) {
				t.Errorf("secret %d, packet %d: Message-Authenticator %x, crypto/hmac %x", secretLen, pktLen, got, want)
			}
			responseAuthenticator(&got, b, &auth, secret)
			h := md5.New()
			h.Write(b[:4])
			h.Write(auth[:])
			h.Write(b[headerLen:])
			h.Write(secret)
			if want := h.Sum(nil); !bytes.Equal(got[:], want) {
				t.Errorf("secret %d, packet %d: Response Authenticator %x, crypto/md5 %x", secretLen, pktLen, got, want)
			}
		}
	}
}
