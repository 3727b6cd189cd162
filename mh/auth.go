package mh

import (
	"crypto/subtle"
	"fmt"
	"io"
	"net/netip"
)

// Covered describes an authenticator option found in a received Mobility
// Header and the exact octets its authenticator covers.
type Covered struct {
	// Data is the octet string the MAC is computed over, built from the
	// received bytes with the Checksum field taken as zero. It does not
	// alias the message.
	Data []byte
	// Authenticator is the authenticator as received; it aliases the
	// message.
	Authenticator []byte
	// Offset is the offset of the authenticator in the message.
	Offset int
	// SPI is the SPI of a BADF or Mobility Message Authentication option.
	SPI uint32
	// Subtype and AlgorithmType are those of a Mobility Message
	// Authentication or MAC option.
	Subtype, AlgorithmType uint8
}

// Equal reports in constant time whether mac equals the received
// authenticator.
func (c *Covered) Equal(mac []byte) bool {
	return subtle.ConstantTimeCompare(c.Authenticator, mac) == 1
}

// WriteAuthenticator copies auth into the authenticator field of msg that c
// describes; c must come from one of the Covered functions applied to msg
// (a message marshalled with a placeholder authenticator of the final
// length). The checksum must be set afterwards with SetChecksum.
func WriteAuthenticator(msg []byte, c *Covered, auth []byte) error {
	if len(auth) != len(c.Authenticator) {
		return marshalErr("authenticator is %d octets, the field holds %d: %w", len(auth), len(c.Authenticator), ErrValue)
	}
	if c.Offset < 0 || c.Offset+len(auth) > len(msg) {
		return marshalErr("authenticator at offset %d+%d beyond the %d-octet message: %w", c.Offset, len(auth), len(msg), ErrValue)
	}
	copy(msg[c.Offset:], auth)
	return nil
}

// CoveredByBADF locates the BADF option (RFC 5568 §6.4.5) of a received
// Fast Binding Update or Fast Binding Acknowledgment and returns the
// Mobility Data its Authenticator covers. RFC 5568 §6.4.5 defines the
// Authenticator as in RFC 3775 (now RFC 6275 §6.2.7) "with 'correspondent'
// replaced by the PAR's IP address":
//
//	Mobility Data = care-of address | PAR address | MH Data
//
// where MH Data is the Mobility Header without the Authenticator field,
// with the Checksum as zero. The BADF option "MUST be the last Mobility
// Option present"; otherwise the error wraps ErrBADFNotLast.
func CoveredByBADF(msg []byte, careOf, par netip.Addr) (*Covered, error) {
	return ptr(locateLast(nil, msg, OptionTypeBADF, badfSPILen, careOf, par, "BADF"))
}

// AppendCoveredByBADF is CoveredByBADF with the Mobility Data appended to
// dst and the result returned by value: with room in dst (such as a
// [MaxMobilityDataLen]byte array on the caller's stack) it does not
// allocate. The returned Data aliases dst's array.
func AppendCoveredByBADF(dst, msg []byte, careOf, par netip.Addr) (Covered, error) {
	return locateLast(dst, msg, OptionTypeBADF, badfSPILen, careOf, par, "BADF")
}

// MaxMobilityDataLen is the longest Mobility Data an authenticator can
// cover: two addresses and the longest Mobility Header, (255+1)*8 octets
// (RFC 6275 §6.1.1).
const MaxMobilityDataLen = 2*ipv6Len + maxMHLen

