package mh

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
	"time"
)

type messageCase struct {
	name string
	msg  Message // as a caller builds it (no padding options)
	// parsed is what ParseMessage returns for wire (padding kept); nil
	// means msg.
	parsed Message
	wire   []byte
}

var nai = []byte("mn@example.org")

func fbuWithBADF() (Message, Message, []byte) {
	opts := []Option{
		AlternateCareOfAddress{Address: newCoA},
		MobilityHeaderLinkLayerAddress{OptionCode: LinkLayerAddressCodeMN, LinkLayerAddress: mnMAC},
		BindingAuthorizationDataForFMIPv6{SPI: 0, Authenticator: auth96},
	}
	msg := FastBindingUpdate{Sequence: 7, Acknowledge: true, HomeRegistration: true, Lifetime: 40 * time.Second, Options: opts}
	parsed := msg
	parsed.Options = []Option{PadN{N: 2}, opts[0], opts[1], PadN{N: 5}, opts[2]}
	wire := cat(
		b(59),      // Payload Proto: IPPROTO_NONE
		b(7),       // Header Len: 64 octets
		b(8),       // MH Type: FBU
		b(0),       // Reserved
		u16(0),     // Checksum
		u16(7),     // Sequence #
		b(0xc0),    // A, H
		b(0),       // Reserved
		u16(40),    // Lifetime: 40 s
		b(1), b(0), // PadN, 2 octets: Alternate CoA at 8n+6
		b(3), b(16), // Alternate Care-of Address, Length 16
		a16("2001:db8:2::100"),
		b(7), b(7), // MH-LLA, Length 7
		b(2),       // Option-Code: LLA of the MN
		mnMAC,      // LLA
		b(1), b(3), // PadN, 5 octets: BADF ends the header
		zeros(3),     //
		b(21), b(16), // BADF, Length 16 (SPI + Authenticator)
		u32(0), // SPI 0: SEND-based handover key
		auth96, // Authenticator
	)
	return msg, parsed, wire
}

