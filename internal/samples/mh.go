package samples

import (
	"crypto/hmac"
	"crypto/sha1"
	"fmt"
	"net/netip"
	"time"

	"github.com/fhkey/fhkey/internal/capture"
	"github.com/fhkey/fhkey/mh"
)

// Mobile IPv6 example addresses (RFC 3849).
var (
	homeAddress   = netip.MustParseAddr("2001:db8:100::5301")
	homeAgent     = netip.MustParseAddr("2001:db8:100::1")
	correspondent = netip.MustParseAddr("2001:db8:300::7")
	previousCoA   = netip.MustParseAddr("2001:db8:1::5301")
	newCoA        = netip.MustParseAddr("2001:db8:2::5301")
	// handoverKey is the example MN-PAR handover key that authenticates the
	// FBU and FBack (RFC 5269 §3, RFC 5568 §6.4.5).
	handoverKey = pattern(0xc0, 20)
)

func mhItem(typ uint8, name string, fields ...Field) Item {
	return Item{Protocol: "mip6", Type: typ, Name: name, Fields: append([]Field{{"mip6.mhtype", uint64(typ)}}, fields...)}
}

type mhOption struct {
	opt  mh.Option
	item Item
}

func mhOptItem(typ uint8, name string, length int, fields ...Field) Item {
	return Item{Protocol: "mip6", Option: true, Type: typ, Name: name, Fields: append([]Field{
		{"mip6.mobility_opt.len", uint64(length)},
	}, fields...)}
}

func splitMH(opts []mhOption) ([]mh.Option, []Item) {
	var o []mh.Option
	var it []Item
	for _, x := range opts {
		o = append(o, x.opt)
		it = append(it, x.item)
	}
	return o, it
}

func mnIdentifier(nai string) mhOption {
	return mhOption{mh.MobileNodeIdentifier{Subtype: 1, Identifier: []byte(nai)},
		mhOptItem(8, "Mobile Node Identifier", 1+len(nai),
			Field{"mip6.mnid.subtype", uint64(1)}, Field{"mip6.mnid.identifier", nai})}
}

func mhIPv6AddressPrefix(code, plen uint8, a netip.Addr) mhOption {
	return mhOption{mh.MobilityHeaderIPv6AddressPrefix{OptionCode: code, PrefixLength: plen, Address: a},
		mhOptItem(34, "IPv6 Address/Prefix", 18,
			Field{"mip6.mhipv6ap.opt_code", uint64(code)}, Field{"mip6.mhipv6ap.len", uint64(plen)},
			Field{"mip6.mhipv6ap.ipv6_address", a})}
}

func mhLLA(code uint8, lla []byte) mhOption {
	return mhOption{mh.MobilityHeaderLinkLayerAddress{OptionCode: code, LinkLayerAddress: lla},
		mhOptItem(7, "MH Link-Layer Address", 1+len(lla),
			Field{"mip6.lla.optcode", uint64(code)}, Field{"mip6.lla", lla})}
}

func alternateCoA(a netip.Addr) mhOption {
	return mhOption{mh.AlternateCareOfAddress{Address: a},
		mhOptItem(3, "Alternate Care-of Address", 16, Field{"mip6.acoa.acoa", a})}
}

// badf returns a BADF option with SPI 0, the SPI RFC 5568 §6.4.5 reserves
// for an Authenticator computed with SEND-based handover keys (RFC 5269),
// and a 96-bit placeholder authenticator filled in by authenticateBADF.
func badf(auth []byte) mhOption {
	return mhOption{mh.BindingAuthorizationDataForFMIPv6{SPI: 0, Authenticator: auth},
		mhOptItem(21, "BADF", 4+len(auth), Field{"mip6.badff.spi", uint64(0)}, Field{"mip6.badff.auth", auth})}
}

// authenticateBADF computes the BADF Authenticator of m, sent from careOf
// to par, with HMAC-SHA1 truncated to 96 bits (RFC 5568 §6.4.5: "The
// default MAC calculation is done using HMAC_SHA1 with the first 96 bits
// used for the MAC") over the data mh.CoveredByBADF locates, and copies it
// into auth (the slice held by the option and by its expected Field).
func authenticateBADF(m mh.Message, careOf, par netip.Addr, auth []byte) error {
	b, err := mh.MarshalMessage(m)
	if err != nil {
		return err
	}
	c, err := mh.CoveredByBADF(b, careOf, par)
	if err != nil {
		return err
	}
	h := hmac.New(sha1.New, handoverKey)
	h.Write(c.Data)
	copy(auth, h.Sum(nil)[:len(auth)])
	return nil
}

