package ar

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"hash/maphash"
	"net/netip"
	"time"

	"github.com/fhkey/fhkey/cga"
	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/ndp"
	"github.com/fhkey/fhkey/send"
)

// handleSolicitation is RFC 5269 §3.2 for one received RtSolPr.
func (r *Router) handleSolicitation(_ context.Context, p netio.Packet) []netio.Packet {
	r.stats.rtsolpr.Add(1)
	s := r.set.Load() // one snapshot of the settings for the whole exchange
	now := r.now()
	src := p.Src.WithZone("")
	// RFC 5568 §6.1.1: Hop Limit 255; the destination is the router or
	// all-routers. A source must be a unicast address the answer can go to.
	if p.HopLimit != 255 || !src.Is6() || src.Is4In6() || src.IsUnspecified() || src.IsMulticast() ||
		(p.Dst.WithZone("") != r.addr && p.Dst != AllRoutersMulticast) {
		r.stats.malformed.Add(1)
		return nil
	}
	if !r.perSource.take(src, now) {
		r.stats.rlSource.Add(1)
		return nil
	}
	m, err := ndp.ParseMessage(p.Payload)
	if err != nil {
		r.stats.malformed.Add(1)
		return nil
	}
	sol, ok := m.(*ndp.RouterSolicitationForProxyAdvertisement)
	if !ok {
		r.stats.malformed.Add(1)
		return nil
	}
	// Cheap CGA pre-check (hashes, no RSA): the CGA option must name the
	// source address. Its key is what the per-key bucket charges.
	var cgaOpt *ndp.CGA
	var request *ndp.HandoverKeyRequest
	var nonce []byte
scan:
	for _, o := range sol.Options {
		switch o := o.(type) {
		case *ndp.CGA:
			if cgaOpt == nil {
				cgaOpt = o
			}
		case *ndp.HandoverKeyRequest:
			if request == nil {
				request = o
			}
		case *ndp.Nonce:
			if nonce == nil {
				nonce = o.Nonce
			}
		case *ndp.RSASignature:
			// Options after the signature are not authenticated
			// (RFC 3971 §5.2.2); stop here.
			break scan
		}
	}
	if cgaOpt == nil || cgaPrecheck(src, &cgaOpt.Parameters) != nil {
		r.stats.cgaFailed.Add(1)
		return r.unsecuredReply(s, sol, src, nonce, now)
	}
	keyHash := send.KeyHash(cgaOpt.Parameters.PublicKey)
	if !r.perKey.take(keyHash, now) {
		r.stats.rlKey.Add(1)
		return nil
	}
	if !r.total.take(now) {
		r.stats.rlTotal.Add(1)
		return nil
	}
	// RFC 5269 §3.2: "the AR MUST first validate the RtSolPr using SEND
	// as described in RFC 3971". Nothing is stored before this succeeds.
	start := time.Now()
	res, err := s.verifier.Verify(p.Payload, p.Src, p.Dst)
	r.trace("send-verify", src, start, err, 0)
	if err != nil {
		r.stats.sendFailed.Add(1)
		r.log.Debug("ar: RtSolPr failed SEND", "src", src, "err", err)
		// "If the RtSolPr can not be validated, the AR MUST NOT include a
		// Handover Key Reply Option in the reply. ... The AR SHOULD
		// respond to the RtSolPr but MUST NOT perform handover key
		// provisioning." The total bucket already paid for the answer.
		return r.reply(s, sol, src, nonce, nil)
	}
	if res.SignedLength < len(p.Payload) {
		// Re-read only the authenticated part (RFC 3971 §5.2.2).
		if m, err = ndp.ParseMessage(p.Payload[:res.SignedLength]); err != nil {
			r.stats.malformed.Add(1)
			return nil
		}
		sol = m.(*ndp.RouterSolicitationForProxyAdvertisement)
	}
	if request == nil {
		// A plain FMIPv6 RtSolPr: answer with neighbor information.
		return r.reply(s, sol, src, res.Nonce, nil)
	}
	hkr, err := r.provision(s, src, res.PublicKey, request, now)
	if err != nil {
		r.log.Debug("ar: no key provisioned", "src", src, "err", err)
		return r.reply(s, sol, src, res.Nonce, nil)
	}
	return r.reply(s, sol, src, res.Nonce, hkr)
}

// cgaPrecheck verifies the CGA property of src for params (RFC 3972 §5).
func cgaPrecheck(src netip.Addr, params *cga.Parameters) error {
	b, err := params.Marshal()
	if err != nil {
		return err
	}
	_, err = cga.Verify(src, b)
	return err
}

var errBadRequest = errors.New("ar: unusable Handover Key Request")

var lockSeed = maphash.MakeSeed()

