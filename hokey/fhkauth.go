package hokey

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/fhkey/fhkey/mh"
)

// FHKSPIBase is the Mobility SPI of the FHK for AT 0; the SPI of AT n is
// FHKSPIBase + n (docs/msk.md). 0x4648 is "FH" in ASCII. The SPI names
// the AT, so that the MN and the PAR agree on it without negotiation, and
// lies outside RFC 4285 §5.1's reserved range ("the range [0-255] is
// reserved", the IANA namespace of well-known algorithm SPIs such as
// HMAC_SHA1_SPI = 3, §8) and far from the SPIs 256 upward that fhkey's
// shared-key mode assigns to BADF keys (FirstAAASPI).
const FHKSPIBase uint32 = 0x46480000

// ErrFHKSPI is wrapped when a Mobility SPI is not the SPI of a registered
// AT's FHK.
var ErrFHKSPI = errors.New("hokey: not an FHK mobility SPI")

// errSPIMismatch is returned when the received SPI is not the key's, built
// once so that a rejected FBU costs no allocation.
var errSPIMismatch = fmt.Errorf("%w: %w: the SPI does not name the key's AT", ErrAuthenticator, ErrFHKSPI)

// FHKSPI returns the Mobility SPI that names at in the MN-HA Mobility
// Message Authentication option of an FBU or FBack authenticated with an
// FHK: FHKSPIBase + at.
func FHKSPI(at AlgorithmType) (uint32, error) {
	if err := at.check(); err != nil {
		return 0, err
	}
	return FHKSPIBase + uint32(at), nil
}

// FHKAlgorithm returns the AT a received Mobility SPI names, the inverse
// of FHKSPI: the PAR derives the FHK for that AT (docs/msk.md). Another
// SPI wraps ErrFHKSPI.
func FHKAlgorithm(spi uint32) (AlgorithmType, error) {
	if spi < FHKSPIBase || spi-FHKSPIBase >= uint32(len(algorithms)) {
		return 0, fmt.Errorf("%w: SPI %d (0x%08x)", ErrFHKSPI, spi, spi)
	}
	return AlgorithmType(spi - FHKSPIBase), nil
}

// FHKAuthenticationOption returns the Mobility Message Authentication
// option (RFC 4285 §5) that SignFHK fills in: subtype MN-HA (1), the SPI of
// at and a zero Authentication Data of at.AuthenticatorLen() octets. It is
// the last option of the FBU and the FBack, after the MN-NAI option.
func FHKAuthenticationOption(at AlgorithmType) (mh.MobilityMessageAuthentication, error) {
	spi, err := FHKSPI(at)
	if err != nil {
		return mh.MobilityMessageAuthentication{}, err
	}
	return mh.MobilityMessageAuthentication{Subtype: mh.AuthenticationSubtypeMNHA, SPI: spi,
		AuthenticationData: make([]byte, at.AuthenticatorLen())}, nil
}

// SignFHK marshals m, an FBU or FBack whose options hold an MN-NAI option
// (RFC 4283 §3.1) and, last, the option FHKAuthenticationOption returns
// for k's AT, computes the Authentication Data of RFC 4285 §5.1 with k:
//
//	Authentication Data = First(L, HMAC_H(FHK, care-of address | home address | MH Data))
//
// with care-of address = the NCoA, home address = the PCoA and MH Data the
// Mobility Header up to and including the Mobility SPI, Checksum zero,
// writes it, and sets the MH checksum for a packet from ckSrc to dst (the
// PCoA when a Home Address option is sent, RFC 6275 §6.1.1). The MN signs
// the FBU and the PAR the FBack with it (docs/msk.md).
func SignFHK(m mh.Message, k *Key, careOf, home, ckSrc, dst netip.Addr) ([]byte, error) {
	return AppendSignedFHK(nil, m, k, careOf, home, ckSrc, dst)
}

// AppendSignedFHK is SignFHK appending the signed message to out.
func AppendSignedFHK(out []byte, m mh.Message, k *Key, careOf, home, ckSrc, dst netip.Addr) ([]byte, error) {
	if err := k.usable(); err != nil {
		return nil, err
	}
	start := len(out)
	out, err := mh.Codepoints{}.AppendMessage(out, m)
	if err != nil {
		return nil, err
	}
	b := out[start:]
	var data [mh.MaxMobilityDataLen]byte
	cov, err := coveredByFHK(data[:0], b, careOf, home)
	if err != nil {
		return nil, fmt.Errorf("hokey: sign FHK: %w", err)
	}
	if cov.SPI != FHKSPIBase+uint32(k.at) {
		return nil, fmt.Errorf("%w: sign FHK: SPI 0x%08x, the key's AT %s has SPI 0x%08x", ErrKey, cov.SPI, k.at, FHKSPIBase+uint32(k.at))
	}
	if err := k.sign(b, &cov, careOf, home, ckSrc, dst); err != nil {
		return nil, err
	}
	return out, nil
}

// VerifyFHK checks the MN-HA Mobility Message Authentication option of a
// received FBU or FBack with k, over the received bytes (RFC 4285 §5.1;
// docs/msk.md): the option must be the last (only padding after it), an
// MN-NAI option must precede it, its SPI must be the SPI of k's AT
// (FHKSPI), and its Authentication Data must equal, in constant time,
// First(L, HMAC_H(k, careOf | home | MH Data)). careOf is the NCoA, home
// the PCoA. The checksum is the caller's (mh.VerifyChecksum). A mismatch
// wraps ErrAuthenticator; a malformed message wraps mh.ErrAuthenticator.
// It does not allocate when the message verifies or the MAC or SPI is
// wrong.
func VerifyFHK(msg []byte, k *Key, careOf, home netip.Addr) error {
	if err := k.usable(); err != nil {
		return err
	}
	var data [mh.MaxMobilityDataLen]byte
	cov, err := coveredByFHK(data[:0], msg, careOf, home)
	if err != nil {
		return err
	}
	if cov.SPI != FHKSPIBase+uint32(k.at) {
		return errSPIMismatch
	}
	return k.VerifyAuthenticator(careOf, home, cov.Data[32:], cov.Authenticator)
}

// coveredByFHK locates the MN-HA option, checks that it is the last option
// and that an MN-NAI option precedes it, and appends the Mobility Data to
// dst.
func coveredByFHK(dst, msg []byte, careOf, home netip.Addr) (mh.Covered, error) {
	cov, err := mh.AppendCoveredByMobilityMessageAuthentication(dst, msg, mh.AuthenticationSubtypeMNHA, careOf, home)
	if err != nil {
		return mh.Covered{}, err
	}
	if err := mh.CheckOnlyPadding(msg, cov.Offset+len(cov.Authenticator)); err != nil {
		return mh.Covered{}, err
	}
	// The option is the last one, so an MN-NAI option found precedes it.
	if _, err := mh.MobileNodeNAI(msg); err != nil {
		return mh.Covered{}, err
	}
	return cov, nil
}
