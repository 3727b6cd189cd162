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
	return AppendSignedBADF(nil, m, k, careOf, par, ckSrc, dst)
}

// AppendSignedBADF is SignBADF appending the signed message to out. With
// room in out it allocates nothing itself (boxing m in mh.Message may: a
// pointer to a message in memory that is on the heap anyway avoids that).
func AppendSignedBADF(out []byte, m mh.Message, k *Key, careOf, par, ckSrc, dst netip.Addr) ([]byte, error) {
	start := len(out)
	out, err := mh.Codepoints{}.AppendMessage(out, m)
	if err != nil {
		return nil, err
	}
	b := out[start:]
	var data [mh.MaxMobilityDataLen]byte
	cov, err := mh.AppendCoveredByBADF(data[:0], b, careOf, par)
	if err != nil {
		return nil, err
	}
	if err := k.sign(b, &cov, careOf, par, ckSrc, dst); err != nil {
		return nil, err
	}
	return out, nil
}

// sign computes the authenticator of the message b that cov describes,
// with careOf and a2 (the PAR address, or the home address) in front of
// the MH Data, writes it, and sets b's checksum for a packet from ckSrc to
// dst.
func (k *Key) sign(b []byte, cov *mh.Covered, careOf, a2, ckSrc, dst netip.Addr) error {
	// cov.Data is careOf | a2 | MH Data; Authenticator adds the addresses.
	var buf [MaxKeyLen]byte
	auth, err := k.Authenticator(buf[:0], careOf, a2, cov.Data[32:])
	if err != nil {
		return err
	}
	if err := mh.WriteAuthenticator(b, cov, auth); err != nil {
		return err
	}
	return mh.SetChecksum(b, ckSrc, dst)
}
