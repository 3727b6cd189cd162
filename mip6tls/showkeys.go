package mip6tls

import (
	"encoding/hex"
	"net/netip"
)

// ShownSA is the "sa" object that a --show-keys file holds for a capture
// reader of the RFC 6618 §6 data plane: the SA's SPI, its ciphersuite by
// the §5.6.5 name, the HA's UDP port, the MN's home address, the HA's
// address and the four keys in lower-case hex (empty for the encryption
// keys of a NULL-encryption suite). It carries key material in the clear:
// write it only where the user asked for keys (file mode 0600).
type ShownSA struct {
	SPI          uint32     `json:"spi"`
	CipherSuite  string     `json:"ciphersuite"`
	Port         uint16     `json:"port"`
	MN           netip.Addr `json:"mn"`
	HA           netip.Addr `json:"ha"`
	MNToHAIntKey string     `json:"mn_to_ha_ikey"`
	MNToHAEncKey string     `json:"mn_to_ha_ekey"`
	HAToMNIntKey string     `json:"ha_to_mn_ikey"`
	HAToMNEncKey string     `json:"ha_to_mn_ekey"`
}

// ShowKeys returns sa with the bootstrapping data of the same response as
// a ShownSA: the IPv6 home address and HA address when provisioned, else
// the IPv4 ones, and the port the MN uses (Bootstrap.ServicePort).
func (sa *SecurityAssociation) ShowKeys(bs *Bootstrap) ShownSA {
	pick := func(v6, v4 netip.Addr) netip.Addr {
		if v6.IsValid() {
			return v6
		}
		return v4
	}
	return ShownSA{
		SPI:          uint32(sa.SPI),
		CipherSuite:  sa.CipherSuite.String(),
		Port:         bs.ServicePort(),
		MN:           pick(bs.HomeAddress6, bs.HomeAddress4),
		HA:           pick(bs.HomeAgent6, bs.HomeAgent4),
		MNToHAIntKey: hex.EncodeToString(sa.MNToHAIntegrity.Bytes()),
		MNToHAEncKey: hex.EncodeToString(sa.MNToHAEncryption.Bytes()),
		HAToMNIntKey: hex.EncodeToString(sa.HAToMNIntegrity.Bytes()),
		HAToMNEncKey: hex.EncodeToString(sa.HAToMNEncryption.Bytes()),
	}
}
