package ar

import (
	"net/netip"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/mh"
)

// DefaultMSKCacheSize bounds the FHKs the router keeps derived (MSKConfig).
const DefaultMSKCacheSize = 4096

// MSK is an EAP Master Session Key (hokey.MSK): the first 64 octets of
// the EAP method's key material (issue 12, docs/msk.md).
type MSK = hokey.MSK

// MSKSource gives the PAR the MSK it shares with a mobile node after the
// node's access authentication, by the node's NAI. The 802.1X
// authenticator (EAP over EAPOL, RADIUS to the AAA server) fills it;
// MemoryMSKs is the in-memory version. It must be safe for concurrent use.
type MSKSource interface {
	// LookupMSK returns the MSK of nai (the octets of an MN-NAI option,
	// RFC 4283 §3.1), the time it stops being usable and whether one is
	// known. nai aliases the received packet: it must not be kept. It
	// is called for every FBU of the MSK mode, so it should not
	// allocate (a map indexed by string(nai) does not).
	LookupMSK(nai []byte) (msk MSK, expires time.Time, ok bool)
}

// SupplicantAddrs is implemented by an MSKSource that records, with each
// MSK, the MAC address of the supplicant that authenticated as the NAI on
// the access link (the 802.1X authenticator does: keystore.MSKs,
// MemoryMSKs.SetSupplicant). The router calls it instead of LookupMSK,
// once per FBU: it must be safe for concurrent use and should not
// allocate.
type SupplicantAddrs interface {
	// LookupSupplicantMSK is LookupMSK with the MAC address recorded
	// with the MSK.
	LookupSupplicantMSK(nai []byte) (msk MSK, expires time.Time, mac [6]byte, ok bool)
}

// NeighborTable gives the link-layer address of an address on the
// router's access link: the node reads the kernel's neighbor table
// (netio.NeighborTable), tests use StaticNeighbors. It must be safe for
// concurrent use.
type NeighborTable interface {
	LinkAddr(addr netip.Addr) (mac [6]byte, ok bool)
}

// StaticNeighbors is a fixed NeighborTable (tests, the demo).
type StaticNeighbors map[netip.Addr][6]byte

// LinkAddr implements NeighborTable.
func (n StaticNeighbors) LinkAddr(addr netip.Addr) ([6]byte, bool) {
	mac, ok := n[addr]
	return mac, ok
}

// MSKConfig enables the MSK mode of issue 12 (draft-li-mipshop-fbu-sec-00,
// docs/msk.md) beside SEND and AAA: an FBU carrying an MN-NAI option and
// an MN-HA Mobility Message Authentication option (RFC 4285 §5.1) with an
// FHK SPI, instead of a BADF, is verified with the FHK derived from the
// MSK of the NAI, and answered with an FBack carrying the same options.
type MSKConfig struct {
	// Source gives the MSK of an NAI; required.
	Source MSKSource
	// Algorithms are the ATs the router accepts (the SPI names the AT);
	// nil means hokey.HMACSHA256Trunc128 only (docs/msk.md, Bidding
	// down).
	Algorithms []hokey.AlgorithmType
	// CacheSize bounds the derived FHKs kept per (NAI, AT); 0 means
	// DefaultMSKCacheSize.
	CacheSize int
	// Neighbors gives the MAC address of the PCoA on the access link;
	// required, with a Source that implements SupplicantAddrs: an FBU
	// is accepted only if the PCoA's neighbor entry has the MAC address
	// of the supplicant that authenticated as the NAI (docs/msk.md, The
	// PCoA belongs to the NAI).
	Neighbors NeighborTable
}

// checkMSKFastBindingUpdate authenticates an FBU of the MSK mode (no
// BADF): MN-NAI option, MN-HA option last with an FHK SPI of an allowed
// AT, MSK of the NAI, FHK (cached), VerifyFHK over the received bytes
// with care-of = NCoA and home = PCoA, then the Sequence Number as in the
// SEND mode. It does not allocate on a cache hit (TestFBUVerifyMSKAllocs).
func (r *Router) checkMSKFastBindingUpdate(payload []byte, fbu mh.FastBindingUpdateView, pcoa, ncoa netip.Addr) (v fbuVerdict, key hokey.Key, spi uint32) {
	nai, err := mh.MobileNodeNAI(payload)
	if err != nil {
		return fbuMalformed, key, spi
	}
	var data [mh.MaxMobilityDataLen]byte
	cov, err := mh.AppendCoveredByMobilityMessageAuthentication(data[:0], payload, mh.AuthenticationSubtypeMNHA, ncoa, pcoa)
	if err != nil {
		return fbuMalformed, key, spi
	}
	// An SPI that is not an FHK SPI, or names an AT the router does not
	// allow, is a failed authentication without a key: no answer.
	spi = cov.SPI
	at, err := hokey.FHKAlgorithm(spi)
	if err != nil || !r.msk.allowed[at] {
		return fbuMSKBadSPI, key, spi
	}
	res, err := r.msk.fhk(nai, at, pcoa, r.now())
	key = res.key
	res.key.Zero()
	switch {
	case err != nil: // an NAI the derivation refuses
		return fbuMalformed, key, spi
	case !res.ok:
		return fbuUnknownNAI, key, spi
	}
	// hokey.VerifyFHK's checks on the octets located once: the option
	// last (only padding after it), the MN-NAI option before it (found
	// above), the SPI of the key's AT (the key is the SPI's), then the
	// constant-time compare of First(L, HMAC_H(FHK, NCoA | PCoA | MH
	// Data)) over the received bytes (RFC 4285 §5.1).
	if mh.CheckOnlyPadding(payload, cov.Offset+len(cov.Authenticator)) != nil {
		return fbuMalformed, key, spi
	}
	if key.VerifyAuthenticator(ncoa, pcoa, cov.Data[32:], cov.Authenticator) != nil {
		return fbuBadAuth, key, spi
	}
	if !r.msk.ownsPCoA(nai, at, &res, pcoa) {
		return fbuMSKNotOwner, key, spi
	}
	if b, ok := r.bindings.Lookup(pcoa); ok && int16(fbu.Sequence-b.Sequence) <= 0 {
		return fbuStale, key, spi
	}
	return fbuAccepted, key, spi
}

// fastBindingAckFHK builds the FBack of the MSK mode: the MN-NAI option of
// the FBU, then the MN-HA option with the FBU's SPI, signed with the FHK
// over care-of = NCoA, home = PCoA (docs/msk.md, Placement and the FBack).
func (r *Router) fastBindingAckFHK(ack mh.FastBindingAcknowledgment, nai []byte, key *hokey.Key, ncoa, pcoa, dst netip.Addr) ([]byte, error) {
	opt, err := hokey.FHKAuthenticationOption(key.Algorithm())
	if err != nil {
		return nil, err
	}
	ack.Options = []mh.Option{mh.MobileNodeIdentifier{Subtype: mh.MobileNodeIdentifierSubtypeNAI, Identifier: nai}, opt}
	return hokey.AppendSignedFHK(nil, ack, key, ncoa, pcoa, r.addr, dst)
}