// provision returns the Handover Key Reply for a validated request from the
// care-of CGA mn whose CGA key is cgaKey (RFC 5269 §3.2, §3.6), with the
// algorithms and HK-LIFETIME of s.
func (r *Router) provision(s *settings, mn netip.Addr, cgaKey *rsa.PublicKey, req *ndp.HandoverKeyRequest, now time.Time) (*ndp.HandoverKeyReply, error) {
	// §4.1: the key "MUST be formatted according to the same specification
	// as the CGA key ... and MUST have the same parameters as the CGA key".
	hkepk, err := cga.ParsePublicKey(req.HandoverKeyEncryptionPublicKey)
	if err != nil || hkepk.N.BitLen() != cgaKey.N.BitLen() || hkepk.E != cgaKey.E {
		r.stats.badReq.Add(1)
		return nil, fmt.Errorf("%w: handover key encryption public key is not an RSA key like the CGA key", errBadRequest)
	}
	// §3.1: the MN "MUST NOT use the key pair for any other encryption or
	// for signature operation": refuse the CGA key itself.
	if hkepk.Equal(cgaKey) {
		r.stats.badReq.Add(1)
		return nil, fmt.Errorf("%w: handover key encryption public key is the CGA key", errBadRequest)
	}
	lock := &r.keyLocks[maphash.Comparable(lockSeed, mn)%uint64(len(r.keyLocks))]
	lock.Lock()
	defer lock.Unlock()
	var key hokey.Key
	var expires time.Time
	rec, err := r.cfg.Store.Get(r.addr, mn)
	switch {
	case err == nil:
		// "If the CGA is associated with an existing handover key, the AR
		// MUST return the existing handover key to the MN."
		key, err = hokey.NewKey(hokey.AlgorithmType(rec.AT), rec.KeyBytes())
		expires = rec.Expires
		rec.Zero()
		if err != nil {
			r.stats.internal.Add(1)
			return nil, fmt.Errorf("ar: stored key: %w", err)
		}
		r.stats.reused.Add(1)
		r.trace("key-reused", mn, time.Time{}, nil, key.Algorithm())
	case errors.Is(err, keystore.ErrNotFound):
		// "the AR SHOULD set the AT field ... to the MN's preferred
		// algorithm type ..., if it is supported; otherwise, the AR MUST
		// select an authentication algorithm that is of equivalent
		// strength or stronger".
		at, ok := hokey.Negotiate(hokey.AlgorithmType(req.AT), s.algs)
		if !ok {
			r.stats.badReq.Add(1)
			return nil, fmt.Errorf("%w: no supported algorithm as strong as AT %d", errBadRequest, req.AT)
		}
		// §3.6: "The AR MUST randomly generate a key having sufficient
		// strength to match the authentication algorithm ... a unique key
		// for each CGA public key".
		if key, err = hokey.GenerateKey(at, r.rand); err != nil {
			r.stats.internal.Add(1)
			return nil, err
		}
		expires = now.Add(s.lifetime)
		nr := keystore.Record{AR: r.addr, MN: mn, AT: uint8(at), SPI: 0, Created: now, Expires: expires}
		if err := nr.SetKey(key.Bytes()); err != nil {
			key.Zero()
			r.stats.internal.Add(1)
			return nil, err
		}
		// "The handover key MUST be stored by the AR for future use,
		// indexed by the CGA, and the authentication algorithm type ...
		// and HK-LIFETIME MUST be recorded with the key."
		err = r.cfg.Store.Put(&nr)
		nr.Zero()
		if err != nil {
			key.Zero()
			r.stats.internal.Add(1)
			return nil, fmt.Errorf("ar: storing key: %w", err)
		}
		r.stats.created.Add(1)
		r.trace("key-created", mn, time.Time{}, nil, at)
		r.log.Info("handover key created", "care_of", mn, "at", at)
	default:
		r.stats.internal.Add(1)
		return nil, fmt.Errorf("ar: key store: %w", err)
	}
	defer key.Zero()
	// "The AR MUST encrypt the handover key with the handover key
	// encryption public key" (§4.2: RSAES-PKCS1-v1_5).
	start := time.Now()
	ek, err := rsa.EncryptPKCS1v15(r.rand, hkepk, key.Bytes())
	r.trace("key-encrypt", mn, start, err, key.Algorithm())
	if err != nil {
		r.stats.internal.Add(1)
		return nil, fmt.Errorf("ar: encrypting handover key: %w", err)
	}
	// The Key Lifetime is what remains of HK-LIFETIME, in whole seconds.
	left := expires.Sub(now).Truncate(time.Second)
	left = min(max(left, 0), 0xffff*time.Second)
	return &ndp.HandoverKeyReply{AT: uint8(key.Algorithm()), KeyLifetime: left, EncryptedHandoverKey: ek}, nil
}

