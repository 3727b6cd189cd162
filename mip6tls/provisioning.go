package mip6tls

import (
	"net/netip"
	"time"
)

// SecurityAssociation is the MN-HA SA that the HAC provisions in
// Response/MHAuth-Done (RFC 6618 §4.3, §5.6). Its keys are printed
// redacted.
type SecurityAssociation struct {
	SPI         SPI
	CipherSuite CipherSuite
	Scope       SAScope
	ValidityEnd time.Time
	// The four MN-HA keys of §5.6.2. The encryption keys are empty for
	// the NULL-encryption suites (NULL_SHA, NULL_SHA256).
	MNToHAIntegrity, HAToMNIntegrity, MNToHAEncryption, HAToMNEncryption Key
}

// nullEncryption reports the §5.6.5 suites whose encryption is NULL.
func nullEncryption(c CipherSuite) bool {
	return c == CipherSuiteNullSHA || c == CipherSuiteNullSHA256
}

// parameters returns sa-scope, then sa-data, then the ciphersuite, the
// order of §5.8 step 4 ("[sa-scope, sa-data, ciphersuite, ...]").
func (sa *SecurityAssociation) parameters() []Parameter {
	ps := []Parameter{sa.Scope, sa.SPI,
		MNHAKey{MNToHA, IntegrityKey, sa.MNToHAIntegrity},
		MNHAKey{HAToMN, IntegrityKey, sa.HAToMNIntegrity},
	}
	if !nullEncryption(sa.CipherSuite) {
		ps = append(ps,
			MNHAKey{MNToHA, EncryptionKey, sa.MNToHAEncryption},
			MNHAKey{HAToMN, EncryptionKey, sa.HAToMNEncryption})
	}
	return append(ps, SAValidityEnd{sa.ValidityEnd}, sa.CipherSuite)
}

// SecurityAssociationFrom reads the SA of a Response/MHAuth-Done. The SPI,
// the ciphersuite, the scope, the validity end and both integrity keys
// must be present (§4.3: "SHALL contain at least"), and both encryption
// keys unless the suite's encryption is NULL; a missing one wraps
// ErrMissing.
func SecurityAssociationFrom(m Message) (SecurityAssociation, error) {
	var sa SecurityAssociation
	var have = map[string]bool{}
	for _, p := range m.Parameters {
		switch v := p.(type) {
		case SPI:
			sa.SPI = v
		case CipherSuite:
			sa.CipherSuite = v
		case SAScope:
			sa.Scope = v
		case SAValidityEnd:
			sa.ValidityEnd = v.Time
		case MNHAKey:
			*sa.key(v.Direction, v.Usage) = v.Key
		default:
			continue
		}
		have[p.Name()] = true
	}
	need := []string{"mip6-spi", "mip6-ciphersuite", "mip6-sas", "mip6-sa-validity-end", "mip6-mn-to-ha-ikey", "mip6-ha-to-mn-ikey"}
	if !nullEncryption(sa.CipherSuite) {
		need = append(need, "mip6-mn-to-ha-ekey", "mip6-ha-to-mn-ekey")
	}
	for _, n := range need {
		if !have[n] {
			return SecurityAssociation{}, wrapCause(ErrMissing, "security association: no %s (RFC 6618 §4.3, §5.6)", n)
		}
	}
	return sa, nil
}

func (sa *SecurityAssociation) key(d KeyDirection, u KeyUsage) *Key {
	switch {
	case d == MNToHA && u == IntegrityKey:
		return &sa.MNToHAIntegrity
	case d == HAToMN && u == IntegrityKey:
		return &sa.HAToMNIntegrity
	case d == MNToHA:
		return &sa.MNToHAEncryption
	}
	return &sa.HAToMNEncryption
}

// Zero overwrites the four keys.
func (sa *SecurityAssociation) Zero() {
	for _, k := range []*Key{&sa.MNToHAIntegrity, &sa.HAToMNIntegrity, &sa.MNToHAEncryption, &sa.HAToMNEncryption} {
		k.Zero()
	}
}

// Bootstrap is the Mobile IPv6 bootstrapping data of RFC 6618 §4.4, §5.7.
// Invalid (zero) addresses and prefixes and port 0 are absent.
type Bootstrap struct {
	HomeAgent4, HomeAgent6     netip.Addr
	Port                       ServicePort
	HomeAddress4, HomeAddress6 netip.Addr
	HomePrefix4, HomePrefix6   netip.Prefix
	DNS4, DNS6                 netip.Addr
}

// ServicePort returns the HA's UDP port: Port, or DefaultServicePort when
// the HAC sent none (§5.7.2: "the IANA reserved port number (mipv6tls) MUST
// be used instead").
func (b *Bootstrap) ServicePort() uint16 {
	if b.Port == 0 {
		return DefaultServicePort
	}
	return uint16(b.Port)
}

func (b *Bootstrap) parameters() []Parameter {
	var ps []Parameter
	addr := func(a netip.Addr, p Parameter) {
		if a.IsValid() {
			ps = append(ps, p)
		}
	}
	addr(b.HomeAgent6, HomeAgentAddress{b.HomeAgent6})
	addr(b.HomeAgent4, HomeAgentAddress{b.HomeAgent4})
	if b.Port != 0 {
		ps = append(ps, b.Port)
	}
	addr(b.HomeAddress6, HomeAddress{b.HomeAddress6})
	addr(b.HomeAddress4, HomeAddress{b.HomeAddress4})
	for _, p := range []netip.Prefix{b.HomePrefix6, b.HomePrefix4} {
		if p.IsValid() {
			ps = append(ps, HomeNetworkPrefix{p})
		}
	}
	addr(b.DNS6, DNSServer{b.DNS6})
	addr(b.DNS4, DNSServer{b.DNS4})
	return ps
}

// BootstrapFrom reads the §5.7 parameters of a message; all are optional.
func BootstrapFrom(m Message) Bootstrap {
	var b Bootstrap
	set := func(a netip.Addr, v4, v6 *netip.Addr) {
		if a.Is4() {
			*v4 = a
		} else {
			*v6 = a
		}
	}
	for _, p := range m.Parameters {
		switch v := p.(type) {
		case HomeAgentAddress:
			set(v.Addr, &b.HomeAgent4, &b.HomeAgent6)
		case ServicePort:
			b.Port = v
		case HomeAddress:
			set(v.Addr, &b.HomeAddress4, &b.HomeAddress6)
		case HomeNetworkPrefix:
			if v.Prefix.Addr().Is4() {
				b.HomePrefix4 = v.Prefix
			} else {
				b.HomePrefix6 = v.Prefix
			}
		case DNSServer:
			set(v.Addr, &b.DNS4, &b.DNS6)
		}
	}
	return b
}