func mhSample(cp mh.Codepoints, desc string, src, dst netip.Addr, ext []capture.ExtensionHeader, m mh.Message, msg Item, opts []Item, dissected bool) (Packet, error) {
	b, p, err := mhPacket(cp, src, dst, ext, m)
	if err != nil {
		return Packet{}, fmt.Errorf("%s: %w", desc, err)
	}
	// Payload Proto is always "No Next Header" (RFC 6275 §6.1.1); Header
	// Len counts 8-octet units after the first 8.
	msg.Fields = append([]Field{{"mip6.proto", uint64(59)}, {"mip6.hlen", uint64(len(p.Payload)/8 - 1)}}, msg.Fields...)
	items, err := withPadding(cp, p.Payload, opts)
	if err != nil {
		return Packet{}, fmt.Errorf("%s: %w", desc, err)
	}
	return Packet{Description: desc, IPv6: b, Packet: p, Message: m, Items: append([]Item{msg}, items...), Dissected: dissected}, nil
}

// withPadding returns opts with the Pad1 and PadN options the marshaller
// inserted for alignment (RFC 6275 §6.2.1), in wire order. The positions
// come from parsing the marshalled Mobility Header b.
func withPadding(cp mh.Codepoints, b []byte, opts []Item) ([]Item, error) {
	m, err := cp.ParseMessage(b)
	if err != nil {
		return nil, err
	}
	var out []Item
	for _, o := range mhOptions(m) {
		switch o := o.(type) {
		case mh.Pad1:
			out = append(out, Item{Protocol: "mip6", Option: true, Type: 0, Name: "Pad1"})
		case mh.PadN:
			it := mhOptItem(1, "PadN", o.N-2)
			if o.N > 2 {
				it.Fields = append(it.Fields, Field{"mip6.padn", zeros(o.N - 2)})
			}
			out = append(out, it)
		default:
			if len(opts) == 0 {
				return nil, fmt.Errorf("parsed more options than were marshalled")
			}
			out = append(out, opts[0])
			opts = opts[1:]
		}
	}
	if len(opts) != 0 {
		return nil, fmt.Errorf("%d marshalled options missing after parsing", len(opts))
	}
	return out, nil
}

// mhOptions returns the mobility options of m.
func mhOptions(m mh.Message) []mh.Option {
	switch m := m.(type) {
	case mh.BindingRefreshRequest:
		return m.Options
	case mh.BindingUpdate:
		return m.Options
	case mh.BindingAcknowledgement:
		return m.Options
	case mh.FastBindingUpdate:
		return m.Options
	case mh.FastBindingAcknowledgment:
		return m.Options
	case mh.HandoverInitiate:
		return m.Options
	case mh.HandoverAcknowledge:
		return m.Options
	case mh.HandoverKeyRequest:
		return m.Options
	case mh.HandoverKeyResponse:
		return m.Options
	}
	return nil
}

// routingType2 is the Type 2 Routing header of RFC 6275 §6.4 carrying home.
func routingType2(home netip.Addr) capture.ExtensionHeader {
	a := home.As16()
	return capture.ExtensionHeader{Protocol: capture.ProtocolRouting, Data: append([]byte{2, 1, 0, 0, 0, 0}, a[:]...)}
}

