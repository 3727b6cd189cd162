package certpath

import (
	"bytes"
	"cmp"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
)

// OIDIPAddrBlocks is id-pe-ipAddrBlocks, the IP Address Delegation extension
// (RFC 3779 §2.2.1: { id-pe 7 }, id-pe = 1.3.6.1.5.5.7.1).
var OIDIPAddrBlocks = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 7}

// Address Family Identifiers the extension is defined for (RFC 3779 §2.2.3.3).
const (
	AFIIPv4 uint16 = 1
	AFIIPv6 uint16 = 2
)

var (
	// ErrParse is wrapped by every error returned while decoding an
	// IP Address Delegation extension.
	ErrParse = errors.New("certpath: malformed IP Address Delegation extension")
	// ErrNotCanonical is wrapped (together with ErrParse on decoding) when
	// an encoding breaks DER or the canonical form that RFC 3779 §2.2.3
	// requires: families sorted and unique, ranges sorted, disjoint and
	// not adjacent, a range that is a prefix encoded as a prefix, trailing
	// bits of range ends omitted, unused bits zero.
	ErrNotCanonical = errors.New("certpath: not in RFC 3779 canonical form")
	// ErrUnsupportedFamily is wrapped when an addressFamily carries an AFI
	// other than IPv4 (1) or IPv6 (2), the two RFC 3779 §2.2.3.3 defines an
	// address length for.
	ErrUnsupportedFamily = errors.New("certpath: unsupported address family")
)

// IPAddrBlocks is the value of the IP Address Delegation extension
// (RFC 3779 §2.2.3.1): IPAddrBlocks ::= SEQUENCE OF IPAddressFamily.
// In canonical form the families are sorted by addressFamily, with a
// family without SAFI before the same AFI with SAFI, and unique.
type IPAddrBlocks []IPAddressFamily

// IPAddressFamily is one IPAddressFamily (RFC 3779 §2.2.3.2):
//
//	IPAddressFamily ::= SEQUENCE {
//	   addressFamily     OCTET STRING (SIZE (2..3)),  -- AFI, optional SAFI
//	   ipAddressChoice   IPAddressChoice }
//	IPAddressChoice ::= CHOICE {
//	   inherit           NULL,
//	   addressesOrRanges SEQUENCE OF IPAddressOrRange }
type IPAddressFamily struct {
	AFI     uint16
	HasSAFI bool
	SAFI    uint8
	// Inherit selects the "inherit" choice (RFC 3779 §2.2.3.5): the
	// resources of this family are those of the issuer.
	Inherit bool
	// AddressesOrRanges is the addressesOrRanges choice when Inherit is
	// false, in canonical order (RFC 3779 §2.2.3.6).
	AddressesOrRanges []IPAddressOrRange
}

// IPAddressOrRange is one IPAddressOrRange (RFC 3779 §2.2.3.7) as the
// inclusive interval [Min, Max]. It is encoded as an addressPrefix when the
// interval is exactly one prefix and as an addressRange otherwise
// (RFC 3779 §2.2.3.7: a range that can be expressed as a prefix MUST be
// encoded as a prefix). Min and Max are both IPv4 or both IPv6, matching
// the AFI of the family.
type IPAddressOrRange struct {
	Min, Max netip.Addr
}

// PrefixRange returns the IPAddressOrRange covering p (masked).
func PrefixRange(p netip.Prefix) IPAddressOrRange {
	p = p.Masked()
	b, n := addrBytes(p.Addr())
	return IPAddressOrRange{Min: p.Addr(), Max: addrFrom(fillFrom(b, n, p.Bits(), 0xff), n)}
}

