package interop

// Fields maps every message and option type fhkey compares with tshark to
// the Wireshark 4.0.17 fields that show its wire fields ("tshark -G
// fields"). Keys are samples.Item.Key values. Fields that Wireshark shows
// but that the samples do not set to distinctive values (Reserved fields,
// padding made of zeros) are listed too, for reference.
var Fields = map[string][]string{
	// RFC 4861 §4.1-§4.4
	"ICMPv6 133 Router Solicitation":    {"icmpv6.type", "icmpv6.code", "icmpv6.checksum", "icmpv6.reserved"},
	"ICMPv6 134 Router Advertisement":   {"icmpv6.type", "icmpv6.code", "icmpv6.checksum", "icmpv6.nd.ra.cur_hop_limit", "icmpv6.nd.ra.flag.m", "icmpv6.nd.ra.flag.o", "icmpv6.nd.ra.flag.rsv", "icmpv6.nd.ra.router_lifetime", "icmpv6.nd.ra.reachable_time", "icmpv6.nd.ra.retrans_timer"},
	"ICMPv6 135 Neighbor Solicitation":  {"icmpv6.type", "icmpv6.code", "icmpv6.checksum", "icmpv6.reserved", "icmpv6.nd.ns.target_address"},
	"ICMPv6 136 Neighbor Advertisement": {"icmpv6.type", "icmpv6.code", "icmpv6.checksum", "icmpv6.nd.na.flag.r", "icmpv6.nd.na.flag.s", "icmpv6.nd.na.flag.o", "icmpv6.nd.na.flag.rsv", "icmpv6.nd.na.target_address"},
	// RFC 3971 §6.4.1, §6.4.2
	"ICMPv6 148 Certification Path Solicitation":  {"icmpv6.type", "icmpv6.code", "icmpv6.checksum", "icmpv6.send.identifier", "icmpv6.send.component"},
	"ICMPv6 149 Certification Path Advertisement": {"icmpv6.type", "icmpv6.code", "icmpv6.checksum", "icmpv6.send.identifier", "icmpv6.send.all_components", "icmpv6.send.component", "icmpv6.reserved"},
	// RFC 5568 §6.1.1, §6.1.2
	"ICMPv6 154/2 RtSolPr": {"icmpv6.type", "icmpv6.code", "icmpv6.checksum", "icmpv6.fmip6.subtype", "icmpv6.reserved", "icmpv6.fmip6.identifier"},
	"ICMPv6 154/3 PrRtAdv": {"icmpv6.type", "icmpv6.code", "icmpv6.checksum", "icmpv6.fmip6.subtype", "icmpv6.reserved", "icmpv6.fmip6.identifier"},

	// ND options: every one starts with icmpv6.opt.type and icmpv6.opt.length.
	"ND option 1 Source Link-layer Address": {"icmpv6.opt.src_linkaddr"},
	"ND option 2 Target Link-layer Address": {"icmpv6.opt.target_linkaddr"},
	"ND option 3 Prefix Information":        {"icmpv6.opt.prefix.length", "icmpv6.opt.prefix.flag.l", "icmpv6.opt.prefix.flag.a", "icmpv6.opt.prefix.flag.r", "icmpv6.opt.prefix.valid_lifetime", "icmpv6.opt.prefix.preferred_lifetime", "icmpv6.opt.prefix"},
	"ND option 5 MTU":                       {"icmpv6.opt.reserved", "icmpv6.opt.mtu"},
	// RFC 3971 §5.1: the CGA Parameters of RFC 3972 §3 in a subtree;
	// the public key is dissected by Wireshark's X.509/PKCS#1 dissectors.
	"ND option 11 CGA":           {"icmpv6.opt.cga.pad_length", "icmpv6.opt.cga.modifier", "icmpv6.opt.cga.subnet_prefix", "icmpv6.opt.cga.count", "x509af.algorithm.id", "pkcs1.modulus", "pkcs1.publicExponent", "icmpv6.opt.cga.ext_type", "icmpv6.opt.cga.ext_length", "icmpv6.opt.cga.ext_data"},
	"ND option 12 RSA Signature": {"icmpv6.opt.rsa.key_hash", "icmpv6.opt.digital_signature_padding"},
	"ND option 13 Timestamp":     {"icmpv6.opt.timestamp"},
	"ND option 14 Nonce":         {"icmpv6.opt.nonce"},
	// Wireshark reuses icmpv6.opt.cga.pad_length for the Trust Anchor Pad
	// Length and icmpv6.opt.name_type for the Certificate's Cert Type.
	"ND option 15 Trust Anchor":                {"icmpv6.opt.name_type", "icmpv6.opt.cga.pad_length", "icmpv6.opt.name_type.fqdn", "icmpv6.opt.name_x501"},
	"ND option 16 Certificate":                 {"icmpv6.opt.name_type", "x509af.serialNumber", "x509sat.uTF8String"},
	"ND option 17 IP Address/Prefix":           {"icmpv6.opt.ipa.option_code", "icmpv6.opt.ipa.prefix_len", "icmpv6.opt.ipa.ipv6_address"},
	"ND option 19 Link-layer Address":          {"icmpv6.opt.lla.option_code", "icmpv6.opt.lla.bytes"},
	"ND option 20 NAACK":                       {"icmpv6.opt.naack.option_code", "icmpv6.opt.naack.status", "icmpv6.opt.naack.supplied_ncoa"},
	"ND option 27 Handover Key Request":        {"icmpv6.opt.hkr.pad_length", "icmpv6.opt.hkr.at", "icmpv6.opt.hkr.reserved", "icmpv6.opt.hkr.encryption_public_key", "icmpv6.opt.hkr.padding"},
	"ND option 28 Handover Key Reply":          {"icmpv6.opt.hkr.pad_length", "icmpv6.opt.hkr.at", "icmpv6.opt.hkr.reserved", "icmpv6.opt.hkr.lifetime", "icmpv6.opt.hkr.encrypted_handover_key", "icmpv6.opt.hkr.padding"},
	"ND option 29 Handover Assist Information": {"icmpv6.opt.hai.option_code", "icmpv6.opt.hai.length", "icmpv6.opt.hai.value"},
	"ND option 30 Mobile Node Identifier":      {"icmpv6.opt.mn.option_code", "icmpv6.opt.mn.length", "icmpv6.opt.mn.value"},

	// Mobility Header (RFC 6275 §6.1.1): every message starts with
	// mip6.proto, mip6.hlen, mip6.mhtype, mip6.reserved, mip6.csum.
	"MH 0 Binding Refresh Request":     {"mip6.binding_refresh_request"},
	"MH 5 Binding Update":              {"mip6.bu.seqnr", "mip6.bu.a_flag", "mip6.bu.h_flag", "mip6.bu.l_flag", "mip6.bu.k_flag", "mip6.bu.lifetime"},
	"MH 6 Binding Acknowledgement":     {"mip6.ba.status", "mip6.ba.k_flag", "mip6.ba.seqnr", "mip6.ba.lifetime"},
	"MH 8 Fast Binding Update":         {"mip6.fbu.seqnr", "mip6.fbu.a_flag", "mip6.fbu.h_flag", "mip6.fbu.l_flag", "mip6.fbu.k_flag", "mip6.fbu.lifetime"},
	"MH 9 Fast Binding Acknowledgment": {"mip6.fback.status", "mip6.fback.k_flag", "mip6.fback.seqnr", "mip6.fback.lifetime"},
	"MH 14 Handover Initiate":          {"mip6.hi.seqnr", "mip6.hi.s_flag", "mip6.hi.u_flag", "mip6.hi.code"},
	"MH 15 Handover Acknowledge":       {"mip6.hack.seqnr", "mip6.hack.code"},

	// Mobility options: "mip6.options.<name>" holds the whole option (its
	// first octet is the type), "mip6.options.<name>_tree" the fields,
	// starting with mip6.mobility_opt.len.
	"MH option 0 Pad1":                                {"mip6.options.pad1"},
	"MH option 1 PadN":                                {"mip6.padn"},
	"MH option 2 Binding Refresh Advice":              {"mip6.bra.interval"},
	"MH option 3 Alternate Care-of Address":           {"mip6.acoa.acoa"},
	"MH option 4 Nonce Indices":                       {"mip6.ni.hni", "mip6.ni.cni"},
	"MH option 5 Binding Authorization Data":          {"mip6.bad.auth"},
	"MH option 7 MH Link-Layer Address":               {"mip6.lla.optcode", "mip6.lla"},
	"MH option 8 Mobile Node Identifier":              {"mip6.mnid.subtype", "mip6.mnid.identifier"},
	"MH option 9 Mobility Message Authentication":     {"mip6.auth.subtype", "mip6.auth.mobility_spi", "mip6.auth.auth_data"},
	"MH option 10 Mobility Message Replay Protection": {"mip6.mseg_id.timestamp"},
	"MH option 21 BADF":                               {"mip6.badff.spi", "mip6.badff.auth"},
	"MH option 34 IPv6 Address/Prefix":                {"mip6.mhipv6ap.opt_code", "mip6.mhipv6ap.len", "mip6.mhipv6ap.ipv6_address"},
}
