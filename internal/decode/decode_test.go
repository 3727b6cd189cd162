package decode

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/fhkey/fhkey/cga"
	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/capture"
	"github.com/fhkey/fhkey/internal/pcapread"
	"github.com/fhkey/fhkey/internal/samples"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/mh"
	"github.com/fhkey/fhkey/ndp"
	"github.com/fhkey/fhkey/send"
)

var (
	ncoa = netip.MustParseAddr("2001:db8:2::100")
	mac  = []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2}
)

// marshal returns p's bytes, with the ICMPv6 or MH checksum set.
func marshal(t testing.TB, p *capture.Packet) []byte {
	t.Helper()
	if _, ok := capture.ChecksumOffset(p.Protocol); ok && len(p.Payload) >= 8 {
		if err := p.SetChecksum(); err != nil {
			t.Fatal(err)
		}
	}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ether(et uint16, payload []byte) []byte {
	return append(append(append([]byte(nil), mac...), byte(et>>8), byte(et)), payload...)
}

func TestFrameSkipped(t *testing.T) {
	echo := marshal(t, &capture.Packet{HopLimit: 64, Source: pcoa, Destination: arAddr, Protocol: 58, Payload: []byte{128, 0, 0, 0, 0, 1, 0, 1}})
	udp := marshal(t, &capture.Packet{HopLimit: 64, Source: pcoa, Destination: arAddr, Protocol: 17, Payload: make([]byte, 8)})
	cases := []struct {
		name   string
		lt     pcapread.LinkType
		frame  []byte
		reason string
	}{
		{"IPv4 over Ethernet", pcapread.LinkTypeEthernet, ether(0x0800, make([]byte, 20)), "not IPv6"},
		{"ICMPv6 echo", pcapread.LinkTypeEthernet, ether(0x86dd, echo), "ICMPv6 type 128"},
		{"UDP", pcapread.LinkTypeRaw, udp, "next header 17"},
		{"unknown link type", 147, udp, "link type 147"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := &Decoder{}
			if p := d.Frame(1, pcapread.Frame{LinkType: tc.lt, Data: tc.frame, OriginalLength: len(tc.frame)}); p != nil {
				t.Fatalf("decoded %+v, want skipped", p)
			}
			want := Summary{Packets: 1, Skipped: 1, SkippedBy: map[string]int{tc.reason: 1}}
			if d.Summary.Packets != 1 || d.Summary.Skipped != 1 || d.Summary.SkippedBy[tc.reason] != 1 || d.Summary.Failed() {
				t.Errorf("summary %+v, want %+v", d.Summary, want)
			}
		})
	}
}

