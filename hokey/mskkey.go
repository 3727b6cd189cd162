package hokey

import "crypto/subtle"

// MSK is an EAP Master Session Key: the first MSKLen octets of the EAP
// method's key material (RFC 3748 §7.10; issue 12, docs/msk.md). The
// access router's MSK sources (internal/ar, keystore) hold it by NAI.
type MSK [MSKLen]byte

// Equal reports, in constant time, whether m and o are the same MSK.
func (m *MSK) Equal(o *MSK) bool { return subtle.ConstantTimeCompare(m[:], o[:]) == 1 }

// Zero wipes m.
func (m *MSK) Zero() { clear(m[:]) }

// String redacts the key.
func (MSK) String() string { return "MSK(redacted)" }