// unsecuredReply answers a solicitation that failed the CGA check, within the
// UnsecuredReplies budget and the total budget (the answer costs a signature).
func (r *Router) unsecuredReply(s *settings, sol *ndp.RouterSolicitationForProxyAdvertisement, dst netip.Addr, nonce []byte, now time.Time) []netio.Packet {
	if !r.unsecured.take(now) || !r.total.take(now) {
		r.stats.unsecured.Add(1)
		return nil
	}
	return r.reply(s, sol, dst, nonce, nil)
}

// reply builds the signed PrRtAdv answering sol (RFC 5568 §6.1.2, RFC 5269
// §3.2): the neighbor tuples, then the CGA, Timestamp and Nonce options, the
// Handover Key Reply if any, and the RSA Signature option last, unicast to
// the solicitation's source. The neighbors are those of s.
func (r *Router) reply(s *settings, sol *ndp.RouterSolicitationForProxyAdvertisement, dst netip.Addr, nonce []byte, hkr *ndp.HandoverKeyReply) []netio.Packet {
	code, opts := neighborOptions(s.neighbors, sol)
	opts = append(opts, &ndp.CGA{Parameters: *r.cfg.Parameters}, ndp.NewTimestamp(r.now()))
	if len(nonce) >= send.MinNonceLen {
		// "The AR MUST also include the SEND nonce from the RtSolPr".
		opts = append(opts, &ndp.Nonce{Nonce: bytes.Clone(nonce)})
	}
	if hkr != nil {
		opts = append(opts, hkr)
	}
	adv := &ndp.ProxyRouterAdvertisement{Code: code, Identifier: sol.Identifier, Options: opts}
	start := time.Now()
	b, err := ndp.MarshalMessage(adv)
	if err == nil {
		b, err = send.Sign(b, r.addr, dst, r.cfg.Signer)
	}
	var at hokey.AlgorithmType
	if hkr != nil {
		at = hokey.AlgorithmType(hkr.AT)
	}
	r.trace("prrtadv-sign", dst, start, err, at)
	if err != nil {
		r.stats.internal.Add(1)
		r.log.Debug("ar: building PrRtAdv", "err", err)
		return nil
	}
	r.stats.prrtadv.Add(1)
	if hkr == nil {
		r.stats.prrtadvNoKey.Add(1)
	}
	return []netio.Packet{{Src: r.addr, Dst: dst, HopLimit: 255, NextHeader: inet.ProtocolICMPv6, Payload: b}}
}

// neighborOptions chooses the PrRtAdv Code and the [AP-ID, AR-Info] tuples
// for the New Access Point LLA options of sol (RFC 5568 §6.1.2). Code 0
// carries the tuples of the requested (or, for a wildcard, of all) known
// access points; Code 3 a subset, the unknown ones flagged with Option-Code
// 6 ("the PAR is not aware of the Prefix Information requested"); Code 2
// none. A solicitation without New Access Point LLA gets Code 2 and no
// option. neighbors are the access routers the router knows.
func neighborOptions(neighbors []Neighbor, sol *ndp.RouterSolicitationForProxyAdvertisement) (uint8, []ndp.Option) {
	var opts []ndp.Option
	known, unknown := 0, 0
	tuple := func(n Neighbor) {
		opts = append(opts, &ndp.LinkLayerAddress{OptionCode: ndp.LLANewAccessPoint, LinkLayerAddress: bytes.Clone(n.AccessPoint)})
		opts = append(opts, &ndp.LinkLayerAddress{OptionCode: ndp.LLANAR, LinkLayerAddress: bytes.Clone(n.RouterLLA)})
		opts = append(opts, &ndp.IPAddressPrefix{OptionCode: ndp.IPAddressNARAddress, PrefixLength: 128, IPv6Address: n.Address})
		if n.Prefix.IsValid() {
			opts = append(opts, &ndp.IPAddressPrefix{OptionCode: ndp.IPAddressNARPrefix, PrefixLength: uint8(n.Prefix.Bits()), IPv6Address: n.Prefix.Addr()})
		}
		known++
	}
	for _, o := range sol.Options {
		lla, ok := o.(*ndp.LinkLayerAddress)
		if !ok {
			continue
		}
		switch lla.OptionCode {
		case ndp.LLAWildcard:
			for _, n := range neighbors {
				tuple(n)
			}
		case ndp.LLANewAccessPoint:
			found := false
			for _, n := range neighbors {
				if bytes.HasPrefix(lla.LinkLayerAddress, n.AccessPoint) && len(n.AccessPoint) > 0 {
					tuple(n)
					found = true
					break
				}
			}
			if !found {
				opts = append(opts, &ndp.LinkLayerAddress{OptionCode: ndp.LLANoPrefixInfo, LinkLayerAddress: bytes.Clone(lla.LinkLayerAddress)})
				unknown++
			}
		}
	}
	switch {
	case known > 0 && unknown == 0:
		return ndp.PrRtAdvTuples, opts
	case known > 0:
		return ndp.PrRtAdvSubset, opts
	}
	return ndp.PrRtAdvNoNewRouterInfo, opts
}