func TestFrameMalformedAndFragment(t *testing.T) {
	// A Router Solicitation whose option runs past the end.
	rs := marshal(t, &capture.Packet{HopLimit: 255, Source: pcoa, Destination: arAddr, Protocol: 58, Payload: []byte{133, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0}})
	frag := marshal(t, &capture.Packet{HopLimit: 64, Source: pcoa, Destination: arAddr, Protocol: 58, Payload: nil})
	frag[6] = 44 // next header Fragment
	frag = append(frag, 58, 0, 0, 1, 0, 0, 0, 7)
	frag[5] = 8
	d := &Decoder{}
	p := d.Frame(1, pcapread.Frame{LinkType: pcapread.LinkTypeRaw, Data: rs, OriginalLength: len(rs)})
	if p == nil || !errors.Is(p.Err, ndp.ErrParse) || !strings.Contains(p.Err.Error(), "offset 40") {
		t.Fatalf("malformed option: %+v", p)
	}
	cut := rs[:44]
	p = d.Frame(2, pcapread.Frame{LinkType: pcapread.LinkTypeRaw, Data: cut, OriginalLength: len(rs)})
	if p == nil || !errors.Is(p.Err, capture.ErrParse) || !strings.Contains(p.Err.Error(), "snapshot length") {
		t.Fatalf("cut frame: %+v", p)
	}
	p = d.Frame(3, pcapread.Frame{LinkType: pcapread.LinkTypeRaw, Data: frag, OriginalLength: len(frag)})
	if p == nil || p.Err != nil || p.Fragment == nil || p.Fragment.Identification != 7 || !p.Fragment.MoreFragments {
		t.Fatalf("fragment: %+v", p)
	}
	if s := d.Summary; s.Packets != 3 || s.Malformed != 2 || s.Fragments != 1 || s.Decoded != 0 || !s.Failed() {
		t.Errorf("summary %+v", s)
	}
	var buf bytes.Buffer
	for _, j := range []bool{false, true} {
		w := &Writer{W: &buf, JSON: j}
		if err := w.Packet(p); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(buf.String(), "fragment: not decoded") || !strings.Contains(buf.String(), `"fragment":{`) {
		t.Errorf("fragment output:\n%s", buf.String())
	}
}

// sendSample returns the signed RtSolPr of the samples.
func sendSample(t *testing.T) *capture.Packet {
	files, err := samples.Build()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range files[0].Packets {
		if _, ok := p.Message.(*ndp.RouterSolicitationForProxyAdvertisement); ok {
			return p.Packet
		}
	}
	t.Fatal("no RtSolPr sample")
	return nil
}

func verifyIPv6(t *testing.T, d *Decoder, b []byte) *Verification {
	t.Helper()
	p, err := d.Bytes(ProtoIPv6, b)
	if err != nil || p == nil || p.Verify == nil {
		t.Fatalf("Bytes: %+v %v", p, err)
	}
	return p.Verify
}

func TestVerifySEND(t *testing.T) {
	rs := sendSample(t)
	good := marshal(t, rs)
	v := verifyIPv6(t, &Decoder{Verify: true}, good)
	if v.CGA != Valid || v.Signature != Valid || v.MHChecksum != Absent || v.BADF != Absent || v.Reasons != nil || v.Invalid() {
		t.Fatalf("good RtSolPr: %+v", v)
	}
	// The last octet of the signature changed, checksum recomputed.
	bad := *rs
	bad.Payload = append([]byte(nil), rs.Payload...)
	sig := -1
	spans, _ := ndp.OptionSpans(bad.Payload)
	for _, s := range spans {
		if s.Type == ndp.OptionRSASignature {
			sig = s.Offset + 20
		}
	}
	bad.Payload[sig] ^= 0xff
	v = verifyIPv6(t, &Decoder{Verify: true}, marshal(t, &bad))
	if v.CGA != Valid || v.Signature != Invalid || !errors.Is(v.Errors["signature"], send.ErrBadSignature) || v.Reasons["signature"] == "" {
		t.Errorf("corrupted signature: %+v", v)
	}
	// From another address: the CGA does not verify (and the signature,
	// which covers the source, neither).
	moved := *rs
	moved.Source = netip.MustParseAddr("2001:db8:1::dead")
	d := &Decoder{Verify: true}
	v = verifyIPv6(t, d, marshal(t, &moved))
	if v.CGA != Invalid || !errors.Is(v.Errors["cga"], cga.ErrVerify) || v.Signature != Invalid || d.Summary.Invalid != 1 {
		t.Errorf("other source: %+v, summary %+v", v, d.Summary)
	}
}

// fastHandover returns an FBU from ncoa with a Home Address option (pcoa)
// and its FBack, both authenticated with key as internal/ar does.
func fastHandover(t *testing.T, key *hokey.Key, spi uint32) (fbu, fback []byte) {
	t.Helper()
	at := key.Algorithm()
	m := mh.FastBindingUpdate{Sequence: 7, Acknowledge: true, HomeRegistration: true, Lifetime: 10 * time.Second,
		Options: []mh.Option{mh.BindingAuthorizationDataForFMIPv6{SPI: spi, Authenticator: make([]byte, at.AuthenticatorLen())}}}
	b, err := hokey.SignBADF(m, key, ncoa, arAddr, pcoa, arAddr)
	if err != nil {
		t.Fatal(err)
	}
	fbu, _ = (&capture.Packet{HopLimit: 64, Source: ncoa, Destination: arAddr, Protocol: 135,
		ExtensionHeaders: []capture.ExtensionHeader{capture.HomeAddressHeader(pcoa)}, Payload: b}).Marshal()
	a := mh.FastBindingAcknowledgment{Sequence: 7, Lifetime: 10 * time.Second,
		Options: []mh.Option{mh.BindingAuthorizationDataForFMIPv6{SPI: spi, Authenticator: make([]byte, at.AuthenticatorLen())}}}
	b, err = hokey.SignBADF(a, key, ncoa, arAddr, arAddr, ncoa)
	if err != nil {
		t.Fatal(err)
	}
	fback, _ = (&capture.Packet{HopLimit: 64, Source: arAddr, Destination: ncoa, Protocol: 135, Payload: b}).Marshal()
	return fbu, fback
}

func keysFor(t *testing.T, key *hokey.Key, spi uint32) *Keys {
	t.Helper()
	r := keystore.Record{AR: arAddr, MN: pcoa, AT: uint8(key.Algorithm()), SPI: spi, Expires: time.Now().Add(time.Hour)}
	if err := r.SetKey(key.Bytes()); err != nil {
		t.Fatal(err)
	}
	b, err := MarshalKeys([]keystore.Record{r})
	if err != nil {
		t.Fatal(err)
	}
	k, err := ReadKeys(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestVerifyBADF(t *testing.T) {
	key, _ := hokey.GenerateKey(hokey.HMACSHA256Trunc128, rand.Reader)
	other, _ := hokey.GenerateKey(hokey.HMACSHA256Trunc128, rand.Reader)
	fbu, fback := fastHandover(t, &key, 0)
	cases := []struct {
		name    string
		keys    *Keys
		packets [][]byte
		want    []string
		cause   error
	}{
		{"right key", keysFor(t, &key, 0), [][]byte{fbu, fback}, []string{Valid, Valid}, nil},
		{"FBack alone: every key of the PAR", keysFor(t, &key, 0), [][]byte{fback}, []string{Valid}, nil},
		{"no keys file", nil, [][]byte{fbu, fback}, []string{NoKey, NoKey}, nil},
		{"wrong key", keysFor(t, &other, 0), [][]byte{fbu, fback}, []string{Invalid, Invalid}, hokey.ErrAuthenticator},
		{"wrong SPI", keysFor(t, &key, 5), [][]byte{fbu}, []string{Invalid}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := &Decoder{Verify: true, Keys: tc.keys}
			for i, b := range tc.packets {
				v := verifyIPv6(t, d, b)
				if v.BADF != tc.want[i] || v.MHChecksum != Good || v.CGA != Absent || v.Signature != Absent {
					t.Errorf("packet %d: %+v, want badf %s", i, v, tc.want[i])
				}
				if tc.cause != nil && !errors.Is(v.Errors["badf"], tc.cause) {
					t.Errorf("packet %d: cause %v, want %v", i, v.Errors["badf"], tc.cause)
				}
			}
		})
	}
	// A wrong checksum: the pseudo-header source is the Home Address.
	bad := append([]byte(nil), fbu...)
	bad[len(bad)-1] ^= 1
	v := verifyIPv6(t, &Decoder{Verify: true, Keys: keysFor(t, &key, 0)}, bad)
	if v.MHChecksum != Bad || !errors.Is(v.Errors["mh_checksum"], mh.ErrChecksum) || v.BADF != Invalid || !v.Invalid() {
		t.Errorf("corrupted FBU: %+v", v)
	}
}

// FuzzBytes checks that decoding, verifying and printing any input, as an
// IPv6 packet or a bare message, never panics.
func FuzzBytes(f *testing.F) {
	files, err := samples.Build()
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		for _, p := range file.Packets {
			f.Add(uint8(0), p.IPv6)
			f.Add(uint8(1), p.Packet.Payload)
		}
	}
	key, _ := hokey.NewKey(hokey.HMACSHA1Trunc96, make([]byte, 20))
	// A handover key (BADF) and an MSK (MN-HA option): both checks run.
	kf := `[{"ar":"` + arAddr.String() + `","mn":"` + pcoa.String() + `","at":0,"spi":0,"key":"` + hex.EncodeToString(key.Bytes()) + `","expires":"2030-01-01T00:00:00Z"},` +
		strings.Trim(mskKeysFile(exampleMSK(), exampleNAI, arAddr, hokey.HMACSHA256Trunc128), "[]") + `]`
	keys, err := ReadKeys(strings.NewReader(kf))
	if err != nil {
		f.Fatal(err)
	}
	for at := range mskExample {
		fbu, fback := mskPackets(f, at, nil)
		f.Add(uint8(0), fbu)
		f.Add(uint8(0), fback)
	}
	f.Fuzz(func(t *testing.T, mode uint8, b []byte) {
		proto := []string{ProtoIPv6, ProtoICMPv6, ProtoMH}[mode%3]
		d := &Decoder{Verify: proto == ProtoIPv6, Keys: keys}
		p, err := d.Bytes(proto, b)
		if err != nil || p == nil {
			return
		}
		for _, j := range []bool{false, true} {
			var buf bytes.Buffer
			w := &Writer{W: &buf, JSON: j}
			if err := w.Packet(p); err != nil {
				t.Fatal(err)
			}
			if err := w.Summary(&d.Summary); err != nil {
				t.Fatal(err)
			}
		}
	})
}
