package capture

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/testenv"
	"github.com/gopacket/gopacket/pcapgo"
)

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

var (
	linkLocal  = netip.MustParseAddr("fe80::1")
	allRouters = netip.MustParseAddr("ff02::2")
	careOf     = netip.MustParseAddr("2001:db8:9::100")
	home       = netip.MustParseAddr("2001:db8:1::100")
	agent      = netip.MustParseAddr("2001:db8:2::1")
)

func addr(a netip.Addr) []byte { b := a.As16(); return b[:] }

// packetCases are IPv6 packets with their expected bytes, one wire field per
// row. The checksums were computed independently (Python, RFC 8200 §8.1).
var packetCases = []struct {
	name string
	p    Packet
	want []byte
}{
	{
		name: "router solicitation",
		p: Packet{HopLimit: 255, Source: linkLocal, Destination: allRouters, Protocol: 58,
			Payload: []byte{133, 0, 0, 0, 0, 0, 0, 0}},
		want: cat(
			[]byte{0x60, 0x00, 0x00, 0x00}, // version 6, traffic class 0, flow label 0
			[]byte{0x00, 0x08},             // payload length 8
			[]byte{58},                     // next header ICMPv6
			[]byte{255},                    // hop limit
			addr(linkLocal),                // source
			addr(allRouters),               // destination
			[]byte{133, 0},                 // ICMPv6 type RS, code 0
			[]byte{0x7d, 0x36},             // checksum
			[]byte{0, 0, 0, 0},             // reserved
		),
	},
	{
		name: "binding refresh request from a care-of address",
		p: Packet{TrafficClass: 0xb8, FlowLabel: 0x12345, HopLimit: 64, Source: careOf, Destination: agent,
			ExtensionHeaders: []ExtensionHeader{HomeAddressHeader(home)}, Protocol: 135,
			Payload: []byte{59, 0, 0, 0, 0, 0, 0, 0}},
		want: cat(
			[]byte{0x6b, 0x81, 0x23, 0x45}, // version 6, traffic class 0xb8, flow label 0x12345
			[]byte{0x00, 0x20},             // payload length 32
			[]byte{60},                     // next header Destination Options
			[]byte{64},                     // hop limit
			addr(careOf),                   // source: the care-of address
			addr(agent),                    // destination
			[]byte{135},                    // Destination Options: next header Mobility Header
			[]byte{2},                      // Hdr Ext Len: 24 octets
			[]byte{1, 2, 0, 0},             // PadN, 2 octets: Home Address option at 8n+6
			[]byte{201, 16},                // Home Address option, length 16
			addr(home),                     // home address
			[]byte{59, 0},                  // MH: payload proto none, header len 0
			[]byte{0, 0},                   // MH type BRR, reserved
			[]byte{0x67, 0xfa},             // checksum over the home address as source
			[]byte{0, 0},                   // reserved
		),
	},
}

func TestPacketMarshalParse(t *testing.T) {
	for _, tc := range packetCases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			zeroed := append([]byte(nil), p.Payload...)
			p.Payload = zeroed
			if err := p.SetChecksum(); err != nil {
				t.Fatal(err)
			}
			got, err := p.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("Marshal:\n got %x\nwant %x", got, tc.want)
			}
			if zeroed[2] != 0 || zeroed[4] != 0 {
				t.Error("SetChecksum wrote into the caller's payload")
			}
			back, err := Parse(tc.want)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*back, p) {
				t.Fatalf("Parse:\n got %+v\nwant %+v", *back, p)
			}
			if err := back.VerifyChecksum(); err != nil {
				t.Fatal(err)
			}
			back.Payload[len(back.Payload)-1] ^= 1
			if err := back.VerifyChecksum(); !errors.Is(err, ErrChecksum) {
				t.Fatalf("VerifyChecksum after corruption = %v, want ErrChecksum", err)
			}
		})
	}
}