// ptr returns &c, or nil with err.
func ptr(c Covered, err error) (*Covered, error) {
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// CoveredByBindingAuthorizationData is CoveredByBADF for the Binding
// Authorization Data option of RFC 6275 §6.2.7 (no SPI; correspondent is
// the correspondent node's address).
func CoveredByBindingAuthorizationData(msg []byte, careOf, correspondent netip.Addr) (*Covered, error) {
	return ptr(locateLast(nil, msg, OptionTypeBindingAuthorizationData, 0, careOf, correspondent, "Binding Authorization Data"))
}

// locateLast locates the option of type typ, which must be the last, and
// appends the Mobility Data a1 | a2 | MH Data its authenticator covers to
// dst (a new exact-size slice when dst is nil).
func locateLast(dst, msg []byte, typ uint8, spiLen int, a1, a2 netip.Addr, name string) (Covered, error) {
	if err := checkAddrs(a1, a2); err != nil {
		return Covered{}, err
	}
	cp := DefaultCodepoints()
	off, n, next, err := cp.locate(msg, func(t uint8, _ []byte) bool { return t == typ })
	if err != nil {
		return Covered{}, fmt.Errorf("%s: %w", name, err)
	}
	if next < len(msg) {
		return Covered{}, fmt.Errorf("%w: %s option at offset %d is followed by octets at offset %d: %w",
			ErrAuthenticator, name, off, next, ErrBADFNotLast)
	}
	if n <= spiLen {
		return Covered{}, fmt.Errorf("%w: %s option at offset %d: Option Length %d leaves no Authenticator: %w",
			ErrAuthenticator, name, off, n, ErrOptionLength)
	}
	auth := off + 2 + spiLen
	c := Covered{Data: appendMobilityData(dst, a1, a2, msg[:auth]), Authenticator: msg[auth : off+2+n], Offset: auth}
	if spiLen > 0 {
		c.SPI = be32(msg[off+2:])
	}
	return c, nil
}

// CoveredByMobilityMessageAuthentication locates the first Mobility Message
// Authentication option (RFC 4285 §5) with the given subtype and returns
// what its Authentication Data covers (§5.1, §5.2):
//
//	Mobility Data = care-of address | home address | MH Data
//
// where MH Data is "the content of the Mobility Header up to and including
// the mobility SPI field of this option" with the Checksum set to 0. For
// the MN-AAA subtype with HMAC_SHA1_SPI the caller hashes Data with SHA-1
// first (§5.2). The option must be the last option apart from padding and
// further authentication options (§5.1, §5.2); otherwise the error wraps
// ErrNotLast.
func CoveredByMobilityMessageAuthentication(msg []byte, subtype uint8, careOf, home netip.Addr) (*Covered, error) {
	return ptr(AppendCoveredByMobilityMessageAuthentication(nil, msg, subtype, careOf, home))
}

// AppendCoveredByMobilityMessageAuthentication is
// CoveredByMobilityMessageAuthentication with the Mobility Data appended
// to dst and the result returned by value: with room in dst (such as a
// [MaxMobilityDataLen]byte array on the caller's stack) it does not
// allocate. The returned Data aliases dst's array.
func AppendCoveredByMobilityMessageAuthentication(dst, msg []byte, subtype uint8, careOf, home netip.Addr) (Covered, error) {
	if err := checkAddrs(careOf, home); err != nil {
		return Covered{}, err
	}
	cp := DefaultCodepoints()
	match := func(t uint8, d []byte) bool {
		return t == OptionTypeMobilityMessageAuthentication && len(d) > 0 && d[0] == subtype
	}
	off, n, next, err := cp.locate(msg, match)
	if err != nil {
		return Covered{}, fmt.Errorf("Mobility Message Authentication subtype %d: %w", subtype, err)
	}
	if n <= authSubtypeSPILen {
		return Covered{}, fmt.Errorf("%w: Mobility Message Authentication option at offset %d: Option Length %d leaves no Authentication Data: %w",
			ErrAuthenticator, off, n, ErrOptionLength)
	}
	if err := onlyFollowedBy(msg, next, OptionTypeMobilityMessageAuthentication); err != nil {
		return Covered{}, err
	}
	spiEnd := off + 2 + authSubtypeSPILen
	return Covered{Data: appendMobilityData(dst, careOf, home, msg[:spiEnd]), Authenticator: msg[spiEnd : off+2+n],
		Offset: spiEnd, SPI: be32(msg[off+3:]), Subtype: subtype}, nil
}

// CheckOnlyPadding checks that the octets of msg from offset i on are
// Pad1 and PadN options only, with valid lengths: that the option ending
// at i is the last option (RFC 4285 §5.1: the MN-HA option "MUST be the
// last option in a message with a mobility header if it is the only
// mobility message authentication option"). Otherwise the error wraps
// ErrNotLast (or io.ErrUnexpectedEOF).
func CheckOnlyPadding(msg []byte, i int) error {
	if i < 0 || i > len(msg) {
		return fmt.Errorf("%w: offset %d outside the %d-octet message: %w", ErrAuthenticator, i, len(msg), ErrValue)
	}
	return onlyFollowedByMatching(msg, i, func(uint8, []byte) bool { return false })
}

// MobileNodeNAI returns the Identifier of the first Mobile Node
// Identifier option of subtype NAI (RFC 4283 §3.1) in a received
// Mobility Header, aliasing msg; the NAI names the mobile node whose key
// authenticates the message (docs/msk.md). It does not allocate unless it
// fails; an NAI option without an identifier wraps ErrOptionLength.
func MobileNodeNAI(msg []byte) ([]byte, error) {
	cp := DefaultCodepoints()
	match := func(t uint8, d []byte) bool {
		return t == OptionTypeMobileNodeIdentifier && len(d) > 0 && d[0] == MobileNodeIdentifierSubtypeNAI
	}
	off, n, _, err := cp.locate(msg, match)
	if err != nil {
		return nil, fmt.Errorf("Mobile Node Identifier (NAI): %w", err)
	}
	if n <= mobileNodeIdentifierSubtypeLen {
		return nil, fmt.Errorf("%w: MN-NAI option at offset %d is empty: %w", ErrAuthenticator, off, ErrOptionLength)
	}
	return msg[off+2+mobileNodeIdentifierSubtypeLen : off+2+n], nil
}

// CoveredByMAC locates the first MAC option (draft §5.2.2) with the given
// subtype under the default codepoints; see Codepoints.CoveredByMAC.
func CoveredByMAC(msg []byte, subtype uint8) (*Covered, error) {
	return Codepoints{}.CoveredByMAC(msg, subtype)
}

// CoveredByMAC locates the first MAC option (draft §5.2.2) with the given
// subtype in a received HKReq or HKResp and returns what its AUTH Value
// covers: "MH Data is the content of the Mobility Header up to and including
// the Algorithm Type field of this option" (draft §6.2.1, §6.3). The draft
// does not say how the Checksum is treated; as the checksum is computed
// after the MAC, it is taken as zero (as in RFC 6275 §6.2.7 and RFC 4285).
// Only padding may follow an MN-AR MAC option (draft §6.2.3: "The MN-AR MAC
// Option MUST be the last option included in the HKReq"; fhkey applies the
// same rule to the HKResp, docs/aaa.md), and only padding and the MN-AR MAC
// may follow an MN-HKS MAC option, so that each AUTH Value covers every
// option but padding and the MACs after it; otherwise the error wraps
// ErrNotLast.
func (cp Codepoints) CoveredByMAC(msg []byte, subtype uint8) (*Covered, error) {
	return ptr(cp.AppendCoveredByMAC(nil, msg, subtype))
}

// AppendCoveredByMAC is CoveredByMAC with the MH Data appended to dst and
// the result returned by value: with room in dst (such as a
// [MaxMobilityDataLen]byte array on the caller's stack) it does not
// allocate. The returned Data aliases dst's array.
func (cp Codepoints) AppendCoveredByMAC(dst, msg []byte, subtype uint8) (Covered, error) {
	r := cp.resolved()
	if err := r.Validate(); err != nil {
		return Covered{}, fmt.Errorf("%w: %w", ErrAuthenticator, err)
	}
	if len(msg) > 2 && msg[2] != r.HandoverKeyRequest && msg[2] != r.HandoverKeyResponse {
		return Covered{}, fmt.Errorf("%w: MH Type %d is neither HKReq nor HKResp: %w", ErrAuthenticator, msg[2], ErrNoOption)
	}
	match := func(t uint8, d []byte) bool { return t == r.MAC && len(d) > 0 && d[0] == subtype }
	off, n, next, err := r.locate(msg, match)
	if err != nil {
		return Covered{}, fmt.Errorf("MAC subtype %d: %w", subtype, err)
	}
	if n <= macHeaderLen {
		return Covered{}, fmt.Errorf("%w: MAC option at offset %d: Option Length %d leaves no AUTH Value: %w",
			ErrAuthenticator, off, n, ErrOptionLength)
	}
	follower := func(t uint8, d []byte) bool {
		return subtype != MACSubtypeMNAR && t == r.MAC && len(d) > 0 && d[0] == MACSubtypeMNAR
	}
	if err := onlyFollowedByMatching(msg, next, follower); err != nil {
		return Covered{}, err
	}
	at := off + 2 + macHeaderLen
	start := len(dst)
	if dst == nil {
		dst = make([]byte, 0, at)
	}
	dst = append(dst, msg[:at]...)
	data := dst[start:]
	data[checksumOff], data[checksumOff+1] = 0, 0
	return Covered{Data: data, Authenticator: msg[at : off+2+n], Offset: at,
		Subtype: subtype, AlgorithmType: msg[off+3] & maxAlgorithmType}, nil
}

// locate validates the framing of msg, walks its options and returns the
// offset and Option Length of the first option for which match is true,
// and the offset just after it.
func (cp *Codepoints) locate(msg []byte, match func(typ uint8, data []byte) bool) (off, n, next int, err error) {
	total, err := frame(msg)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("%w: %w", ErrAuthenticator, err)
	}
	fixed := cp.fixedLenOf(msg[2])
	if fixed < 0 {
		return 0, 0, 0, fmt.Errorf("%w: MH Type %d unknown, options cannot be located: %w", ErrAuthenticator, msg[2], ErrNoOption)
	}
	if headerLen+fixed > total {
		return 0, 0, 0, fmt.Errorf("%w: MH Type %d: Header Len %d too short: %w", ErrAuthenticator, msg[2], msg[1], ErrHeaderLen)
	}
	for i := headerLen + fixed; i < total; {
		if msg[i] == OptionTypePad1 {
			i++
			continue
		}
		if total-i < 2 || total-i-2 < int(msg[i+1]) {
			return 0, 0, 0, fmt.Errorf("%w: option type %d at offset %d overruns the message: %w",
				ErrAuthenticator, msg[i], i, io.ErrUnexpectedEOF)
		}
		l := int(msg[i+1])
		if match(msg[i], msg[i+2:i+2+l]) {
			return i, l, i + 2 + l, nil
		}
		i += 2 + l
	}
	return 0, 0, 0, fmt.Errorf("%w: %w", ErrAuthenticator, ErrNoOption)
}

