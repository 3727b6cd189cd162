package mn

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/mh"
)

// ErrNoMSK is wrapped when the MSK mode has no MSK for the router.
var ErrNoMSK = errors.New("mn: no MSK for the router")

// MSKSource gives the mobile node the MSK of its last EAP authentication
// with an access router (the EAP peer, over EAPOL, fills it).
type MSKSource interface {
	// MSK returns the MSK shared with par, the router that was the EAP
	// authenticator on the node's link, and whether there is one.
	MSK(par netip.Addr) (msk [hokey.MSKLen]byte, ok bool)
}

// MSKFunc is a function that is an MSKSource.
type MSKFunc func(par netip.Addr) ([hokey.MSKLen]byte, bool)

// MSK implements MSKSource.
func (f MSKFunc) MSK(par netip.Addr) ([hokey.MSKLen]byte, bool) { return f(par) }

// MSKConfig enables the MSK mode of issue 12 (draft-li-mipshop-fbu-sec-00,
// docs/msk.md): FastHandover and FastBindingUpdate authenticate the FBU
// with an MN-NAI option and an MN-HA Mobility Message Authentication
// option (RFC 4285 §5.1) keyed by the FHK derived from the MSK shared with
// the PAR the node leaves, instead of a BADF; the FBack is verified the
// same way.
type MSKConfig struct {
	// NAI is the node's NAI (RFC 4282), the MN-NAI option's Identifier
	// and an input of the derivation; required.
	NAI string
	// Source gives the MSK of the PAR; required.
	Source MSKSource
	// AT is the algorithm the node uses, named by the SPI
	// (hokey.FHKSPI); the PAR must allow it.
	AT hokey.AlgorithmType
}

func checkMSKConfig(c *MSKConfig) error {
	if c.Source == nil || len(c.NAI) == 0 || len(c.NAI) > hokey.MaxNAILen {
		return errors.New("mn: MSKConfig needs a Source and an NAI of 1 to 254 octets")
	}
	if _, err := hokey.FHKSPI(c.AT); err != nil {
		return fmt.Errorf("mn: MSKConfig: %w", err)
	}
	return nil
}

// fhk derives the FHK of the node's NAI for par (docs/msk.md).
func (m *MobileNode) fhk(par netip.Addr) (hokey.Key, error) {
	c := m.cfg.MSK
	msk, ok := c.Source.MSK(par)
	defer clear(msk[:])
	if !ok {
		return hokey.Key{}, fmt.Errorf("%w: %s", ErrNoMSK, par)
	}
	return hokey.DeriveFHK(msk[:], c.NAI, par, c.AT)
}

// mskFastBindingUpdate builds the FBU of the MSK mode: from the new link
// (source ncoa, Home Address option pcoa: "the MN MUST include the old
// care-of address in a Home Address Option", draft-li §4), A and H set,
// options MN-NAI then the MN-HA option, signed with the FHK for par over
// care-of = NCoA, home = PCoA (RFC 4285 §5.1).
func (m *MobileNode) mskFastBindingUpdate(par, pcoa, ncoa netip.Addr, fromPreviousLink bool, lifetime time.Duration) (netio.Packet, error) {
	if fromPreviousLink {
		return netio.Packet{}, errors.New("mn: the MSK mode sends the FBU from the new link (Home Address option)")
	}
	key, err := m.fhk(par)
	if err != nil {
		return netio.Packet{}, err
	}
	defer key.Zero()
	opt, err := hokey.FHKAuthenticationOption(key.Algorithm())
	if err != nil {
		return netio.Packet{}, err
	}
	m.mu.Lock()
	m.sequence++
	seq := m.sequence
	m.fbus[par] = outstandingFBU{pcoa: pcoa, ncoa: ncoa, seq: seq, msk: true}
	m.mu.Unlock()
	fbu := mh.FastBindingUpdate{Sequence: seq, Acknowledge: true, HomeRegistration: true, Lifetime: lifetime, Options: []mh.Option{
		mh.MobileNodeIdentifier{Subtype: mh.MobileNodeIdentifierSubtypeNAI, Identifier: []byte(m.cfg.MSK.NAI)}, opt,
	}}
	start := time.Now()
	b, err := hokey.SignFHK(fbu, &key, ncoa, pcoa, pcoa, par)
	m.trace("fbu-build", start, err)
	if err != nil {
		return netio.Packet{}, fmt.Errorf("mn: building FBU: %w", err)
	}
	return netio.Packet{Src: ncoa, Dst: par, HomeAddress: pcoa, HopLimit: 64, NextHeader: inet.ProtocolMobility, Payload: b}, nil
}

// verifyFHKAck checks the FBack of an FBU of the MSK mode: its MN-NAI
// option names the node, and its MN-HA option verifies with the FHK of
// the FBU over care-of = NCoA, home = PCoA (docs/msk.md).
func (m *MobileNode) verifyFHKAck(p netio.Packet, par netip.Addr, out outstandingFBU) error {
	nai, err := mh.MobileNodeNAI(p.Payload)
	if err != nil {
		return fmt.Errorf("%w: FBack: %w", ErrDropped, err)
	}
	if !bytes.Equal(nai, []byte(m.cfg.MSK.NAI)) {
		return fmt.Errorf("%w: FBack for another NAI", ErrDropped)
	}
	key, err := m.fhk(par)
	if err != nil {
		return fmt.Errorf("%w: FBack: %w", ErrDropped, err)
	}
	defer key.Zero()
	start := time.Now()
	err = hokey.VerifyFHK(p.Payload, &key, out.ncoa, out.pcoa)
	m.trace("fback-verify", start, err)
	if err != nil {
		return fmt.Errorf("%w: FBack: %w", ErrDropped, err)
	}
	return nil
}