func TestPseudoHeaderAddresses(t *testing.T) {
	p := Packet{Source: careOf, Destination: agent}
	if s, d := p.PseudoHeaderAddresses(); s != careOf || d != agent {
		t.Errorf("no extension headers: got %v %v", s, d)
	}
	p.ExtensionHeaders = []ExtensionHeader{HomeAddressHeader(home)}
	if s, _ := p.PseudoHeaderAddresses(); s != home {
		t.Errorf("with Home Address option: source %v, want %v", s, home)
	}
	// Type 2 Routing header (RFC 6275 §6.4) with Segments Left 1: the
	// final destination is the home address inside it.
	rh := cat([]byte{2, 1, 0, 0, 0, 0}, addr(home))
	p = Packet{Source: agent, Destination: careOf, ExtensionHeaders: []ExtensionHeader{{Protocol: ProtocolRouting, Data: rh}}}
	if _, d := p.PseudoHeaderAddresses(); d != home {
		t.Errorf("with type 2 routing header: destination %v, want %v", d, home)
	}
	rh[1] = 0
	if _, d := p.PseudoHeaderAddresses(); d != careOf {
		t.Errorf("segments left 0: destination %v, want %v", d, careOf)
	}
}

func TestParseErrors(t *testing.T) {
	good := packetCases[1].want
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	cases := []struct {
		name  string
		in    []byte
		trunc bool
	}{
		{"empty", nil, true},
		{"short fixed header", good[:39], true},
		{"version 4", mod(func(b []byte) []byte { b[0] = 0x45; return b }), false},
		{"payload length beyond data", good[:len(good)-1], true},
		{"trailing octets", append(append([]byte(nil), good...), 0), false},
		{"extension header beyond data", mod(func(b []byte) []byte { b[41] = 9; return b }), true},
		{"option beyond header", mod(func(b []byte) []byte { b[47] = 17; return b }), true},
		{"extension header length octet missing", mod(func(b []byte) []byte {
			b = b[:41]
			b[5] = 1
			return b
		}), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.in)
			if !errors.Is(err, ErrParse) {
				t.Fatalf("Parse = %v, want ErrParse", err)
			}
			if got := errors.Is(err, io.ErrUnexpectedEOF); got != tc.trunc {
				t.Fatalf("errors.Is(err, io.ErrUnexpectedEOF) = %v, want %v (%v)", got, tc.trunc, err)
			}
		})
	}
}

func TestMarshalErrors(t *testing.T) {
	cases := []struct {
		name string
		p    Packet
	}{
		{"IPv4 source", Packet{Source: netip.MustParseAddr("192.0.2.1"), Destination: agent}},
		{"no destination", Packet{Source: careOf}},
		{"flow label over 20 bits", Packet{Source: careOf, Destination: agent, FlowLabel: 1 << 20}},
		{"extension header not 8n", Packet{Source: careOf, Destination: agent, ExtensionHeaders: []ExtensionHeader{{Protocol: 60, Data: []byte{1}}}}},
		{"unknown extension header", Packet{Source: careOf, Destination: agent, ExtensionHeaders: []ExtensionHeader{{Protocol: 44, Data: make([]byte, 6)}}}},
		{"payload too long", Packet{Source: careOf, Destination: agent, Payload: make([]byte, 0x10000)}},
	}
	for _, tc := range cases {
		if _, err := tc.p.Marshal(); err == nil {
			t.Errorf("%s: Marshal succeeded", tc.name)
		}
	}
	p := Packet{Source: careOf, Destination: agent, Protocol: 17, Payload: make([]byte, 8)}
	if err := p.SetChecksum(); err == nil {
		t.Error("SetChecksum for UDP succeeded")
	}
	p = Packet{Source: careOf, Destination: agent, Protocol: 135, Payload: make([]byte, 5)}
	if err := p.SetChecksum(); err == nil {
		t.Error("SetChecksum on a 5-octet Mobility Header succeeded")
	}
	if err := p.VerifyChecksum(); !errors.Is(err, ErrParse) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("VerifyChecksum on a 5-octet Mobility Header = %v", err)
	}
}