func messageCases() []messageCase {
	fbu, fbuParsed, fbuWire := fbuWithBADF()
	return []messageCase{
		{
			name: "Binding Refresh Request",
			msg:  BindingRefreshRequest{},
			wire: cat(
				b(59),  // Payload Proto
				b(0),   // Header Len: 8 octets, no padding (RFC 6275 §6.1.2)
				b(0),   // MH Type: BRR
				b(0),   // Reserved
				u16(0), // Checksum
				u16(0), // Reserved
			),
		},
		{
			name:   "Binding Update without options",
			msg:    BindingUpdate{Sequence: 0x1234, Acknowledge: true, HomeRegistration: true, LinkLocalCompatibility: true, KeyManagement: true, Lifetime: 400 * time.Second},
			parsed: BindingUpdate{Sequence: 0x1234, Acknowledge: true, HomeRegistration: true, LinkLocalCompatibility: true, KeyManagement: true, Lifetime: 400 * time.Second, Options: []Option{PadN{N: 4}}},
			wire: cat(
				b(59),       // Payload Proto
				b(1),        // Header Len: "4 octets of padding ... Header Len field will be set to 1"
				b(5),        // MH Type: BU
				b(0),        // Reserved
				u16(0),      // Checksum
				u16(0x1234), // Sequence #
				b(0xf0),     // A H L K
				b(0),        // Reserved
				u16(100),    // Lifetime: 100 x 4 s
				b(1), b(2),  // PadN, 4 octets
				zeros(2), //
			),
		},
		{
			name: "Binding Update with RFC 4283/4285 options",
			msg: BindingUpdate{Sequence: 1, Acknowledge: true, HomeRegistration: true, Lifetime: 400 * time.Second, Options: []Option{
				MobileNodeIdentifier{Subtype: MobileNodeIdentifierSubtypeNAI, Identifier: nai},
				MobilityMessageReplayProtection{Timestamp: ntpTS},
				MobilityMessageAuthentication{Subtype: AuthenticationSubtypeMNHA, SPI: 256, AuthenticationData: auth96},
			}},
			parsed: BindingUpdate{Sequence: 1, Acknowledge: true, HomeRegistration: true, Lifetime: 400 * time.Second, Options: []Option{
				MobileNodeIdentifier{Subtype: MobileNodeIdentifierSubtypeNAI, Identifier: nai},
				PadN{N: 5},
				MobilityMessageReplayProtection{Timestamp: ntpTS},
				Pad1{},
				MobilityMessageAuthentication{Subtype: AuthenticationSubtypeMNHA, SPI: 256, AuthenticationData: auth96},
			}},
			wire: cat(
				b(59),       // Payload Proto
				b(7),        // Header Len: 64 octets
				b(5),        // MH Type: BU
				b(0),        // Reserved
				u16(0),      // Checksum
				u16(1),      // Sequence #
				b(0xc0),     // A H
				b(0),        // Reserved
				u16(100),    // Lifetime
				b(8), b(15), // MN-ID, Length 15
				b(1),       // Subtype: NAI
				nai,        // Identifier
				b(1), b(3), // PadN, 5 octets: replay protection at 8n+2
				zeros(3),    //
				b(10), b(8), // Mobility Message Replay Protection, Length 8
				u64(uint64(ntpTS)), // Timestamp
				b(0),               // Pad1: authentication at 4n+1
				b(9), b(17),        // Mobility Message Authentication, Length 17
				b(1),     // Subtype: MN-HA
				u32(256), // Mobility SPI
				auth96,   // Authentication Data
			),
		},
		{
			name: "Binding Acknowledgement",
			msg: BindingAcknowledgement{Status: StatusBindingUpdateAccepted, KeyManagement: true, Sequence: 1, Lifetime: 400 * time.Second, Options: []Option{
				BindingRefreshAdvice{RefreshInterval: 200 * time.Second},
				BindingAuthorizationData{Authenticator: auth96},
			}},
			parsed: BindingAcknowledgement{Status: StatusBindingUpdateAccepted, KeyManagement: true, Sequence: 1, Lifetime: 400 * time.Second, Options: []Option{
				BindingRefreshAdvice{RefreshInterval: 200 * time.Second},
				PadN{N: 2},
				BindingAuthorizationData{Authenticator: auth96},
			}},
			wire: cat(
				b(59),      // Payload Proto
				b(3),       // Header Len: 32 octets
				b(6),       // MH Type: BA
				b(0),       // Reserved
				u16(0),     // Checksum
				b(0),       // Status: accepted
				b(0x80),    // K
				u16(1),     // Sequence #
				u16(100),   // Lifetime
				b(2), b(2), // Binding Refresh Advice, Length 2 (2n)
				u16(50),    // Refresh Interval: 50 x 4 s
				b(1), b(0), // PadN, 2 octets: BAD at 8n+2
				b(5), b(12), // Binding Authorization Data, Length 12
				auth96, // Authenticator
			),
		},
		{name: "Fast Binding Update", msg: fbu, parsed: fbuParsed, wire: fbuWire},
		{
			name: "Fast Binding Acknowledgment",
			msg: FastBindingAcknowledgment{Status: FastStatusAcceptedNCoAInvalid, Sequence: 7, Lifetime: 40 * time.Second, Options: []Option{
				BindingAuthorizationDataForFMIPv6{SPI: 0x01020304, Authenticator: auth96},
			}},
			parsed: FastBindingAcknowledgment{Status: FastStatusAcceptedNCoAInvalid, Sequence: 7, Lifetime: 40 * time.Second, Options: []Option{
				PadN{N: 2},
				BindingAuthorizationDataForFMIPv6{SPI: 0x01020304, Authenticator: auth96},
			}},
			wire: cat(
				b(59),      // Payload Proto
				b(3),       // Header Len: 32 octets
				b(9),       // MH Type: FBack
				b(0),       // Reserved
				u16(0),     // Checksum
				b(1),       // Status: accepted, NCoA invalid
				b(0),       // K clear
				u16(7),     // Sequence #
				u16(40),    // Lifetime: 40 s
				b(1), b(0), // PadN, 2 octets: BADF at 8n+6
				b(21), b(16), // BADF, Length 16
				u32(0x01020304), // SPI
				auth96,          // Authenticator
			),
		},
		{
			name: "Handover Initiate",
			msg: HandoverInitiate{Sequence: 9, AssignedAddress: true, Buffer: true, Code: HandoverInitiateCodeFromPCoA, Options: []Option{
				MobilityHeaderLinkLayerAddress{OptionCode: LinkLayerAddressCodeMN, LinkLayerAddress: mnMAC},
				MobilityHeaderIPv6AddressPrefix{OptionCode: PrefixCodeOldCareOfAddress, PrefixLength: 128, Address: mnCoA},
				MobilityHeaderIPv6AddressPrefix{OptionCode: PrefixCodeNewCareOfAddress, PrefixLength: 128, Address: newCoA},
			}},
			parsed: HandoverInitiate{Sequence: 9, AssignedAddress: true, Buffer: true, Code: HandoverInitiateCodeFromPCoA, Options: []Option{
				MobilityHeaderLinkLayerAddress{OptionCode: LinkLayerAddressCodeMN, LinkLayerAddress: mnMAC},
				Pad1{},
				MobilityHeaderIPv6AddressPrefix{OptionCode: PrefixCodeOldCareOfAddress, PrefixLength: 128, Address: mnCoA},
				PadN{N: 4},
				MobilityHeaderIPv6AddressPrefix{OptionCode: PrefixCodeNewCareOfAddress, PrefixLength: 128, Address: newCoA},
			}},
			wire: cat(
				b(59),      // Payload Proto
				b(7),       // Header Len: 64 octets
				b(14),      // MH Type: HI
				b(0),       // Reserved
				u16(0),     // Checksum
				u16(9),     // Sequence #
				b(0xc0),    // S U, Reserved
				b(0),       // Code 0
				b(7), b(7), // MH-LLA, Length 7
				b(2),         // Option-Code: LLA of the MN
				mnMAC,        // LLA
				b(0),         // Pad1: prefix option at 8n+4
				b(34), b(18), // IPv6 Address/Prefix (34, not 17), Length 18
				b(1),   // Option-Code: Old CoA
				b(128), // Prefix Length
				a16("2001:db8:1::100"),
				b(1), b(2), // PadN, 4 octets: next prefix at 8n+4
				zeros(2),     //
				b(34), b(18), // IPv6 Address/Prefix, Length 18
				b(2),   // Option-Code: New CoA
				b(128), // Prefix Length
				a16("2001:db8:2::100"),
			),
		},
		{
			name: "Handover Acknowledge",
			msg: HandoverAcknowledge{Sequence: 9, Code: HandoverAckNCoAAssigned, Options: []Option{
				MobilityHeaderIPv6AddressPrefix{OptionCode: PrefixCodeNewCareOfAddress, PrefixLength: 128, Address: newCoA},
			}},
			parsed: HandoverAcknowledge{Sequence: 9, Code: HandoverAckNCoAAssigned, Options: []Option{
				PadN{N: 2},
				MobilityHeaderIPv6AddressPrefix{OptionCode: PrefixCodeNewCareOfAddress, PrefixLength: 128, Address: newCoA},
			}},
			wire: cat(
				b(59),      // Payload Proto
				b(3),       // Header Len: 32 octets
				b(15),      // MH Type: HAck
				b(0),       // Reserved
				u16(0),     // Checksum
				u16(9),     // Sequence #
				b(0),       // Reserved
				b(2),       // Code: NCoA assigned
				b(1), b(0), // PadN, 2 octets
				b(34), b(18), // IPv6 Address/Prefix, Length 18
				b(2),   // Option-Code: New CoA
				b(128), // Prefix Length
				a16("2001:db8:2::100"),
			),
		},
		{
			name: "Handover Key Request",
			msg: HandoverKeyRequest{MessageID: 42, PRF: PRFHMACSHA1, KeyCareOfAddress: mnCoA, Options: []Option{
				MobileNodeIdentifier{Subtype: MobileNodeIdentifierSubtypeNAI, Identifier: nai},
				HandoverNonce{Subtype: NonceSubtypeMN, Nonce: seq(8)},
				Timestamp{Value: ntpTS},
				MessageAuthenticationCode{Subtype: MACSubtypeMNHKS, AlgorithmType: AlgorithmTypeHMACSHA1, AuthValue: auth96},
			}},
			parsed: HandoverKeyRequest{MessageID: 42, PRF: PRFHMACSHA1, KeyCareOfAddress: mnCoA, Options: []Option{
				MobileNodeIdentifier{Subtype: MobileNodeIdentifierSubtypeNAI, Identifier: nai},
				HandoverNonce{Subtype: NonceSubtypeMN, Nonce: seq(8)},
				PadN{N: 5},
				Timestamp{Value: ntpTS},
				MessageAuthenticationCode{Subtype: MACSubtypeMNHKS, AlgorithmType: AlgorithmTypeHMACSHA1, AuthValue: auth96},
				PadN{N: 4},
			}},
			wire: cat(
				b(59),                  // Payload Proto
				b(10),                  // Header Len: 88 octets
				b(250),                 // MH Type: HKReq (default codepoint)
				b(0),                   // Reserved
				u16(0),                 // Checksum
				b(42),                  // Message ID
				b(0x10),                // V clear, PRF 1, Reserved
				a16("2001:db8:1::100"), // Key Care of Address
				b(8), b(15),            // MN-ID, Length 15
				b(1),          // Subtype: NAI
				nai,           // Identifier
				b(250), b(10), // Handover Nonce (default 250), Length 10
				b(2),       // Sub-type: MN-Nonce
				b(0),       // Reserved
				seq(8),     // Handover Nonce
				b(1), b(3), // PadN, 5 octets: Timestamp at 8n+2
				zeros(3),     //
				b(252), b(8), // Timestamp (default 252), Length 8
				u64(uint64(ntpTS)), // Timestamp
				b(251), b(14),      // MAC (default 251), Length 14
				b(1),       // Sub-type: MN-HKS
				b(1),       // Reserved, AT: HMAC-SHA-1
				auth96,     // AUTH Value
				b(1), b(2), // PadN, 4 octets: 8-octet multiple
				zeros(2), //
			),
		},
		{
			name: "Handover Key Response",
			msg: HandoverKeyResponse{MessageID: 42, Verified: true, PRF: PRFHMACSHA1, Status: HandoverKeyStatusSuccess, Lifetime: hour, SPI: 0x1000, Options: []Option{
				HandoverNonce{Subtype: NonceSubtypeHKS, Nonce: seq(16)},
				MessageAuthenticationCode{Subtype: MACSubtypeMNAR, AlgorithmType: AlgorithmTypeHMACSHA1, AuthValue: auth96},
			}},
			parsed: HandoverKeyResponse{MessageID: 42, Verified: true, PRF: PRFHMACSHA1, Status: HandoverKeyStatusSuccess, Lifetime: hour, SPI: 0x1000, Options: []Option{
				HandoverNonce{Subtype: NonceSubtypeHKS, Nonce: seq(16)},
				MessageAuthenticationCode{Subtype: MACSubtypeMNAR, AlgorithmType: AlgorithmTypeHMACSHA1, AuthValue: auth96},
				PadN{N: 4},
			}},
			wire: cat(
				b(59),         // Payload Proto
				b(6),          // Header Len: 56 octets
				b(251),        // MH Type: HKResp (default codepoint)
				b(0),          // Reserved
				u16(0),        // Checksum
				b(42),         // Message ID
				b(0x90),       // V, PRF 1, Reserved
				u16(0),        // Status Code: Success
				u16(3600),     // Lifetime: seconds
				u32(0x1000),   // SPI
				b(250), b(18), // Handover Nonce, Length 18
				b(1),          // Sub-type: HKS-Nonce
				b(0),          // Reserved
				seq(16),       // Handover Nonce
				b(251), b(14), // MAC, Length 14
				b(2),       // Sub-type: MN-AR
				b(1),       // AT: HMAC-SHA-1
				auth96,     // AUTH Value
				b(1), b(2), // PadN, 4 octets
				zeros(2), //
			),
		},
		{
			name: "unknown MH Type kept raw",
			msg:  RawMessage{Type: 7, Data: seq(10)},
			wire: cat(
				b(59),   // Payload Proto
				b(1),    // Header Len: 16 octets
				b(7),    // MH Type: Binding Error, not decoded here
				b(0),    // Reserved
				u16(0),  // Checksum
				seq(10), // Message Data, kept as is
			),
		},
	}
}