func buildMH(*keys) ([]Packet, error) {
	var cp mh.Codepoints
	var out []Packet
	add := func(p Packet, err error) error {
		if err != nil {
			return err
		}
		out = append(out, p)
		return nil
	}
	hao := []capture.ExtensionHeader{capture.HomeAddressHeader(homeAddress)}
	// A whole second: tshark 4.0.17 also shows the raw 32-bit NTP fraction
	// as nanoseconds, a fault the interop test does not allow.
	replay := mh.NTPTime(Time)
	replayItem := func() mhOption {
		return mhOption{mh.MobilityMessageReplayProtection{Timestamp: replay},
			mhOptItem(10, "Mobility Message Replay Protection", 8,
				Field{"mip6.mseg_id.timestamp", replay.Time()})}
	}
	auth := func(subtype uint8, spi uint32, data []byte) mhOption {
		return mhOption{mh.MobilityMessageAuthentication{Subtype: subtype, SPI: spi, AuthenticationData: data},
			mhOptItem(9, "Mobility Message Authentication", 5+len(data),
				Field{"mip6.auth.subtype", uint64(subtype)}, Field{"mip6.auth.mobility_spi", uint64(spi)},
				Field{"mip6.auth.auth_data", data})}
	}

	// Binding Refresh Request (RFC 6275 §6.1.2), HA to MN.
	if err := add(mhSample(cp, "Binding Refresh Request", homeAgent, homeAddress, nil, mh.BindingRefreshRequest{},
		mhItem(0, "Binding Refresh Request"), nil, true)); err != nil {
		return nil, err
	}
	// Binding Update to the HA authenticated per RFC 4285 (MN-ID, MN-HA
	// authentication, replay protection), sent from the care-of address.
	{
		opts, items := splitMH([]mhOption{replayItem(), mnIdentifier("mn@example.net"), auth(1, 3, pattern(0x30, 12))})
		m := mh.BindingUpdate{Sequence: 4711, Acknowledge: true, HomeRegistration: true, Lifetime: 600 * time.Second, Options: opts}
		if err := add(mhSample(cp, "Binding Update (RFC 4285 authentication)", previousCoA, homeAgent, hao, m,
			mhItem(5, "Binding Update", Field{"mip6.bu.seqnr", uint64(4711)},
				Field{"mip6.bu.a_flag", true}, Field{"mip6.bu.h_flag", true}, Field{"mip6.bu.l_flag", false}, Field{"mip6.bu.k_flag", false},
				Field{"mip6.bu.lifetime", uint64(150)}), items, true)); err != nil {
			return nil, err
		}
	}
	// Binding Acknowledgement from the HA with Binding Refresh Advice, via a
	// Type 2 Routing header.
	{
		opts, items := splitMH([]mhOption{
			{mh.BindingRefreshAdvice{RefreshInterval: 300 * time.Second}, mhOptItem(2, "Binding Refresh Advice", 2, Field{"mip6.bra.interval", uint64(75)})},
			replayItem(), mnIdentifier("mn@example.net"), auth(1, 3, pattern(0x50, 12)),
		})
		m := mh.BindingAcknowledgement{Status: 0, Sequence: 4711, Lifetime: 600 * time.Second, Options: opts}
		if err := add(mhSample(cp, "Binding Acknowledgement with Binding Refresh Advice", homeAgent, previousCoA,
			[]capture.ExtensionHeader{routingType2(homeAddress)}, m,
			mhItem(6, "Binding Acknowledgement", Field{"mip6.ba.status", uint64(0)}, Field{"mip6.ba.k_flag", false},
				Field{"mip6.ba.seqnr", uint64(4711)}, Field{"mip6.ba.lifetime", uint64(150)}), items, true)); err != nil {
			return nil, err
		}
	}
	// Binding Update to a correspondent node after return routability
	// (RFC 6275 §5.2.6): Nonce Indices, Alternate CoA and Binding
	// Authorization Data.
	{
		opts, items := splitMH([]mhOption{
			alternateCoA(previousCoA),
			{mh.NonceIndices{HomeNonceIndex: 0x0102, CareOfNonceIndex: 0x0304}, mhOptItem(4, "Nonce Indices", 4,
				Field{"mip6.ni.hni", uint64(0x0102)}, Field{"mip6.ni.cni", uint64(0x0304)})},
			{mh.BindingAuthorizationData{Authenticator: pattern(0x60, 12)}, mhOptItem(5, "Binding Authorization Data", 12,
				Field{"mip6.bad.auth", pattern(0x60, 12)})},
		})
		m := mh.BindingUpdate{Sequence: 17, Acknowledge: true, Lifetime: 420 * time.Second, Options: opts}
		if err := add(mhSample(cp, "Binding Update to a correspondent node", previousCoA, correspondent, hao, m,
			mhItem(5, "Binding Update", Field{"mip6.bu.seqnr", uint64(17)}, Field{"mip6.bu.a_flag", true}, Field{"mip6.bu.h_flag", false},
				Field{"mip6.bu.lifetime", uint64(105)}), items, true)); err != nil {
			return nil, err
		}
	}
	// Fast Binding Update, MN (PCoA) to PAR (RFC 5568 §6.2.3), BADF last.
	{
		fbuAuth := make([]byte, 12)
		opts, items := splitMH([]mhOption{
			alternateCoA(newCoA),
			mhLLA(2, []byte(mnMAC)),
			badf(fbuAuth),
		})
		m := mh.FastBindingUpdate{Sequence: 100, Acknowledge: true, HomeRegistration: true, Lifetime: 40 * time.Second, Options: opts}
		if err := authenticateBADF(m, previousCoA, parAddress, fbuAuth); err != nil {
			return nil, err
		}
		if err := add(mhSample(cp, "Fast Binding Update with BADF", previousCoA, parAddress, nil, m,
			mhItem(8, "Fast Binding Update", Field{"mip6.fbu.seqnr", uint64(100)}, Field{"mip6.fbu.a_flag", true},
				Field{"mip6.fbu.h_flag", true}, Field{"mip6.fbu.l_flag", false}, Field{"mip6.fbu.k_flag", false},
				Field{"mip6.fbu.lifetime", uint64(40)}), items, true)); err != nil {
			return nil, err
		}
	}
	// Handover Initiate, PAR to NAR (RFC 5568 §6.2.1.1), and Handover
	// Acknowledge back (§6.2.1.2), with the IPv6 Address/Prefix option (34).
	{
		opts, items := splitMH([]mhOption{
			mhLLA(2, []byte(mnMAC)),
			mhIPv6AddressPrefix(1, 128, previousCoA),
			mhIPv6AddressPrefix(2, 128, newCoA),
			mnIdentifier("mn@example.net"),
		})
		m := mh.HandoverInitiate{Sequence: 200, AssignedAddress: false, Buffer: true, Code: 0, Options: opts}
		if err := add(mhSample(cp, "Handover Initiate", parAddress, narAddress, nil, m,
			mhItem(14, "Handover Initiate", Field{"mip6.hi.seqnr", uint64(200)}, Field{"mip6.hi.s_flag", false},
				Field{"mip6.hi.u_flag", true}, Field{"mip6.hi.code", uint64(0)}), items, true)); err != nil {
			return nil, err
		}
		opts, items = splitMH([]mhOption{mhIPv6AddressPrefix(2, 128, newCoA)})
		hack := mh.HandoverAcknowledge{Sequence: 200, Code: 0, Options: opts}
		if err := add(mhSample(cp, "Handover Acknowledge", narAddress, parAddress, nil, hack,
			mhItem(15, "Handover Acknowledge", Field{"mip6.hack.seqnr", uint64(200)}, Field{"mip6.hack.code", uint64(0)}), items, true)); err != nil {
			return nil, err
		}
	}
	// Fast Binding Acknowledgment, PAR to MN at the NCoA (RFC 5568 §6.2.4).
	{
		fbackAuth := make([]byte, 12)
		opts, items := splitMH([]mhOption{badf(fbackAuth)})
		m := mh.FastBindingAcknowledgment{Status: mh.FastStatusAccepted, Sequence: 100, Lifetime: 40 * time.Second, Options: opts}
		if err := authenticateBADF(m, previousCoA, parAddress, fbackAuth); err != nil {
			return nil, err
		}
		if err := add(mhSample(cp, "Fast Binding Acknowledgment with BADF", parAddress, newCoA, nil, m,
			mhItem(9, "Fast Binding Acknowledgment", Field{"mip6.fback.status", uint64(0)}, Field{"mip6.fback.k_flag", false},
				Field{"mip6.fback.seqnr", uint64(100)}, Field{"mip6.fback.lifetime", uint64(40)}), items, true)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// buildDraft builds the HKReq/HKResp exchange of draft-vidya-mipshop-
// handover-keys-aaa-04 §5 at the default codepoints of package mh. No
// dissector knows them, so the items carry no Wireshark fields.
func buildDraft(*keys) ([]Packet, error) {
	var cp mh.Codepoints
	d := mh.DefaultCodepoints()
	ts := mh.NTPTime(Time)
	names := map[uint8]string{d.HandoverNonce: "Handover Nonce", d.MAC: "MAC", d.Timestamp: "Timestamp"}
	opt := func(o mh.Option, typ uint8) mhOption {
		return mhOption{o, Item{Protocol: "mip6", Option: true, Type: typ, Name: names[typ]}}
	}
	reqOpts, reqItems := splitMH([]mhOption{
		opt(mh.HandoverNonce{Subtype: 2, Nonce: pattern(0x20, 16)}, d.HandoverNonce),
		opt(mh.Timestamp{Value: ts}, d.Timestamp),
		opt(mh.MessageAuthenticationCode{Subtype: 1, AlgorithmType: 1, AuthValue: pattern(0x70, 20)}, d.MAC),
	})
	req := mh.HandoverKeyRequest{MessageID: 1, PRF: 1, KeyCareOfAddress: previousCoA, Options: reqOpts}
	respOpts, respItems := splitMH([]mhOption{
		opt(mh.HandoverNonce{Subtype: 1, Nonce: pattern(0x90, 16)}, d.HandoverNonce),
		opt(mh.MessageAuthenticationCode{Subtype: 1, AlgorithmType: 1, AuthValue: pattern(0xe0, 20)}, d.MAC),
	})
	resp := mh.HandoverKeyResponse{MessageID: 1, PRF: 1, Status: mh.HandoverKeyStatusSuccess, Lifetime: 43200 * time.Second, SPI: 0x1000, Options: respOpts}
	p1, err := mhSample(cp, "Handover Key Request (draft)", previousCoA, parAddress, nil, req,
		Item{Protocol: "mip6", Type: d.HandoverKeyRequest, Name: "Handover Key Request"}, reqItems, false)
	if err != nil {
		return nil, err
	}
	p2, err := mhSample(cp, "Handover Key Response (draft)", parAddress, previousCoA, nil, resp,
		Item{Protocol: "mip6", Type: d.HandoverKeyResponse, Name: "Handover Key Response"}, respItems, false)
	if err != nil {
		return nil, err
	}
	return []Packet{p1, p2}, nil
}