// onlyFollowedBy checks that the options from offset i on are padding or
// of type typ, with valid lengths.
func onlyFollowedBy(msg []byte, i int, typ uint8) error {
	return onlyFollowedByMatching(msg, i, func(t uint8, _ []byte) bool { return t == typ })
}

// onlyFollowedByMatching checks that the options from offset i on are
// padding or options for which ok is true, with valid lengths.
func onlyFollowedByMatching(msg []byte, i int, ok func(typ uint8, data []byte) bool) error {
	for i < len(msg) {
		t := msg[i]
		switch {
		case t == OptionTypePad1:
			i++
			continue
		case len(msg)-i < 2 || len(msg)-i-2 < int(msg[i+1]):
			return fmt.Errorf("%w: option type %d at offset %d overruns the message: %w", ErrAuthenticator, t, i, io.ErrUnexpectedEOF)
		case t != OptionTypePadN && !ok(t, msg[i+2:i+2+int(msg[i+1])]):
			return fmt.Errorf("%w: option type %d at offset %d follows the authenticator: %w", ErrAuthenticator, t, i, ErrNotLast)
		}
		i += 2 + int(msg[i+1])
	}
	return nil
}

func checkAddrs(a ...netip.Addr) error {
	for _, x := range a {
		if !x.Is6() {
			return fmt.Errorf("%w: %v is not an IPv6 address: %w", ErrAuthenticator, x, ErrValue)
		}
	}
	return nil
}

// appendMobilityData appends a1 | a2 | mh with the Checksum field of mh
// zeroed to dst; a nil dst gets an exact-size new slice.
func appendMobilityData(dst []byte, a1, a2 netip.Addr, mh []byte) []byte {
	if dst == nil {
		dst = make([]byte, 0, 2*ipv6Len+len(mh))
	}
	start := len(dst)
	x, y := a1.As16(), a2.As16()
	d := append(append(append(dst, x[:]...), y[:]...), mh...)
	d[start+2*ipv6Len+checksumOff], d[start+2*ipv6Len+checksumOff+1] = 0, 0
	return d
}

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
