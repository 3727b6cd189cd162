package scenario

import (
	"crypto/rand"
	"net/netip"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/mh"
)

// ForgeFBU is what an attacker without the handover key can send: a
// well-formed Fast Binding Update for the victim's previous care-of address
// pcoa (carried in the Home Address option, RFC 5568 §6.2.3), sent from the
// attacker's address so that the PAR would tunnel pcoa's traffic there, with
// the BADF option (RFC 5568 §6.4.5, SPI 0) computed with a random key of
// algorithm type at. A PAR implementing RFC 5269 §3.5 must reject it and
// leave the binding of pcoa unchanged.
func ForgeFBU(par, pcoa, attacker netip.Addr, at hokey.AlgorithmType) (netio.Packet, error) {
	key, err := hokey.GenerateKey(at, rand.Reader)
	if err != nil {
		return netio.Packet{}, err
	}
	defer key.Zero()
	fbu := mh.FastBindingUpdate{Sequence: 0x8000, Acknowledge: true, HomeRegistration: true, Lifetime: 10 * time.Second,
		Options: []mh.Option{mh.BindingAuthorizationDataForFMIPv6{SPI: 0, Authenticator: make([]byte, at.AuthenticatorLen())}}}
	b, err := hokey.SignBADF(fbu, &key, attacker, par, pcoa, par)
	if err != nil {
		return netio.Packet{}, err
	}
	return netio.Packet{Src: attacker, Dst: par, HopLimit: 64, NextHeader: inet.ProtocolMobility, HomeAddress: pcoa, Payload: b}, nil
}

// ForgeFBUMSK is what a node without the MSK of nai can send in the MSK
// mode (docs/msk.md): a well-formed FBU for pcoa (Home Address option)
// from src, with the MN-NAI option nai and the MN-HA option of AT at
// computed with the FHK of a random MSK. A PAR must reject it (bad_auth if
// it holds an MSK for nai, unknown_nai otherwise) and leave the binding of
// pcoa unchanged.
func ForgeFBUMSK(par, pcoa, src netip.Addr, nai string, at hokey.AlgorithmType) (netio.Packet, error) {
	var msk [hokey.MSKLen]byte
	if _, err := rand.Read(msk[:]); err != nil {
		return netio.Packet{}, err
	}
	m, err := mn.New(mn.Config{MSK: &mn.MSKConfig{NAI: nai, AT: at,
		Source: mn.MSKFunc(func(netip.Addr) ([hokey.MSKLen]byte, bool) { return msk, true })}})
	if err != nil {
		return netio.Packet{}, err
	}
	return m.FastBindingUpdate(par, pcoa, src, false)
}