func TestPcapWriteRead(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2024, 1, 2, 3, 4, 5, 678901000, time.UTC)
	if err := w.WritePacket(ts, []byte{0x60, 1, 2}); err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(ts.Add(time.Second), nil); err != nil {
		t.Fatal(err)
	}
	want := cat(
		[]byte{0xd4, 0xc3, 0xb2, 0xa1}, // magic, microseconds, little endian
		[]byte{2, 0, 4, 0},             // version 2.4
		[]byte{0, 0, 0, 0},             // thiszone
		[]byte{0, 0, 0, 0},             // sigfigs
		[]byte{0x27, 0x00, 0x01, 0x00}, // snaplen 65575
		[]byte{101, 0, 0, 0},           // LINKTYPE_RAW
		[]byte{0x25, 0x7d, 0x93, 0x65}, // ts_sec 1704164645
		[]byte{0xf5, 0x5b, 0x0a, 0x00}, // ts_usec 678901
		[]byte{3, 0, 0, 0},             // incl_len
		[]byte{3, 0, 0, 0},             // orig_len
		[]byte{0x60, 1, 2},             // data
		[]byte{0x26, 0x7d, 0x93, 0x65}, // ts_sec + 1
		[]byte{0xf5, 0x5b, 0x0a, 0x00}, // ts_usec
		[]byte{0, 0, 0, 0},             // incl_len
		[]byte{0, 0, 0, 0},             // orig_len
	)
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("file:\n got %x\nwant %x", buf.Bytes(), want)
	}
	// Read back by an independent reader (gopacket's pcapgo).
	r, err := pcapgo.NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if uint32(r.LinkType()) != LinkTypeRaw {
		t.Errorf("LinkType = %d", r.LinkType())
	}
	data, ci, err := r.ReadPacketData()
	if err != nil {
		t.Fatal(err)
	}
	if !ci.Timestamp.Equal(ts) || !bytes.Equal(data, []byte{0x60, 1, 2}) || ci.Length != 3 {
		t.Errorf("record 1 = %x %+v", data, ci)
	}
	if data, _, err = r.ReadPacketData(); err != nil || len(data) != 0 {
		t.Errorf("record 2 = %x, %v", data, err)
	}
	if _, _, err := r.ReadPacketData(); err != io.EOF {
		t.Errorf("after the last record: %v, want io.EOF", err)
	}
}

func TestTsharkReadsCapture(t *testing.T) {
	tshark := testenv.RequireTool(t, "tshark")
	path := filepath.Join(t.TempDir(), "t.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range packetCases {
		if err := w.WritePacket(time.Unix(1700000000, 0), tc.want); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tshark, "-r", path, "-T", "fields", "-E", "separator=,",
		"-e", "ipv6.src", "-e", "ipv6.dst", "-e", "icmpv6.type", "-e", "icmpv6.checksum.status",
		"-e", "ipv6.opt.mipv6.home_address", "-e", "mip6.mhtype", "-e", "mip6.csum").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	want := "fe80::1,ff02::2,133,1,,,\n" +
		"2001:db8:9::100,2001:db8:2::1,,,2001:db8:1::100,0,0x67fa\n"
	if string(out) != want {
		t.Fatalf("tshark fields:\n%s\nwant:\n%s", out, want)
	}
}

func FuzzParse(f *testing.F) {
	for _, tc := range packetCases {
		f.Add(tc.want)
	}
	f.Add(cat(packetCases[0].want[:4], []byte{0, 8, 0, 0}, make([]byte, 32), []byte{58, 0, 1, 4, 0, 0, 0, 0}))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrParse) {
				t.Fatalf("error does not wrap ErrParse: %v", err)
			}
			return
		}
		out, err := p.Marshal()
		if err != nil {
			t.Fatalf("Marshal after Parse: %v", err)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("re-marshal differs:\n got %x\nwant %x", out, b)
		}
		q, err := Parse(out)
		if err != nil || !reflect.DeepEqual(p, q) {
			t.Fatalf("re-parse: %v", err)
		}
		_, _, _ = p.Checksum()
		_, _ = p.PseudoHeaderAddresses()
	})
}

func BenchmarkParse(b *testing.B) {
	in := packetCases[1].want
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := Parse(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalWithChecksum(b *testing.B) {
	p := packetCases[1].p
	buf := make([]byte, 0, 128)
	b.SetBytes(int64(p.Len()))
	for b.Loop() {
		q := p
		if err := q.SetChecksum(); err != nil {
			b.Fatal(err)
		}
		if _, err := q.AppendTo(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}