func TestMessageRoundTrip(t *testing.T) {
	for _, tc := range messageCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MarshalMessage(tc.msg)
			if err != nil {
				t.Fatalf("MarshalMessage: %v", err)
			}
			if !bytes.Equal(got, tc.wire) {
				t.Fatalf("MarshalMessage:\n got %x\nwant %x", got, tc.wire)
			}
			want := tc.parsed
			if want == nil {
				want = tc.msg
			}
			m, err := ParseMessage(tc.wire)
			if err != nil {
				t.Fatalf("ParseMessage: %v", err)
			}
			if !reflect.DeepEqual(m, want) {
				t.Fatalf("ParseMessage:\n got %#v\nwant %#v", m, want)
			}
			again, err := MarshalMessage(m)
			if err != nil {
				t.Fatalf("MarshalMessage(parsed): %v", err)
			}
			if !bytes.Equal(again, tc.wire) {
				t.Fatalf("re-marshal of the parsed message:\n got %x\nwant %x", again, tc.wire)
			}
		})
	}
}

// TestParseIgnoresReserved: reserved fields "MUST be ignored by the
// receiver" (RFC 6275 §6.1.1, §6.1.7); the message still parses the same.
func TestParseIgnoresReserved(t *testing.T) {
	_, parsed, wire := fbuWithBADF()
	w := bytes.Clone(wire)
	w[3] = 0xff  // MH Reserved
	w[9] = 0xff  // BU Reserved (second octet)
	w[8] |= 0x0f // low Reserved bits of the flags octet
	m, err := ParseMessage(w)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m, parsed) {
		t.Fatalf("got %#v, want %#v", m, parsed)
	}
}