// Prefix returns the prefix equal to r, if r is exactly one prefix.
func (r IPAddressOrRange) Prefix() (netip.Prefix, bool) {
	bits, ok := prefixBits(r.Min, r.Max)
	if !ok {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(r.Min, bits), true
}

// Contains reports whether o lies within r.
func (r IPAddressOrRange) Contains(o IPAddressOrRange) bool {
	return r.Min.Is4() == o.Min.Is4() && r.Min.Compare(o.Min) <= 0 && o.Max.Compare(r.Max) <= 0
}

// String formats r as a prefix when it is one, as "min-max" otherwise.
func (r IPAddressOrRange) String() string {
	if p, ok := r.Prefix(); ok {
		return p.String()
	}
	return r.Min.String() + "-" + r.Max.String()
}

// addrLen returns the address length in octets for an AFI.
func addrLen(afi uint16) int {
	switch afi {
	case AFIIPv4:
		return 4
	case AFIIPv6:
		return 16
	}
	return 0
}

// ContainsRange reports whether r lies within the addressesOrRanges of f.
// f must be canonical (merged), as every parsed or normalised family is.
func (f *IPAddressFamily) ContainsRange(r IPAddressOrRange) bool {
	rs := f.AddressesOrRanges
	// Last element whose Min <= r.Min.
	i, _ := slices.BinarySearchFunc(rs, r.Min, func(e IPAddressOrRange, t netip.Addr) int {
		if e.Min.Compare(t) <= 0 {
			return -1
		}
		return 1
	})
	return i > 0 && rs[i-1].Contains(r)
}

// ContainsPrefix reports whether the IPv6 or IPv4 prefix p lies within f.
func (f *IPAddressFamily) ContainsPrefix(p netip.Prefix) bool {
	return f.ContainsRange(PrefixRange(p))
}

func (f *IPAddressFamily) key() []byte {
	k := []byte{byte(f.AFI >> 8), byte(f.AFI)}
	if f.HasSAFI {
		k = append(k, f.SAFI)
	}
	return k
}

// String formats f like "IPv6: 2001:db8::/32, ..." or "IPv6: inherit".
func (f *IPAddressFamily) String() string {
	var sb strings.Builder
	switch f.AFI {
	case AFIIPv4:
		sb.WriteString("IPv4")
	case AFIIPv6:
		sb.WriteString("IPv6")
	default:
		fmt.Fprintf(&sb, "AFI %d", f.AFI)
	}
	if f.HasSAFI {
		fmt.Fprintf(&sb, " (SAFI %d)", f.SAFI)
	}
	sb.WriteString(":")
	if f.Inherit {
		sb.WriteString(" inherit")
	}
	for i, r := range f.AddressesOrRanges {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString(" " + r.String())
	}
	return sb.String()
}

// Family returns the family with the given AFI and optional SAFI, or nil.
func (b IPAddrBlocks) Family(afi uint16, hasSAFI bool, safi uint8) *IPAddressFamily {
	for i := range b {
		f := &b[i]
		if f.AFI == afi && f.HasSAFI == hasSAFI && (!hasSAFI || f.SAFI == safi) {
			return f
		}
	}
	return nil
}

// IPv6 returns the IPv6 family without SAFI (RFC 6487 §4.8.10 forbids SAFI
// in resource certificates), or nil.
func (b IPAddrBlocks) IPv6() *IPAddressFamily { return b.Family(AFIIPv6, false, 0) }

// NewIPv6Blocks returns canonical IPAddrBlocks with one IPv6 family holding
// the given prefixes, sorted and merged (RFC 3779 §2.2.3.6). An empty list
// gives an empty addressesOrRanges.
func NewIPv6Blocks(prefixes ...netip.Prefix) (IPAddrBlocks, error) {
	rs := make([]IPAddressOrRange, 0, len(prefixes))
	for _, p := range prefixes {
		if !p.IsValid() || !p.Addr().Is6() {
			return nil, fmt.Errorf("certpath: %v is not an IPv6 prefix", p)
		}
		if p.Addr().Zone() != "" {
			return nil, fmt.Errorf("certpath: prefix %v has a zone", p)
		}
		rs = append(rs, PrefixRange(p))
	}
	return IPAddrBlocks{{AFI: AFIIPv6, AddressesOrRanges: Normalize(rs)}}, nil
}

// Normalize returns rs sorted, with overlapping and adjacent elements
// merged: the canonical order of RFC 3779 §2.2.3.6 ("Any contiguous address
// prefixes or ranges MUST be combined into a single range or, whenever
// possible, a single prefix"). All elements must be of one address family.
func Normalize(rs []IPAddressOrRange) []IPAddressOrRange {
	out := slices.Clone(rs)
	slices.SortFunc(out, func(a, b IPAddressOrRange) int {
		return cmp.Or(a.Min.Compare(b.Min), a.Max.Compare(b.Max))
	})
	merged := out[:0]
	for _, r := range out {
		if n := len(merged); n > 0 {
			last := &merged[n-1]
			next := last.Max.Next()
			if r.Min.Compare(last.Max) <= 0 || (next.IsValid() && next == r.Min) {
				if r.Max.Compare(last.Max) > 0 {
					last.Max = r.Max
				}
				continue
			}
		}
		merged = append(merged, r)
	}
	return merged
}

// ParseIPAddrBlocks decodes the DER value (the extnValue contents) of an
// IP Address Delegation extension (RFC 3779 §2.2.3). It accepts DER in the
// canonical form of RFC 3779 §2.2.3 only, so that a parsed value marshals
// back to the same octets; any other encoding fails with an error wrapping
// ErrParse (and ErrNotCanonical, ErrUnsupportedFamily or
// io.ErrUnexpectedEOF when that is the cause).
func ParseIPAddrBlocks(der []byte) (IPAddrBlocks, error) {
	in := derReader{b: der}
	seq, err := in.next("IPAddrBlocks", tagSequence)
	if err != nil {
		return nil, err
	}
	if !in.empty() {
		return nil, fmt.Errorf("%w: %d octets after IPAddrBlocks at offset %d", ErrParse, len(in.b), in.off)
	}
	var blocks IPAddrBlocks
	for !seq.empty() {
		at := seq.off
		f, err := parseFamily(&seq)
		if err != nil {
			return nil, err
		}
		if n := len(blocks); n > 0 && bytes.Compare(blocks[n-1].key(), f.key()) >= 0 {
			return nil, fmt.Errorf("%w: IPAddressFamily at offset %d: addressFamily %x not after %x: %w",
				ErrParse, at, f.key(), blocks[n-1].key(), ErrNotCanonical)
		}
		blocks = append(blocks, f)
	}
	return blocks, nil
}

func parseFamily(seq *derReader) (IPAddressFamily, error) {
	var f IPAddressFamily
	fam, err := seq.next("IPAddressFamily", tagSequence)
	if err != nil {
		return f, err
	}
	afOff := fam.off
	af, err := fam.next("addressFamily", tagOctetString)
	if err != nil {
		return f, err
	}
	switch len(af.b) {
	case 3:
		f.HasSAFI, f.SAFI = true, af.b[2]
		fallthrough
	case 2:
		f.AFI = uint16(af.b[0])<<8 | uint16(af.b[1])
	default:
		return f, fmt.Errorf("%w: addressFamily at offset %d: %d octets, want 2 or 3", ErrParse, afOff, len(af.b))
	}
	n := addrLen(f.AFI)
	if n == 0 {
		return f, fmt.Errorf("%w: addressFamily at offset %d: AFI %d: %w", ErrParse, afOff, f.AFI, ErrUnsupportedFamily)
	}
	tag, ok := fam.peekTag()
	switch {
	case !ok:
		return f, fmt.Errorf("%w: ipAddressChoice at offset %d: %w", ErrParse, fam.off, io.ErrUnexpectedEOF)
	case tag == tagNull:
		null, err := fam.next("inherit", tagNull)
		if err != nil {
			return f, err
		}
		if !null.empty() {
			return f, fmt.Errorf("%w: inherit NULL at offset %d: %d content octets", ErrParse, null.off, len(null.b))
		}
		f.Inherit = true
	case tag == tagSequence:
		list, err := fam.next("addressesOrRanges", tagSequence)
		if err != nil {
			return f, err
		}
		for !list.empty() {
			at := list.off
			r, err := parseAddressOrRange(&list, n)
			if err != nil {
				return f, err
			}
			if k := len(f.AddressesOrRanges); k > 0 {
				last := f.AddressesOrRanges[k-1]
				next := last.Max.Next()
				if r.Min.Compare(last.Max) <= 0 || !next.IsValid() || next == r.Min {
					return f, fmt.Errorf("%w: IPAddressOrRange %v at offset %d: overlaps, precedes or adjoins %v: %w",
						ErrParse, r, at, last, ErrNotCanonical)
				}
			}
			f.AddressesOrRanges = append(f.AddressesOrRanges, r)
		}
	default:
		return f, fmt.Errorf("%w: ipAddressChoice at offset %d: tag 0x%02x is neither NULL nor SEQUENCE", ErrParse, fam.off, tag)
	}
	if !fam.empty() {
		return f, fmt.Errorf("%w: %d octets after ipAddressChoice at offset %d", ErrParse, len(fam.b), fam.off)
	}
	return f, nil
}

// parseAddressOrRange reads one IPAddressOrRange for an address of n octets.
func parseAddressOrRange(list *derReader, n int) (IPAddressOrRange, error) {
	tag, _ := list.peekTag()
	if tag == tagBitString {
		b, bits, err := parseIPAddress(list, "addressPrefix", n)
		if err != nil {
			return IPAddressOrRange{}, err
		}
		return IPAddressOrRange{Min: addrFrom(fillFrom(b, n, bits, 0), n), Max: addrFrom(fillFrom(b, n, bits, 0xff), n)}, nil
	}
	if tag != tagSequence {
		return IPAddressOrRange{}, fmt.Errorf("%w: IPAddressOrRange at offset %d: tag 0x%02x is neither BIT STRING nor SEQUENCE", ErrParse, list.off, tag)
	}
	at := list.off
	rng, err := list.next("addressRange", tagSequence)
	if err != nil {
		return IPAddressOrRange{}, err
	}
	minOff := rng.off
	minB, minBits, err := parseIPAddress(&rng, "addressRange min", n)
	if err != nil {
		return IPAddressOrRange{}, err
	}
	maxOff := rng.off
	maxB, maxBits, err := parseIPAddress(&rng, "addressRange max", n)
	if err != nil {
		return IPAddressOrRange{}, err
	}
	if !rng.empty() {
		return IPAddressOrRange{}, fmt.Errorf("%w: %d octets after addressRange max at offset %d", ErrParse, len(rng.b), rng.off)
	}
	// RFC 3779 §2.2.3.9: trailing zero bits of min and trailing one bits of
	// max are omitted, so the last significant bit is 1 in min, 0 in max.
	if minBits > 0 && !bitAt(minB, minBits-1) {
		return IPAddressOrRange{}, fmt.Errorf("%w: addressRange min at offset %d: trailing zero bit not omitted: %w", ErrParse, minOff, ErrNotCanonical)
	}
	if maxBits > 0 && bitAt(maxB, maxBits-1) {
		return IPAddressOrRange{}, fmt.Errorf("%w: addressRange max at offset %d: trailing one bit not omitted: %w", ErrParse, maxOff, ErrNotCanonical)
	}
	r := IPAddressOrRange{Min: addrFrom(fillFrom(minB, n, minBits, 0), n), Max: addrFrom(fillFrom(maxB, n, maxBits, 0xff), n)}
	if r.Min.Compare(r.Max) > 0 {
		return IPAddressOrRange{}, fmt.Errorf("%w: addressRange at offset %d: min %v above max %v", ErrParse, at, r.Min, r.Max)
	}
	if _, ok := r.Prefix(); ok {
		return IPAddressOrRange{}, fmt.Errorf("%w: addressRange %v at offset %d: a prefix MUST be encoded as addressPrefix: %w", ErrParse, r, at, ErrNotCanonical)
	}
	return r, nil
}

// parseIPAddress reads an IPAddress BIT STRING (RFC 3779 §2.1.2) of at most
// n octets and returns its octets (unused bits zero) and its bit length.
func parseIPAddress(d *derReader, field string, n int) ([16]byte, int, error) {
	var out [16]byte
	at := d.off
	bs, err := d.next(field, tagBitString)
	if err != nil {
		return out, 0, err
	}
	if bs.empty() {
		return out, 0, fmt.Errorf("%w: %s at offset %d: BIT STRING without initial octet: %w", ErrParse, field, at, io.ErrUnexpectedEOF)
	}
	unused, data := int(bs.b[0]), bs.b[1:]
	switch {
	case unused > 7:
		return out, 0, fmt.Errorf("%w: %s at offset %d: %d unused bits", ErrParse, field, at, unused)
	case len(data) == 0 && unused != 0:
		return out, 0, fmt.Errorf("%w: %s at offset %d: empty BIT STRING with %d unused bits", ErrParse, field, at, unused)
	case len(data) > n:
		return out, 0, fmt.Errorf("%w: %s at offset %d: %d octets, address family allows %d", ErrParse, field, at, len(data), n)
	case len(data) > 0 && data[len(data)-1]&(1<<unused-1) != 0:
		// X.690 §11.2.1: each unused bit shall be set to zero.
		return out, 0, fmt.Errorf("%w: %s at offset %d: unused bits not zero: %w", ErrParse, field, at, ErrNotCanonical)
	}
	copy(out[:], data)
	return out, len(data)*8 - unused, nil
}

// Marshal returns the DER encoding of b, the extnValue contents of the
// extension. b must be in the canonical form RFC 3779 §2.2.3 requires (as
// NewIPv6Blocks and Normalize produce); otherwise Marshal fails with an
// error wrapping ErrNotCanonical or ErrUnsupportedFamily.
func (b IPAddrBlocks) Marshal() ([]byte, error) {
	var fams []byte
	for i := range b {
		f := &b[i]
		if i > 0 && bytes.Compare(b[i-1].key(), f.key()) >= 0 {
			return nil, fmt.Errorf("certpath: marshal IPAddressFamily %d: addressFamily %x not after %x: %w", i, f.key(), b[i-1].key(), ErrNotCanonical)
		}
		n := addrLen(f.AFI)
		if n == 0 {
			return nil, fmt.Errorf("certpath: marshal IPAddressFamily %d: AFI %d: %w", i, f.AFI, ErrUnsupportedFamily)
		}
		var choice []byte
		if f.Inherit {
			if len(f.AddressesOrRanges) > 0 {
				return nil, fmt.Errorf("certpath: marshal IPAddressFamily %d: both inherit and addressesOrRanges", i)
			}
			choice = appendDER(nil, tagNull, nil)
		} else {
			var list []byte
			for j, r := range f.AddressesOrRanges {
				if r.Min.BitLen() != n*8 || r.Max.BitLen() != n*8 || r.Min.Zone() != "" || r.Max.Zone() != "" {
					return nil, fmt.Errorf("certpath: marshal IPAddressOrRange %v: not an address of AFI %d", r, f.AFI)
				}
				if r.Min.Compare(r.Max) > 0 {
					return nil, fmt.Errorf("certpath: marshal IPAddressOrRange %v: min above max", r)
				}
				if j > 0 {
					last := f.AddressesOrRanges[j-1]
					next := last.Max.Next()
					if r.Min.Compare(last.Max) <= 0 || !next.IsValid() || next == r.Min {
						return nil, fmt.Errorf("certpath: marshal IPAddressOrRange %v: overlaps, precedes or adjoins %v: %w", r, last, ErrNotCanonical)
					}
				}
				list = appendAddressOrRange(list, r)
			}
			choice = appendDER(nil, tagSequence, list)
		}
		fam := appendDER(nil, tagOctetString, f.key())
		fam = append(fam, choice...)
		fams = appendDER(fams, tagSequence, fam)
	}
	if len(fams) > 1<<24-16 {
		return nil, fmt.Errorf("certpath: marshal IPAddrBlocks: %d octets is too long", len(fams))
	}
	return appendDER(make([]byte, 0, len(fams)+5), tagSequence, fams), nil
}

// appendAddressOrRange appends r as an addressPrefix when it is a prefix,
// as an addressRange otherwise (RFC 3779 §2.2.3.7).
func appendAddressOrRange(dst []byte, r IPAddressOrRange) []byte {
	minB, n := addrBytes(r.Min)
	if bits, ok := prefixBits(r.Min, r.Max); ok {
		return appendIPAddress(dst, minB, bits)
	}
	maxB, _ := addrBytes(r.Max)
	// RFC 3779 §2.2.3.9: omit trailing zero bits of min, trailing one bits
	// of max.
	minBits, maxBits := n*8, n*8
	for minBits > 0 && !bitAt(minB, minBits-1) {
		minBits--
	}
	for maxBits > 0 && bitAt(maxB, maxBits-1) {
		maxBits--
	}
	rng := appendIPAddress(nil, minB, minBits)
	rng = appendIPAddress(rng, maxB, maxBits)
	return appendDER(dst, tagSequence, rng)
}

// appendIPAddress appends the first bits bits of a as a DER BIT STRING
// (RFC 3779 §2.1.2), unused bits zero.
func appendIPAddress(dst []byte, a [16]byte, bits int) []byte {
	nb := (bits + 7) / 8
	unused := nb*8 - bits
	dst = append(dst, tagBitString)
	dst = appendLength(dst, nb+1)
	dst = append(dst, byte(unused))
	dst = append(dst, a[:nb]...)
	if nb > 0 {
		dst[len(dst)-1] &^= 1<<unused - 1
	}
	return dst
}

// Extension returns b as a certificate extension. RFC 6487 §4.8.10 (adopted
// by RFC 6494 §4) says the extension MUST be critical.
func (b IPAddrBlocks) Extension(critical bool) (pkix.Extension, error) {
	v, err := b.Marshal()
	if err != nil {
		return pkix.Extension{}, err
	}
	return pkix.Extension{Id: OIDIPAddrBlocks, Critical: critical, Value: v}, nil
}

// FromCertificate returns the IP Address Delegation extension of c.
// present is false when c has none. It fails when the extension occurs
// more than once (RFC 6494 §4: "SEND certificates MUST NOT have more than
// one IP Address Delegation extension") or does not parse.
func FromCertificate(c *x509.Certificate) (blocks IPAddrBlocks, critical, present bool, err error) {
	for _, e := range c.Extensions {
		if !e.Id.Equal(OIDIPAddrBlocks) {
			continue
		}
		if present {
			return nil, false, true, fmt.Errorf("%w: more than one IP Address Delegation extension", ErrParse)
		}
		present, critical = true, e.Critical
		if blocks, err = ParseIPAddrBlocks(e.Value); err != nil {
			return nil, critical, true, err
		}
	}
	return blocks, critical, present, nil
}

// Bit helpers over an address of n (4 or 16) octets held in a [16]byte.

func addrBytes(a netip.Addr) ([16]byte, int) {
	var b [16]byte
	if a.Is4() {
		v := a.As4()
		copy(b[:], v[:])
		return b, 4
	}
	return a.As16(), 16
}

func addrFrom(b [16]byte, n int) netip.Addr {
	if n == 4 {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrFrom16(b)
}

func bitAt(b [16]byte, i int) bool { return b[i/8]&(0x80>>(i%8)) != 0 }

// fillFrom keeps the first bits bits of b and sets the rest of the n-octet
// address to fill (0x00 or 0xff).
func fillFrom(b [16]byte, n, bits int, fill byte) [16]byte {
	for i := bits; i < n*8; {
		if i%8 == 0 {
			b[i/8] = fill
			i += 8
			continue
		}
		m := byte(0xff >> (i % 8))
		b[i/8] = b[i/8]&^m | fill&m
		i += 8 - i%8
	}
	return b
}

// prefixBits returns the length of the prefix that is exactly [lo, hi].
func prefixBits(lo, hi netip.Addr) (int, bool) {
	if lo.Is4() != hi.Is4() {
		return 0, false
	}
	l, n := addrBytes(lo)
	h, _ := addrBytes(hi)
	bits := 0
	for bits < n*8 && bitAt(l, bits) == bitAt(h, bits) {
		bits++
	}
	for i := bits; i < n*8; i++ {
		if bitAt(l, i) || !bitAt(h, i) {
			return 0, false
		}
	}
	return bits, true
}
