package mip6sa

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/fhkey/fhkey/mip6tls"
	"github.com/fhkey/fhkey/mip6udp"
)

// Side says which end of an MN-HA SA a Pair is for.
type Side int

// The two ends of an RFC 6618 SA.
const (
	MobileNode Side = iota
	HomeAgent
)

// String names the side.
func (s Side) String() string {
	switch s {
	case MobileNode:
		return "mobile node"
	case HomeAgent:
		return "home agent"
	}
	return fmt.Sprintf("Side(%d)", int(s))
}

// ErrSA is wrapped by every error of New: the SA or the bootstrapping data
// cannot make a Pair. The cause (mip6udp.ErrCipherSuite, ErrKeyLength,
// ErrSPI, or this package's reason) is wrapped with it.
var ErrSA = errors.New("mip6sa: unusable security association")

// Pair is one side's view of an RFC 6618 SA: Out seals what this side
// sends, In opens what it receives (mn_to_ha / ha_to_mn keys per side).
// Both carry the SA's single SPI (§4.3). A Pair holds no key octets, only
// the ciphers keyed from them, and prints nothing secret.
type Pair struct {
	SPI         mip6udp.SPI
	Suite       mip6udp.Suite
	Scope       mip6udp.Scope
	Out         *mip6udp.Outbound
	In          *mip6udp.Inbound
	ValidUntil  time.Time
	HomeAddress netip.Addr
	// HomeAgent is the HA's address (mip6-haa-ip6, else mip6-haa-ip4,
	// §5.7.1; invalid when the HAC sent none) and service port
	// (mip6-port, default mip6udp.Port, §5.7.2).
	HomeAgent netip.AddrPort
}

// New builds side's Pair from the SA and bootstrapping data of a
// Response/MHAuth-Done (RFC 6618 §5.3). bs may be nil (no bootstrapping
// data: no home address, HA address unknown, default port). The IVs of Out
// come from crypto/rand; NewWithRand takes another source (tests).
func New(side Side, sa *mip6tls.SecurityAssociation, bs *mip6tls.Bootstrap) (*Pair, error) {
	return NewWithRand(side, sa, bs, nil)
}

// NewWithRand is New with the IV source of Out (nil: crypto/rand).
func NewWithRand(side Side, sa *mip6tls.SecurityAssociation, bs *mip6tls.Bootstrap, rand io.Reader) (*Pair, error) {
	if sa == nil {
		return nil, fmt.Errorf("%w: no security association", ErrSA)
	}
	if side != MobileNode && side != HomeAgent {
		return nil, fmt.Errorf("%w: %v", ErrSA, side)
	}
	if sa.Scope > mip6tls.SAScopeAll {
		return nil, fmt.Errorf("%w: mip6-sas %d is neither 0 nor 1 (§5.6.4)", ErrSA, sa.Scope)
	}
	mnToHA := mip6udp.Config{
		SPI: mip6udp.SPI(sa.SPI), Suite: mip6udp.CipherSuite(sa.CipherSuite),
		EncryptionKey: sa.MNToHAEncryption.Bytes(), IntegrityKey: sa.MNToHAIntegrity.Bytes(),
	}
	haToMN := mip6udp.Config{
		SPI: mip6udp.SPI(sa.SPI), Suite: mip6udp.CipherSuite(sa.CipherSuite),
		EncryptionKey: sa.HAToMNEncryption.Bytes(), IntegrityKey: sa.HAToMNIntegrity.Bytes(),
	}
	out, in := mnToHA, haToMN
	if side == HomeAgent {
		out, in = haToMN, mnToHA
	}
	out.Rand = rand
	o, err := mip6udp.NewOutbound(out)
	if err != nil {
		return nil, fmt.Errorf("%w: %s outbound: %w", ErrSA, side, err)
	}
	i, err := mip6udp.NewInbound(in)
	if err != nil {
		return nil, fmt.Errorf("%w: %s inbound: %w", ErrSA, side, err)
	}
	p := &Pair{
		SPI: o.SPI(), Suite: o.Suite(), Scope: mip6udp.Scope(sa.Scope),
		Out: o, In: i, ValidUntil: sa.ValidityEnd,
	}
	var ha netip.Addr
	port := uint16(mip6udp.Port)
	if bs != nil {
		p.HomeAddress = bs.HomeAddress6
		if !p.HomeAddress.IsValid() {
			p.HomeAddress = bs.HomeAddress4
		}
		ha = bs.HomeAgent6
		if !ha.IsValid() {
			ha = bs.HomeAgent4
		}
		port = bs.ServicePort()
	}
	p.HomeAgent = netip.AddrPortFrom(ha, port)
	return p, nil
}

// Valid reports whether the SA is still valid at now (RFC 6618 §5.6.3:
// the SA is valid until mip6-sa-validity-end).
func (p *Pair) Valid(now time.Time) bool { return now.Before(p.ValidUntil) }

// String describes the Pair without keys.
func (p *Pair) String() string {
	return fmt.Sprintf("mip6sa.Pair{SPI: %d, Suite: %s, Scope: %d, HoA: %v, HA: %v, until %s}",
		p.SPI, p.Suite.Name, p.Scope, p.HomeAddress, p.HomeAgent, p.ValidUntil.UTC().Format(time.RFC3339))
}