func TestCustomCodepoints(t *testing.T) {
	cp := Codepoints{HandoverKeyRequest: 240, HandoverKeyResponse: 241, HandoverNonce: 230, MAC: 231, Timestamp: 232}
	msg := HandoverKeyRequest{MessageID: 1, PRF: PRFHMACSHA1, KeyCareOfAddress: mnCoA, Options: []Option{
		HandoverNonce{Subtype: NonceSubtypeMN, Nonce: seq(4)},
		MessageAuthenticationCode{Subtype: MACSubtypeMNHKS, AlgorithmType: AlgorithmTypeHMACSHA1, AuthValue: auth96},
	}}
	wire := cat(
		b(59),                  // Payload Proto
		b(5),                   // Header Len: 48 octets
		b(240),                 // MH Type: configured HKReq
		b(0),                   // Reserved
		u16(0),                 // Checksum
		b(1),                   // Message ID
		b(0x10),                // PRF 1
		a16("2001:db8:1::100"), // Key Care of Address
		b(230), b(6),           // configured Handover Nonce type, Length 6
		b(2), b(0), // Sub-type MN-Nonce, Reserved
		seq(4),        // Handover Nonce
		b(231), b(14), // configured MAC type, Length 14
		b(1), b(1), // Sub-type MN-HKS, AT HMAC-SHA-1
		auth96, // AUTH Value
	)
	got, err := cp.MarshalMessage(msg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, wire) {
		t.Fatalf("got %x\nwant %x", got, wire)
	}
	m, err := cp.ParseMessage(wire)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m, msg) {
		t.Fatalf("got %#v, want %#v", m, msg)
	}
	// Under the defaults, 240 is an unknown MH Type.
	m, err = ParseMessage(wire)
	if err != nil {
		t.Fatal(err)
	}
	if raw, ok := m.(RawMessage); !ok || raw.Type != 240 {
		t.Fatalf("default codepoints gave %#v, want a RawMessage of type 240", m)
	}
	// And a default-coded HKReq is not one under cp.
	def, err := MarshalMessage(msg)
	if err != nil {
		t.Fatal(err)
	}
	if m, err = cp.ParseMessage(def); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.(RawMessage); !ok {
		t.Fatalf("cp decoded a default HKReq as %T", m)
	}
	if got := DefaultCodepoints(); got != (Codepoints{}).resolved() || got.HandoverKeyRequest != DefaultHandoverKeyRequestType ||
		got.Timestamp != DefaultTimestampOptionType {
		t.Fatalf("DefaultCodepoints() = %+v", got)
	}
}

func TestCodepointsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cp   Codepoints
		ok   bool
	}{
		{"defaults", Codepoints{}, true},
		{"custom", Codepoints{HandoverKeyRequest: 100, HandoverKeyResponse: 101, HandoverNonce: 100, MAC: 101, Timestamp: 102}, true},
		{"HKReq is BU", Codepoints{HandoverKeyRequest: TypeBindingUpdate}, false},
		{"HKResp is HAck", Codepoints{HandoverKeyResponse: TypeHandoverAcknowledge}, false},
		{"HKReq equals HKResp", Codepoints{HandoverKeyRequest: 200, HandoverKeyResponse: 200}, false},
		{"nonce is BADF", Codepoints{HandoverNonce: OptionTypeBADF}, false},
		{"MAC is option 34", Codepoints{MAC: OptionTypeIPv6AddressPrefix}, false},
		{"timestamp is PadN", Codepoints{Timestamp: OptionTypePadN}, false},
		{"MAC equals nonce", Codepoints{MAC: DefaultHandoverNonceOptionType}, false},
	} {
		err := tc.cp.Validate()
		if tc.ok != (err == nil) {
			t.Errorf("%s: Validate() = %v", tc.name, err)
		}
		if err != nil {
			if !errors.Is(err, ErrCodepoints) {
				t.Errorf("%s: %v does not wrap ErrCodepoints", tc.name, err)
			}
			if _, err := tc.cp.ParseMessage(make([]byte, 8)); !errors.Is(err, ErrCodepoints) || !errors.Is(err, ErrParse) {
				t.Errorf("%s: ParseMessage error %v", tc.name, err)
			}
			if _, err := tc.cp.MarshalMessage(BindingRefreshRequest{}); !errors.Is(err, ErrCodepoints) || !errors.Is(err, ErrMarshal) {
				t.Errorf("%s: MarshalMessage error %v", tc.name, err)
			}
		}
	}
}

