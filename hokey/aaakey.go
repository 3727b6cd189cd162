package hokey

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"log/slog"
)

// macKey is the material of an HIK or HK and the MAC algorithm it was
// derived for. The material is kept in a Key with the BADF AT of the same
// hash and key length (MACAlgorithm.BADFAlgorithm), which gives the fixed
// array, Zero and the constant-time comparison.
type macKey struct {
	mac MACAlgorithm
	key Key
}

func newMACKey(mac MACAlgorithm, material []byte) (macKey, error) {
	at, err := mac.BADFAlgorithm()
	if err != nil {
		return macKey{}, err
	}
	if len(material) != mac.KeyLen() {
		return macKey{}, fmt.Errorf("%w: %s needs a %d-octet key, have %d", ErrKey, mac, mac.KeyLen(), len(material))
	}
	k, err := NewKey(at, material)
	return macKey{mac: mac, key: k}, err
}

// MACAlgorithm returns the algorithm the key was derived for.
func (k *macKey) MACAlgorithm() MACAlgorithm { return k.mac }

// IsZero reports whether the key holds no material.
func (k *macKey) IsZero() bool { return k.key.IsZero() }

// Bytes returns the key material; the slice aliases the key. Never log it.
func (k *macKey) Bytes() []byte { return k.key.Bytes() }

// Zero overwrites the key material (see Key.Zero on copies).
func (k *macKey) Zero() { k.key.Zero() }

func (k *macKey) equal(o *macKey) bool {
	return subtle.ConstantTimeByteEq(uint8(k.mac), uint8(o.mac))&boolInt(k.key.Equal(&o.key)) == 1
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// authValue appends the AUTH Value MAC(key, data) to dst (draft §6.2.1,
// §6.3): the whole HMAC of the key's algorithm.
func (k *macKey) authValue(dst, data []byte) ([]byte, error) {
	if k.key.IsZero() {
		return nil, fmt.Errorf("%w: empty key", ErrKey)
	}
	if err := k.mac.check(); err != nil {
		return nil, err
	}
	if len(data) > maxStackText {
		// Copies in and out, so that the key, data and dst stay where the
		// callers have them (their stacks).
		key := bytes.Clone(k.key.Bytes())
		m := hmac.New(k.mac.hash(), key)
		clear(key)
		m.Write(bytes.Clone(data))
		t := m.Sum(nil)
		dst = append(dst, t...)
		clear(t)
		return dst, nil
	}
	var buf hmacBuf
	var sum [sha256.Size]byte
	n := copy(buf.text(), data)
	dst = append(dst, stackHMAC(hmacOf(uint8(k.mac)).fn, &sum, k.key.Bytes(), &buf, hmacBlockLen+n)...)
	clear(sum[:])
	return dst, nil
}

func (k *macKey) describe(kind string) string {
	if k.key.IsZero() {
		return "hokey." + kind + "(empty)"
	}
	return fmt.Sprintf("hokey.%s(%s, %d octets, redacted)", kind, k.mac, len(k.key.Bytes()))
}

// IntegrityKey is a Handover Integrity Key (HIK, draft §6.1.1): shared by
// the MN and the Handover Key Server, it computes the MN-HKS MAC. fmt and
// slog print it redacted.
type IntegrityKey struct{ macKey }

// NewIntegrityKey returns an HIK for mac holding a copy of material.
func NewIntegrityKey(mac MACAlgorithm, material []byte) (IntegrityKey, error) {
	k, err := newMACKey(mac, material)
	return IntegrityKey{k}, err
}

// Equal reports in constant time whether k and o are the same key.
func (k *IntegrityKey) Equal(o *IntegrityKey) bool { return k.equal(&o.macKey) }

// String redacts the material.
func (k IntegrityKey) String() string { return k.describe("IntegrityKey") }

// GoString redacts the material in %#v.
func (k IntegrityKey) GoString() string { return k.String() }

// Format redacts the material for every verb.
func (k IntegrityKey) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }

// LogValue redacts the material in log/slog output.
func (k IntegrityKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// HandoverKey is a Handover Key (HK, draft §6.1.2): shared by the MN and
// the AR, it computes the MN-AR MAC and, as BADFKey, the FBU's BADF
// Authenticator. fmt and slog print it redacted.
type HandoverKey struct{ macKey }

// NewHandoverKey returns an HK for mac holding a copy of material (the AR
// gets the HK from the Handover Key Server).
func NewHandoverKey(mac MACAlgorithm, material []byte) (HandoverKey, error) {
	k, err := newMACKey(mac, material)
	return HandoverKey{k}, err
}

// Equal reports in constant time whether k and o are the same key.
func (k *HandoverKey) Equal(o *HandoverKey) bool { return k.equal(&o.macKey) }

// BADFKey returns the HK as the key of the FBU's BADF (RFC 5568 §6.4.5),
// with the AT matching its MAC algorithm (MACAlgorithm.BADFAlgorithm).
func (k *HandoverKey) BADFKey() (Key, error) {
	if k.key.IsZero() {
		return Key{}, fmt.Errorf("%w: empty handover key", ErrKey)
	}
	return k.key, nil
}

// String redacts the material.
func (k HandoverKey) String() string { return k.describe("HandoverKey") }

// GoString redacts the material in %#v.
func (k HandoverKey) GoString() string { return k.String() }

// Format redacts the material for every verb.
func (k HandoverKey) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }

// LogValue redacts the material in log/slog output.
func (k HandoverKey) LogValue() slog.Value { return slog.StringValue(k.String()) }
