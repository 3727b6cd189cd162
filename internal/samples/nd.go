package samples

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/fhkey/fhkey/cga"
	"github.com/fhkey/fhkey/ndp"
	"github.com/fhkey/fhkey/send"
)

// Example addresses (RFC 3849 documentation prefix; RFC 7042 §2.1.2
// documentation MAC addresses 00-00-5E-00-53-xx).
var (
	mnLinkLocal     = netip.MustParseAddr("fe80::200:5eff:fe00:5301")
	parLinkLocal    = netip.MustParseAddr("fe80::200:5eff:fe00:5302")
	narLinkLocal    = netip.MustParseAddr("fe80::200:5eff:fe00:5303")
	allNodes        = netip.MustParseAddr("ff02::1")
	allRouters      = netip.MustParseAddr("ff02::2")
	parAddress      = netip.MustParseAddr("2001:db8:1::1")
	narAddress      = netip.MustParseAddr("2001:db8:2::1")
	previousPrefix  = netip.MustParsePrefix("2001:db8:1::/64")
	newPrefix       = netip.MustParsePrefix("2001:db8:2::/64")
	mnMAC           = net.HardwareAddr{0x00, 0x00, 0x5e, 0x00, 0x53, 0x01}
	parMAC          = net.HardwareAddr{0x00, 0x00, 0x5e, 0x00, 0x53, 0x02}
	narMAC          = net.HardwareAddr{0x00, 0x00, 0x5e, 0x00, 0x53, 0x03}
	newAccessPoint  = net.HardwareAddr{0x00, 0x00, 0x5e, 0x00, 0x53, 0x10}
	fhIdentifier    = uint16(0x5a17)
	trustAnchorFQDN = "trustanchor.example.net"
)

// icmpItem is the expected Item of an ICMPv6 message header.
func icmpItem(typ, subtype uint8, name string, fields ...Field) Item {
	return Item{Protocol: "icmpv6", Type: typ, Subtype: subtype, Name: name, Fields: fields}
}

// ndOption pairs an option with what a dissector should show for it.
type ndOption struct {
	opt  ndp.Option
	item Item
}

func ndItem(typ uint8, name string, octets int, fields ...Field) Item {
	return Item{Protocol: "icmpv6", Option: true, Type: typ, Name: name, Fields: append([]Field{
		{"icmpv6.opt.type", uint64(typ)},
		{"icmpv6.opt.length", ndLen(octets)},
	}, fields...)}
}

func sourceLLA(mac net.HardwareAddr) ndOption {
	return ndOption{&ndp.SourceLinkLayerAddress{LinkLayerAddress: mac},
		ndItem(1, "Source Link-layer Address", 2+len(mac), Field{"icmpv6.opt.src_linkaddr", []byte(mac)})}
}

func targetLLA(mac net.HardwareAddr) ndOption {
	return ndOption{&ndp.TargetLinkLayerAddress{LinkLayerAddress: mac},
		ndItem(2, "Target Link-layer Address", 2+len(mac), Field{"icmpv6.opt.target_linkaddr", []byte(mac)})}
}

// fmipLLA is the RFC 5568 §6.4.3 LLA option; the LLA field runs to the end
// of the option, so it is given with its zero padding.
func fmipLLA(code uint8, mac net.HardwareAddr) ndOption {
	n := 3 + len(mac)
	lla := append(append([]byte{}, mac...), zeros(ndPad(n))...)
	return ndOption{&ndp.LinkLayerAddress{OptionCode: code, LinkLayerAddress: lla},
		ndItem(19, "Link-layer Address", n,
			Field{"icmpv6.opt.lla.option_code", uint64(code)},
			Field{"icmpv6.opt.lla.bytes", lla})}
}

func cgaOption(p *cga.Parameters) ndOption {
	n := 4 + p.Len()
	fields := []Field{
		{"icmpv6.opt.cga.pad_length", uint64(ndPad(n))},
		{"icmpv6.opt.cga.modifier", p.Modifier[:]},
		{"icmpv6.opt.cga.subnet_prefix", p.SubnetPrefix[:]},
		{"icmpv6.opt.cga.count", []byte{p.CollisionCount}},
	}
	if pub, err := x509.ParsePKIXPublicKey(p.PublicKey); err == nil {
		if k, ok := pub.(*rsa.PublicKey); ok {
			// The DER INTEGER of the modulus has a leading zero octet.
			fields = append(fields,
				Field{"x509af.algorithm.id", "1.2.840.113549.1.1.1"},
				Field{"pkcs1.modulus", append([]byte{0}, k.N.Bytes()...)},
				Field{"pkcs1.publicExponent", uint64(k.E)})
		}
	}
	for _, e := range p.Extensions {
		fields = append(fields,
			Field{"icmpv6.opt.cga.ext_type", uint64(e.Type)},
			Field{"icmpv6.opt.cga.ext_length", uint64(len(e.Data))},
			Field{"icmpv6.opt.cga.ext_data", e.Data})
	}
	return ndOption{&ndp.CGA{Parameters: *p}, ndItem(11, "CGA", n, fields...)}
}