// buWith returns a Binding Update (12 octets of header and fixed part)
// followed by opts and, if needed, a Pad1 or PadN that makes the length a
// multiple of 8; Header Len is set from the total.
func buWith(opts ...[]byte) []byte {
	m := cat(b(59), b(0), b(5), b(0), u16(0), u16(1), b(0x80), b(0), u16(1), cat(opts...))
	switch p := (8 - len(m)%8) % 8; p {
	case 0:
	case 1:
		m = append(m, 0)
	default:
		m = append(m, cat(b(1, byte(p-2)), zeros(p-2))...)
	}
	m[1] = byte(len(m)/8 - 1)
	return m
}

func TestParseMessageErrors(t *testing.T) {
	_, _, fbu := fbuWithBADF()
	for _, tc := range []struct {
		name  string
		in    []byte
		cause error
	}{
		{"empty", nil, io.ErrUnexpectedEOF},
		{"no Header Len", b(59), io.ErrUnexpectedEOF},
		{"truncated header", b(59, 0, 0, 0, 0), io.ErrUnexpectedEOF},
		{"Header Len beyond input", fbu[:56], io.ErrUnexpectedEOF},
		{"length not a multiple of 8", append(bytes.Clone(fbu), 0), ErrHeaderLen},
		{"trailing octets after Header Len", cat(b(59, 0, 0, 0, 0, 0, 0, 0), zeros(8)), ErrHeaderLen},
		{"Payload Proto not 59", cat(b(6), b(0), b(0), b(0), u16(0), u16(0)), ErrPayloadProto},
		{"BU Header Len 0", cat(b(59), b(0), b(5), b(0), u16(0), u16(0)), ErrHeaderLen},
		{"HKReq Header Len 1", cat(b(59), b(1), b(250), b(0), u16(0), zeros(10)), ErrHeaderLen},
		{"HKResp Header Len 0", cat(b(59), b(0), b(251), b(0), u16(0), zeros(2)), ErrHeaderLen},
		{"option overruns the message", buWith(b(3, 16), a16("2001:db8::1")[:2]), io.ErrUnexpectedEOF},
		{"option without Option Length", buWith(b(1, 1, 0), b(2)), io.ErrUnexpectedEOF},
		{"Binding Refresh Advice Length 3", buWith(b(2, 3), zeros(3), b(0)), ErrOptionLength},
		{"Alternate CoA Length 15", buWith(b(1, 0), b(3, 15), zeros(15), b(1, 0)), ErrOptionLength},
		{"Nonce Indices Length 2", buWith(b(4, 2), zeros(2)), ErrOptionLength},
		{"Binding Authorization Data Length 0", buWith(b(1, 0), b(5, 0)), ErrOptionLength},
		{"MH-LLA Length 0", buWith(b(7, 0), b(1, 0)), ErrOptionLength},
		{"MN-ID Length 0", buWith(b(8, 0), b(1, 0)), ErrOptionLength},
		{"authentication option without data", buWith(b(0), b(9, 5, 1), u32(256), b(1, 2), zeros(2)), ErrOptionLength},
		{"replay protection Length 4", buWith(b(1, 0), b(10, 4), zeros(4), b(1, 2), zeros(2)), ErrOptionLength},
		{"BADF without Authenticator", buWith(b(21, 4), u32(0), b(1, 0)), ErrOptionLength},
		{"IPv6 Address/Prefix Length 16", buWith(b(1, 2), zeros(2), b(34, 16), zeros(16), b(1, 0)), ErrOptionLength},
		{"IPv6 Address/Prefix Prefix Length 129", buWith(b(1, 2, 0, 0), b(34, 18, 1, 129), zeros(16), b(1, 0)), ErrValue},
		{"Handover Nonce without nonce", buWith(b(250, 2, 1, 0)), ErrOptionLength},
		{"MAC without AUTH Value", buWith(b(251, 2, 1, 1)), ErrOptionLength},
		{"Timestamp Length 9", buWith(b(1, 0), b(252, 9), zeros(9), b(0)), ErrOptionLength},
		{"Alternate CoA at 8n+4", buWith(b(3, 16), zeros(16), b(1, 2), zeros(2)), ErrAlignment},
		{"Binding Refresh Advice at odd offset", buWith(b(0), b(2, 2, 0, 1), b(0)), ErrAlignment},
		{"authentication option at 4n", buWith(b(9, 17, 1), u32(256), auth96, b(1, 4), zeros(4)), ErrAlignment},
		{"BADF followed by PadN", buWith(b(21, 8), u32(0), zeros(4), b(1, 0)), ErrBADFNotLast},
		{"BADF followed by Pad1", buWith(b(1, 2, 0, 0), b(21, 5), u32(0), b(9), b(0)), ErrBADFNotLast},
		{"Binding Authorization Data followed by an option", buWith(b(5, 2, 1, 2), b(8, 2, 1, 'x')), ErrBADFNotLast},
		{"two BADF options", buWith(b(1, 0), b(21, 5), u32(0), b(1), b(21, 5), u32(0), b(1)), ErrBADFNotLast},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseMessage(tc.in)
			if err == nil {
				t.Fatalf("ParseMessage(%x) = %#v, want an error", tc.in, m)
			}
			if !errors.Is(err, ErrParse) || !errors.Is(err, tc.cause) {
				t.Fatalf("ParseMessage(%x) = %v, want ErrParse and %v", tc.in, err, tc.cause)
			}
		})
	}
}

