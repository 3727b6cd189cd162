package hokey

import (
	"net/netip"

	"github.com/fhkey/fhkey/mh"
)

// SignBADF marshals m, whose last option is a Binding Authorization Data
// for FMIPv6 option with a placeholder Authenticator of k's length, computes
// the Authenticator with k over the Mobility Data careOf | par | MH Data
// (RFC 5568 §6.4.5, RFC 6275 §6.2.7), writes it, and sets the MH checksum
// for a packet from ckSrc to dst (ckSrc is the home address when a Home
// Address option is sent, RFC 6275 §6.1.1). Both the MN (FBU) and the PAR
// (FBack) sign with it.
func SignBADF(m mh.Message, k *Key, careOf, par, ckSrc, dst netip.Addr) ([]byte, error) {
	b, err := mh.MarshalMessage(m)
	if err != nil {
		return nil, err
	}
	cov, err := mh.CoveredByBADF(b, careOf, par)
	if err != nil {
		return nil, err
	}
	// cov.Data is careOf | par | MH Data; Authenticator adds the addresses.
	var buf [MaxKeyLen]byte
	auth, err := k.Authenticator(buf[:0], careOf, par, cov.Data[32:])
	if err != nil {
		return nil, err
	}
	if err := mh.WriteAuthenticator(b, cov, auth); err != nil {
		return nil, err
	}
	if err := mh.SetChecksum(b, ckSrc, dst); err != nil {
		return nil, err
	}
	return b, nil
}