func rsaSignature(keyHash [16]byte, sigLen int) ndOption {
	n := 4 + 16 + sigLen
	return ndOption{&ndp.RSASignature{KeyHash: keyHash, DigitalSignature: make([]byte, sigLen+ndPad(n))},
		ndItem(12, "RSA Signature", n, Field{"icmpv6.opt.rsa.key_hash", keyHash[:]})}
}

func timestampOption(t time.Time) ndOption {
	return ndOption{&ndp.Timestamp{Timestamp: ndp.TimestampValue(t)},
		ndItem(13, "Timestamp", 16, Field{"icmpv6.opt.timestamp", t})}
}

func nonceOption(n []byte) ndOption {
	return ndOption{&ndp.Nonce{Nonce: n}, ndItem(14, "Nonce", 2+len(n), Field{"icmpv6.opt.nonce", n})}
}

func ipAddressPrefix(code uint8, plen uint8, a netip.Addr) ndOption {
	return ndOption{&ndp.IPAddressPrefix{OptionCode: code, PrefixLength: plen, IPv6Address: a},
		ndItem(17, "IP Address/Prefix", 24,
			Field{"icmpv6.opt.ipa.option_code", uint64(code)},
			Field{"icmpv6.opt.ipa.prefix_len", uint64(plen)},
			Field{"icmpv6.opt.ipa.ipv6_address", a})}
}

func handoverKeyRequest(at uint8, key []byte) ndOption {
	n := 4 + len(key)
	return ndOption{&ndp.HandoverKeyRequest{AT: at, HandoverKeyEncryptionPublicKey: key},
		ndItem(27, "Handover Key Request", n,
			Field{"icmpv6.opt.hkr.pad_length", uint64(ndPad(n))},
			Field{"icmpv6.opt.hkr.at", uint64(at)},
			Field{"icmpv6.opt.hkr.encryption_public_key", key},
			Field{"icmpv6.opt.hkr.padding", zeros(ndPad(n))})}
}

func handoverKeyReply(at uint8, lifetime time.Duration, ek []byte) ndOption {
	n := 6 + len(ek)
	return ndOption{&ndp.HandoverKeyReply{AT: at, KeyLifetime: lifetime, EncryptedHandoverKey: ek},
		ndItem(28, "Handover Key Reply", n,
			Field{"icmpv6.opt.hkr.pad_length", uint64(ndPad(n))},
			Field{"icmpv6.opt.hkr.at", uint64(at)},
			Field{"icmpv6.opt.hkr.lifetime", uint64(lifetime / time.Second)},
			Field{"icmpv6.opt.hkr.encrypted_handover_key", ek},
			Field{"icmpv6.opt.hkr.padding", zeros(ndPad(n))})}
}

func handoverAssistInformation(code uint8, v []byte) ndOption {
	return ndOption{&ndp.HandoverAssistInformation{OptionCode: code, HAIValue: v},
		ndItem(29, "Handover Assist Information", 4+len(v),
			Field{"icmpv6.opt.hai.option_code", uint64(code)},
			Field{"icmpv6.opt.hai.length", uint64(len(v))},
			Field{"icmpv6.opt.hai.value", v})}
}

func ndMobileNodeIdentifier(code uint8, id []byte) ndOption {
	return ndOption{&ndp.MobileNodeIdentifier{OptionCode: code, MNID: id},
		ndItem(30, "Mobile Node Identifier", 4+len(id),
			Field{"icmpv6.opt.mn.option_code", uint64(code)},
			Field{"icmpv6.opt.mn.length", uint64(len(id))},
			Field{"icmpv6.opt.mn.value", id})}
}

func split(opts []ndOption) ([]ndp.Option, []Item) {
	var o []ndp.Option
	var it []Item
	for _, x := range opts {
		o = append(o, x.opt)
		it = append(it, x.item)
	}
	return o, it
}

// ndPacket builds an ICMPv6 sample packet from m and its expected items.
func ndPacket(desc string, src, dst netip.Addr, m ndp.Message, msgItem Item, items []Item) (Packet, error) {
	b, p, err := icmpPacket(src, dst, m)
	if err != nil {
		return Packet{}, fmt.Errorf("%s: %w", desc, err)
	}
	return Packet{Description: desc, IPv6: b, Packet: p, Message: m, Items: append([]Item{msgItem}, items...), Dissected: true}, nil
}

