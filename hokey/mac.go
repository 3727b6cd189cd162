package hokey

import (
	"crypto/sha256"
	"fmt"
	"net/netip"
	"slices"

	"github.com/fhkey/fhkey/mh"
)

// FirstAAASPI is the lowest SPI an AR assigns to an HK (docs/aaa.md): BADF
// SPI 0 names the key of a SEND-based exchange (RFC 5568 §6.4.5), and
// 1-255 are left unused, as RFC 4303 §2.1 leaves them for IPsec.
const FirstAAASPI uint32 = 256

// MACKey is a key that computes the AUTH Value of a MAC option (draft
// §5.2.2): *IntegrityKey for the MN-HKS MAC, *HandoverKey for the MN-AR
// MAC. The key's type fixes the option's Sub-type.
type MACKey interface {
	material() *macKey
	subtype() uint8
}

func (k *IntegrityKey) material() *macKey { return &k.macKey }
func (k *HandoverKey) material() *macKey  { return &k.macKey }
func (*IntegrityKey) subtype() uint8      { return mh.MACSubtypeMNHKS }
func (*HandoverKey) subtype() uint8       { return mh.MACSubtypeMNAR }

func macName(k MACKey) string {
	if k.subtype() == mh.MACSubtypeMNHKS {
		return "MN-HKS MAC"
	}
	return "MN-AR MAC"
}

// SignMACs marshals m, an HKReq or HKResp without MAC options, with one MAC
// option per key appended in the order given, computes each AUTH Value over
// the marshalled bytes (mh.Codepoints.CoveredByMAC: the Mobility Header up
// to and including the option's Algorithm Type, Checksum zero; draft
// §6.2.1, §6.3), and sets the checksum for a packet from src to dst.
//
// keys holds at most one *IntegrityKey (MN-HKS MAC) and one *HandoverKey
// (MN-AR MAC), in that order: the MN-AR MAC is the last option and covers
// the MN-HKS MAC (docs/aaa.md). An HKReq with the V flag set needs the
// *HandoverKey ("If the V flag is set, the MN-AR MAC option MUST be
// included", §5.1.1); one without it must not carry an MN-AR MAC.
func SignMACs(cp mh.Codepoints, m mh.Message, src, dst netip.Addr, keys ...MACKey) ([]byte, error) {
	var (
		opts    []mh.Option
		name    string
		verify  bool
		request bool
	)
	switch v := m.(type) {
	case mh.HandoverKeyRequest:
		opts, name, verify, request = v.Options, "HKReq", v.Verify, true
	case mh.HandoverKeyResponse:
		opts, name = v.Options, "HKResp"
	default:
		return nil, fmt.Errorf("%w: sign MAC options: %T is neither an HKReq nor an HKResp", ErrKey, m)
	}
	for _, o := range opts {
		if _, ok := o.(mh.MessageAuthenticationCode); ok {
			return nil, fmt.Errorf("%w: sign %s: the message already has a MAC option", ErrKey, name)
		}
	}
	hasAR := false
	macs := make([]mh.Option, 0, len(keys))
	for i, k := range keys {
		mk := k.material()
		if err := mk.mac.check(); err != nil || mk.key.IsZero() {
			return nil, fmt.Errorf("%w: sign %s: %s key missing or unusable", ErrKey, name, macName(k))
		}
		if i > 0 && k.subtype() <= keys[i-1].subtype() {
			return nil, fmt.Errorf("%w: sign %s: MAC options must be at most one MN-HKS MAC, then at most one MN-AR MAC", ErrKey, name)
		}
		hasAR = hasAR || k.subtype() == mh.MACSubtypeMNAR
		macs = append(macs, mh.MessageAuthenticationCode{Subtype: k.subtype(), AlgorithmType: uint8(mk.mac),
			AuthValue: make([]byte, mk.mac.AuthValueLen())})
	}
	if request && verify != hasAR {
		return nil, fmt.Errorf("%w: sign HKReq: V flag %v but MN-AR MAC key given: %v (draft §5.1.1)", ErrKey, verify, hasAR)
	}
	all := append(slices.Clip(opts), macs...)
	if request {
		v := m.(mh.HandoverKeyRequest)
		v.Options = all
		m = v
	} else {
		v := m.(mh.HandoverKeyResponse)
		v.Options = all
		m = v
	}
	msg, err := cp.MarshalMessage(m)
	if err != nil {
		return nil, err
	}
	var buf [MaxKeyLen]byte
	for _, k := range keys {
		c, err := cp.CoveredByMAC(msg, k.subtype())
		if err != nil {
			return nil, err
		}
		auth, err := k.material().authValue(buf[:0], c.Data)
		if err != nil {
			return nil, err
		}
		if err := mh.WriteAuthenticator(msg, c, auth); err != nil {
			return nil, err
		}
	}
	clear(buf[:])
	if err := mh.SetChecksum(msg, src, dst); err != nil {
		return nil, err
	}
	return msg, nil
}

// VerifyMAC checks the MAC option of k's Sub-type in msg, a received HKReq
// or HKResp, over the received bytes (never a re-marshal): the option must
// be placed as SignMACs places it, its Algorithm Type must be k's algorithm
// and its AUTH Value must equal MAC(k, MH Data), compared in constant time
// (draft §6.2.2, §6.3.1, §6.4). The MH checksum is the caller's (it needs
// the addresses). A wrong AUTH Value wraps ErrAuthenticator; an option that
// cannot be located wraps mh.ErrAuthenticator; an unsupported Algorithm
// Type wraps ErrInvalidMAC.
func VerifyMAC(cp mh.Codepoints, msg []byte, k MACKey) error {
	// Concrete types, not k's methods: an interface method call would
	// move the caller's key to the heap.
	var mk *macKey
	var subtype uint8
	switch k := k.(type) {
	case *IntegrityKey:
		mk, subtype = &k.macKey, mh.MACSubtypeMNHKS
	case *HandoverKey:
		mk, subtype = &k.macKey, mh.MACSubtypeMNAR
	default:
		return fmt.Errorf("%w: MAC key neither an HIK nor an HK", ErrKey)
	}
	name := "MN-HKS MAC"
	if subtype == mh.MACSubtypeMNAR {
		name = "MN-AR MAC"
	}
	// The MH Data goes straight into the stack HMAC's buffer (no
	// allocation) when the message fits it, as every Mobility Header does.
	var buf hmacBuf
	dst := buf.text()[:0]
	onStack := len(msg) <= len(dst[:cap(dst)])
	if !onStack {
		dst = nil
	}
	c, err := cp.AppendCoveredByMAC(dst, msg, subtype)
	if err != nil {
		return fmt.Errorf("hokey: %s: %w", name, err)
	}
	at, err := ParseMACAlgorithm(c.AlgorithmType)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if at != mk.mac {
		return fmt.Errorf("%w: %s: Algorithm Type %s, the key is for %s", ErrAuthenticator, name, at, mk.mac)
	}
	if mk.key.IsZero() {
		return fmt.Errorf("%w: empty key", ErrKey)
	}
	var sum [sha256.Size]byte
	var want []byte
	if onStack {
		want = stackHMAC(hmacOf(uint8(mk.mac)).fn, &sum, mk.key.Bytes(), &buf, hmacBlockLen+len(c.Data))
	} else if want, err = mk.authValue(sum[:0], c.Data); err != nil {
		return err
	}
	ok := c.Equal(want)
	clear(sum[:])
	if !ok {
		return fmt.Errorf("%w: %s AUTH Value", ErrAuthenticator, name)
	}
	return nil
}