func TestMarshalMessageErrors(t *testing.T) {
	long := make([]Option, 9)
	for i := range long {
		long[i] = RawOption{Type: 200, Data: zeros(250)}
	}
	for _, tc := range []struct {
		name  string
		msg   Message
		cause error
	}{
		{"nil message", nil, ErrValue},
		{"BU Lifetime not a multiple of 4 s", BindingUpdate{Lifetime: 3 * time.Second}, ErrValue},
		{"BU Lifetime too long", BindingUpdate{Lifetime: 65536 * 4 * time.Second}, ErrValue},
		{"BA negative Lifetime", BindingAcknowledgement{Lifetime: -4 * time.Second}, ErrValue},
		{"FBU Lifetime not whole seconds", FastBindingUpdate{Lifetime: 1500 * time.Millisecond}, ErrValue},
		{"FBack Lifetime too long", FastBindingAcknowledgment{Lifetime: 65536 * time.Second}, ErrValue},
		{"HKResp Lifetime too long", HandoverKeyResponse{Lifetime: 65536 * time.Second}, ErrValue},
		{"HKReq PRF 8", HandoverKeyRequest{PRF: 8, KeyCareOfAddress: mnCoA}, ErrValue},
		{"HKResp PRF 9", HandoverKeyResponse{PRF: 9}, ErrValue},
		{"HKReq without Key Care of Address", HandoverKeyRequest{PRF: 1}, ErrValue},
		{"BADF not last", FastBindingUpdate{Options: []Option{
			BindingAuthorizationDataForFMIPv6{Authenticator: auth96}, AlternateCareOfAddress{Address: newCoA}}}, ErrBADFNotLast},
		{"BAD followed by Pad1", BindingUpdate{Options: []Option{BindingAuthorizationData{Authenticator: auth96}, Pad1{}}}, ErrBADFNotLast},
		{"raw message not a multiple of 8", RawMessage{Type: 200, Data: zeros(3)}, ErrValue},
		{"message longer than 2048 octets", BindingRefreshRequest{Options: long}, ErrValue},
		{"nil option", BindingRefreshRequest{Options: []Option{nil}}, ErrValue},
		{"option longer than 255", BindingRefreshRequest{Options: []Option{MobileNodeIdentifier{Subtype: 1, Identifier: zeros(255)}}}, ErrValue},
		{"PadN of 1 octet", BindingRefreshRequest{Options: []Option{PadN{N: 1}}}, ErrValue},
		{"PadN of 258 octets", BindingRefreshRequest{Options: []Option{PadN{N: 258}}}, ErrValue},
		{"raw Pad1", BindingRefreshRequest{Options: []Option{RawOption{Type: OptionTypePad1}}}, ErrValue},
		{"raw PadN", BindingRefreshRequest{Options: []Option{RawOption{Type: OptionTypePadN}}}, ErrValue},
		{"Alternate CoA IPv4", BindingUpdate{Options: []Option{AlternateCareOfAddress{Address: addr("192.0.2.1")}}}, ErrValue},
		{"Alternate CoA zero", BindingUpdate{Options: []Option{AlternateCareOfAddress{}}}, ErrValue},
		{"Alternate CoA with zone", BindingUpdate{Options: []Option{AlternateCareOfAddress{Address: addr("fe80::1%eth0")}}}, ErrValue},
		{"Refresh Interval 2 s", BindingAcknowledgement{Options: []Option{BindingRefreshAdvice{RefreshInterval: 2 * time.Second}}}, ErrValue},
		{"empty BAD", BindingUpdate{Options: []Option{BindingAuthorizationData{}}}, ErrValue},
		{"empty BADF", FastBindingUpdate{Options: []Option{BindingAuthorizationDataForFMIPv6{}}}, ErrValue},
		{"empty authentication data", BindingUpdate{Options: []Option{MobilityMessageAuthentication{Subtype: 1}}}, ErrValue},
		{"Prefix Length 129", HandoverInitiate{Options: []Option{MobilityHeaderIPv6AddressPrefix{PrefixLength: 129, Address: mnCoA}}}, ErrValue},
		{"empty nonce", HandoverKeyRequest{KeyCareOfAddress: mnCoA, Options: []Option{HandoverNonce{Subtype: 1}}}, ErrValue},
		{"MAC Algorithm Type 16", HandoverKeyRequest{KeyCareOfAddress: mnCoA, Options: []Option{
			MessageAuthenticationCode{AlgorithmType: 16, AuthValue: auth96}}}, ErrValue},
		{"empty AUTH Value", HandoverKeyRequest{KeyCareOfAddress: mnCoA, Options: []Option{MessageAuthenticationCode{AlgorithmType: 1}}}, ErrValue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MarshalMessage(tc.msg)
			if err == nil {
				t.Fatalf("MarshalMessage = %x, want an error", got)
			}
			if !errors.Is(err, ErrMarshal) || !errors.Is(err, tc.cause) {
				t.Fatalf("MarshalMessage: %v, want ErrMarshal and %v", err, tc.cause)
			}
		})
	}
}