func buildND(k *keys) ([]Packet, error) {
	var out []Packet
	add := func(p Packet, err error) error {
		if err != nil {
			return err
		}
		out = append(out, p)
		return nil
	}

	// Router Solicitation (RFC 4861 §4.1) from the MN's link-local address.
	{
		opts, items := split([]ndOption{sourceLLA(mnMAC)})
		m := &ndp.RouterSolicitation{Options: opts}
		if err := add(ndPacket("Router Solicitation", mnLinkLocal, allRouters, m,
			icmpItem(133, 0, "Router Solicitation", Field{"icmpv6.type", uint64(133)}, Field{"icmpv6.code", uint64(0)}), items)); err != nil {
			return nil, err
		}
	}
	// Router Advertisement (RFC 4861 §4.2) with Prefix Information and MTU.
	{
		pi := &ndp.PrefixInformation{Prefix: previousPrefix, OnLink: true, Autonomous: true, RouterAddress: true,
			ValidLifetime: 30 * 24 * time.Hour, PreferredLifetime: 7 * 24 * time.Hour}
		opts, items := split([]ndOption{
			sourceLLA(parMAC),
			{pi, ndItem(3, "Prefix Information", 32,
				Field{"icmpv6.opt.prefix.length", uint64(64)},
				Field{"icmpv6.opt.prefix.flag.l", true},
				Field{"icmpv6.opt.prefix.flag.a", true},
				Field{"icmpv6.opt.prefix.flag.r", true},
				Field{"icmpv6.opt.prefix.valid_lifetime", uint64(2592000)},
				Field{"icmpv6.opt.prefix.preferred_lifetime", uint64(604800)},
				Field{"icmpv6.opt.prefix", previousPrefix.Addr()})},
			{&ndp.MTU{MTU: 1500}, ndItem(5, "MTU", 8, Field{"icmpv6.opt.mtu", uint64(1500)})},
		})
		m := &ndp.RouterAdvertisement{CurHopLimit: 64, ManagedConfiguration: true, RouterLifetime: 1800 * time.Second,
			ReachableTime: 30 * time.Second, RetransTimer: time.Second, Options: opts}
		if err := add(ndPacket("Router Advertisement", parLinkLocal, allNodes, m,
			icmpItem(134, 0, "Router Advertisement", Field{"icmpv6.type", uint64(134)}, Field{"icmpv6.code", uint64(0)},
				Field{"icmpv6.nd.ra.cur_hop_limit", uint64(64)},
				Field{"icmpv6.nd.ra.flag.m", true}, Field{"icmpv6.nd.ra.flag.o", false},
				Field{"icmpv6.nd.ra.router_lifetime", uint64(1800)},
				Field{"icmpv6.nd.ra.reachable_time", uint64(30000)},
				Field{"icmpv6.nd.ra.retrans_timer", uint64(1000)}), items)); err != nil {
			return nil, err
		}
	}
	// Neighbor Solicitation and Advertisement (RFC 4861 §4.3, §4.4).
	{
		solicited := netip.MustParseAddr("ff02::1:ff00:5302")
		opts, items := split([]ndOption{sourceLLA(mnMAC)})
		m := &ndp.NeighborSolicitation{TargetAddress: parLinkLocal, Options: opts}
		if err := add(ndPacket("Neighbor Solicitation", mnLinkLocal, solicited, m,
			icmpItem(135, 0, "Neighbor Solicitation", Field{"icmpv6.type", uint64(135)}, Field{"icmpv6.code", uint64(0)},
				Field{"icmpv6.nd.ns.target_address", parLinkLocal}), items)); err != nil {
			return nil, err
		}
		opts, items = split([]ndOption{targetLLA(parMAC)})
		na := &ndp.NeighborAdvertisement{Router: true, Solicited: true, Override: false, TargetAddress: parLinkLocal, Options: opts}
		if err := add(ndPacket("Neighbor Advertisement", parLinkLocal, mnLinkLocal, na,
			icmpItem(136, 0, "Neighbor Advertisement", Field{"icmpv6.type", uint64(136)}, Field{"icmpv6.code", uint64(0)},
				Field{"icmpv6.nd.na.flag.r", true}, Field{"icmpv6.nd.na.flag.s", true}, Field{"icmpv6.nd.na.flag.o", false},
				Field{"icmpv6.nd.na.target_address", parLinkLocal}), items)); err != nil {
			return nil, err
		}
	}
	// Certification Path Solicitation and Advertisement (RFC 3971 §6.4).
	{
		fqdn, err := ndp.EncodeFQDN(trustAnchorFQDN)
		if err != nil {
			return nil, err
		}
		cert, err := x509.ParseCertificate(k.parCert)
		if err != nil {
			return nil, err
		}
		x501 := cert.RawSubject
		opts, items := split([]ndOption{
			{&ndp.TrustAnchor{NameType: 2, TrustAnchorName: fqdn}, ndItem(15, "Trust Anchor", 4+len(fqdn),
				Field{"icmpv6.opt.name_type", uint64(2)},
				Field{"icmpv6.opt.cga.pad_length", uint64(ndPad(4 + len(fqdn)))},
				// An FT_STRING field: Wireshark shows the wire form up to
				// the NUL octet of the root label.
				Field{"icmpv6.opt.name_type.fqdn", string(bytes.TrimSuffix(fqdn, []byte{0}))})},
			{&ndp.TrustAnchor{NameType: 1, TrustAnchorName: x501}, ndItem(15, "Trust Anchor", 4+len(x501),
				Field{"icmpv6.opt.name_type", uint64(1)},
				Field{"icmpv6.opt.cga.pad_length", uint64(ndPad(4 + len(x501)))},
				Field{"icmpv6.opt.name_x501", x501})},
		})
		m := &ndp.CertificationPathSolicitation{Identifier: 0x1234, Component: 0xffff, Options: opts}
		if err := add(ndPacket("Certification Path Solicitation", mnLinkLocal, allRouters, m,
			icmpItem(148, 0, "Certification Path Solicitation", Field{"icmpv6.type", uint64(148)}, Field{"icmpv6.code", uint64(0)},
				Field{"icmpv6.send.identifier", uint64(0x1234)}, Field{"icmpv6.send.component", uint64(0xffff)}), items)); err != nil {
			return nil, err
		}
		opts, items = split([]ndOption{
			{&ndp.Certificate{CertType: ndp.CertTypeX509v3, Certificate: k.parCert}, ndItem(16, "Certificate", 4+len(k.parCert),
				Field{"icmpv6.opt.name_type", uint64(1)},
				Field{"x509af.serialNumber", cert.SerialNumber.Bytes()},
				Field{"x509sat.uTF8String", cert.Issuer.Organization[0]},
				Field{"x509sat.uTF8String", cert.Issuer.CommonName})},
		})
		cpa := &ndp.CertificationPathAdvertisement{Identifier: 0x1234, AllComponents: 1, Component: 0, Options: opts}
		if err := add(ndPacket("Certification Path Advertisement", parLinkLocal, mnLinkLocal, cpa,
			icmpItem(149, 0, "Certification Path Advertisement", Field{"icmpv6.type", uint64(149)}, Field{"icmpv6.code", uint64(0)},
				Field{"icmpv6.send.identifier", uint64(0x1234)}, Field{"icmpv6.send.all_components", uint64(1)},
				Field{"icmpv6.send.component", uint64(0)}), items)); err != nil {
			return nil, err
		}
	}

	// SEND-secured RtSolPr carrying the Handover Key Request (RFC 5269 §5.2).
	mnParams := &cga.Parameters{Modifier: [16]byte(pattern(0x10, 16)), SubnetPrefix: [8]byte(previousPrefix.Addr().AsSlice()[:8]),
		PublicKey: publicKeyDER(k.mn), Extensions: []cga.Extension{{Type: 0xfffd, Data: []byte("fhkey")}}}
	mnCoA, err := cgaAddress(mnParams)
	if err != nil {
		return nil, err
	}
	parParams := &cga.Parameters{Modifier: [16]byte(pattern(0x80, 16)), SubnetPrefix: [8]byte(previousPrefix.Addr().AsSlice()[:8]),
		CollisionCount: 1, PublicKey: publicKeyDER(k.par)}
	parCGA, err := cgaAddress(parParams)
	if err != nil {
		return nil, err
	}
	ts := Time.Add(500 * time.Millisecond)
	nonce := pattern(0xa0, 6)
	{
		hkepk := publicKeyDER(k.hkepk)
		sig := rsaSignature(keyHash(k.mn), k.mn.Size())
		opts, items := split([]ndOption{
			sourceLLA(mnMAC),
			fmipLLA(ndp.LLANewAccessPoint, newAccessPoint),
			handoverAssistInformation(1, []byte{0x0a, 0x00, 0x00, 0x2a}),
			ndMobileNodeIdentifier(1, []byte("mn@example.net")),
			cgaOption(mnParams),
			timestampOption(ts),
			nonceOption(nonce),
			handoverKeyRequest(1, hkepk),
			sig,
		})
		m := &ndp.RouterSolicitationForProxyAdvertisement{Identifier: fhIdentifier, Options: opts}
		if err := signND(k.mn, mnCoA, parAddress, m, sig.opt.(*ndp.RSASignature)); err != nil {
			return nil, err
		}
		if err := add(ndPacket("RtSolPr with SEND and Handover Key Request", mnCoA, parAddress, m,
			icmpItem(154, 2, "RtSolPr", Field{"icmpv6.type", uint64(154)}, Field{"icmpv6.code", uint64(0)},
				Field{"icmpv6.fmip6.subtype", uint64(2)}, Field{"icmpv6.fmip6.identifier", uint64(fhIdentifier)}), items)); err != nil {
			return nil, err
		}
	}
	// SEND-secured PrRtAdv carrying the Handover Key Reply (RFC 5269 §5.3).
	{
		sig := rsaSignature(keyHash(k.par), k.par.Size())
		opts, items := split([]ndOption{
			fmipLLA(ndp.LLANewAccessPoint, newAccessPoint),
			fmipLLA(ndp.LLANAR, narMAC),
			ipAddressPrefix(ndp.IPAddressNARAddress, 128, narAddress),
			ipAddressPrefix(ndp.IPAddressNARPrefix, 64, newPrefix.Addr()),
			cgaOption(parParams),
			timestampOption(ts.Add(time.Second)),
			nonceOption(nonce),
			handoverKeyReply(1, 43200*time.Second, pattern(0x40, k.hkepk.Size())),
			sig,
		})
		m := &ndp.ProxyRouterAdvertisement{Code: 0, Identifier: fhIdentifier, Options: opts}
		if err := signND(k.par, parCGA, mnCoA, m, sig.opt.(*ndp.RSASignature)); err != nil {
			return nil, err
		}
		if err := add(ndPacket("PrRtAdv with SEND and Handover Key Reply", parCGA, mnCoA, m,
			icmpItem(154, 3, "PrRtAdv", Field{"icmpv6.type", uint64(154)}, Field{"icmpv6.code", uint64(0)},
				Field{"icmpv6.fmip6.subtype", uint64(3)}, Field{"icmpv6.fmip6.identifier", uint64(fhIdentifier)}), items)); err != nil {
			return nil, err
		}
	}
	// Router Advertisement from the NAR with a NAACK option (RFC 5568 §6.4.6).
	{
		opts, items := split([]ndOption{
			sourceLLA(narMAC),
			{&ndp.NAACK{Status: ndp.NAACKAddressConfiguration}, ndItem(20, "NAACK", 8,
				Field{"icmpv6.opt.naack.option_code", uint64(0)},
				Field{"icmpv6.opt.naack.status", uint64(1)})},
		})
		m := &ndp.RouterAdvertisement{CurHopLimit: 64, RouterLifetime: 1800 * time.Second, Options: opts}
		if err := add(ndPacket("Router Advertisement with NAACK", narLinkLocal, mnLinkLocal, m,
			icmpItem(134, 0, "Router Advertisement", Field{"icmpv6.type", uint64(134)}, Field{"icmpv6.code", uint64(0)},
				Field{"icmpv6.nd.ra.router_lifetime", uint64(1800)}), items)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// signND signs m from src to dst with k through send.Sign (RFC 3971 §5.2,
// with the project's checksum convention, docs/send.md) and stores the
// signature in sig, the message's last option, so that the sample carries
// exactly what fhkey puts on the wire.
func signND(k *rsa.PrivateKey, src, dst netip.Addr, m ndp.Message, sig *ndp.RSASignature) error {
	b, err := ndp.MarshalMessage(m)
	if err != nil {
		return err
	}
	off, err := ndp.RSASignatureOffset(b)
	if err != nil {
		return err
	}
	signed, err := send.Sign(b[:off], src, dst, k)
	if err != nil {
		return err
	}
	spans, err := ndp.OptionSpans(signed)
	if err != nil || len(spans) == 0 {
		return fmt.Errorf("signed message: %v", err)
	}
	last := spans[len(spans)-1]
	opt := signed[last.Offset : last.Offset+last.Length]
	// Type, Length, Reserved (2), Key Hash (16), then the padded signature.
	if len(opt)-20 != len(sig.DigitalSignature) {
		return fmt.Errorf("signature field of %d octets does not fit the %d reserved", len(opt)-20, len(sig.DigitalSignature))
	}
	copy(sig.DigitalSignature, opt[20:])
	return nil
}
