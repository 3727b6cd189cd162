package eap

import "crypto/subtle"

// MSK is the Master Session Key an EAP method exports (RFC 3748 §7.10:
// at least 64 octets; fhkey takes the first 64).
type MSK [64]byte

// EMSK is the Extended Master Session Key (RFC 3748 §7.10, 64 octets).
type EMSK [64]byte

// Equal compares in constant time.
func (k *MSK) Equal(o *MSK) bool { return subtle.ConstantTimeCompare(k[:], o[:]) == 1 }

// Equal compares in constant time.
func (k *EMSK) Equal(o *EMSK) bool { return subtle.ConstantTimeCompare(k[:], o[:]) == 1 }

// Wipe zeroes the key.
func (k *MSK) Wipe() { clear(k[:]) }

// Wipe zeroes the key.
func (k *EMSK) Wipe() { clear(k[:]) }
