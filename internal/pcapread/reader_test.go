package pcapread

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/capture"
	"github.com/fhkey/fhkey/internal/testenv"
)

var le = binary.LittleEndian

func u16(v uint16) []byte { return le.AppendUint16(nil, v) }
func u32(v uint32) []byte { return le.AppendUint32(nil, v) }

// block is a little-endian pcapng block: type, total length, body, total
// length again.
func block(typ uint32, body ...[]byte) []byte {
	b := cat(body...)
	n := uint32(12 + len(b))
	return cat(u32(typ), u32(n), b, u32(n))
}

func shb() []byte {
	return block(ngBlockSectionHeader,
		u32(ngByteOrderMagic), // byte-order magic
		u16(1), u16(0),        // version 1.0
		[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) // section length unknown
}

func idb(lt LinkType, opts ...[]byte) []byte {
	return block(ngBlockInterface, u16(uint16(lt)), u16(0), u32(0), cat(opts...)) // link type, reserved, snaplen 0
}

// epb is an Enhanced Packet Block on interface iface at ts (µs).
func epb(iface uint32, ts uint64, data []byte) []byte {
	pad := make([]byte, (4-len(data)%4)%4)
	return block(ngBlockEnhancedPacket, u32(iface), u32(uint32(ts>>32)), u32(uint32(ts)),
		u32(uint32(len(data))), u32(uint32(len(data))), data, pad)
}

func readAll(t *testing.T, b []byte) []Frame {
	t.Helper()
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var out []Frame
	for {
		f, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
}

func TestReadPcap(t *testing.T) {
	ip := ipv6RS(t)
	var buf bytes.Buffer
	w, _ := capture.NewWriter(&buf)
	ts := time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC)
	_ = w.WritePacket(ts, ip)
	if Sniff(buf.Bytes()) != FormatPcap {
		t.Fatal("not sniffed as pcap")
	}
	got := readAll(t, buf.Bytes())
	want := []Frame{{Time: ts, LinkType: LinkTypeRaw, Data: ip, OriginalLength: len(ip)}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

// TestReadPcapng reads a two-interface pcapng file (Ethernet and SLL2).
func TestReadPcapng(t *testing.T) {
	ip := ipv6RS(t)
	eth := cat(macPAR, macMN, []byte{0x86, 0xdd}, ip)
	sll2 := cat([]byte{0x86, 0xdd, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6}, macMN, []byte{0, 0}, ip)
	file := cat(shb(),
		idb(LinkTypeEthernet, u16(ngOptionTSResol), u16(1), []byte{9, 0, 0, 0}, u16(0), u16(0)), // ns resolution
		idb(LinkTypeSLL2),
		epb(0, 1_700_000_000_123456789, eth),
		epb(1, 1_700_000_001_000000, sll2))
	if Sniff(file) != FormatPcapng {
		t.Fatal("not sniffed as pcapng")
	}
	got := readAll(t, file)
	want := []Frame{
		{Time: time.Unix(1_700_000_000, 123456789).UTC(), LinkType: LinkTypeEthernet, Data: eth, OriginalLength: len(eth)},
		{Time: time.Unix(1_700_000_001, 0).UTC(), LinkType: LinkTypeSLL2, Data: sll2, OriginalLength: len(sll2)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	for _, f := range got {
		if _, err := Decode(f.LinkType, f.Data); err != nil {
			t.Error(err)
		}
	}
}

func TestReaderErrors(t *testing.T) {
	ip := ipv6RS(t)
	good := cat(shb(), idb(LinkTypeRaw), epb(0, 1, ip))
	var pcap bytes.Buffer
	w, _ := capture.NewWriter(&pcap)
	_ = w.WritePacket(time.Unix(1, 0), ip)
	setLen := func(b []byte, off int, v uint32) []byte {
		b = append([]byte(nil), b...)
		le.PutUint32(b[off:], v)
		return b
	}
	epbOff := len(shb()) + len(idb(LinkTypeRaw))
	cases := []struct {
		name  string
		in    []byte
		trunc bool
	}{
		{"empty", nil, true},
		{"hex text", []byte("6000000000080000"), false},
		{"pcap header cut", pcap.Bytes()[:20], true},
		{"pcap record cut", pcap.Bytes()[:pcap.Len()-1], true},
		{"pcap record header cut", pcap.Bytes()[:30], true},
		{"pcap record over snaplen", setLen(pcap.Bytes(), 32, MaxSnaplen+1), false},
		{"pcapng byte order", setLen(good, 8, 0x01020304), false},
		{"pcapng block cut", good[:len(good)-2], true},
		{"pcapng block length not 4n", setLen(good, epbOff+4, uint32(len(epb(0, 1, ip))-2)), false},
		{"pcapng block length huge", setLen(good, epbOff+4, 0xfffffff0), false},
		{"pcapng trailing length differs", setLen(good, len(good)-4, 12), false},
		{"pcapng captured length beyond block", setLen(good, epbOff+20, 0x7fffffff), false},
		{"pcapng unknown interface", setLen(good, epbOff+8, 1), false},
		{"pcapng packet before section", cat(idb(LinkTypeRaw), shb()), false},
		{"pcapng if_tsresol 2^-100", cat(shb(), idb(LinkTypeRaw, u16(ngOptionTSResol), u16(1), []byte{0x80 | 100, 0, 0, 0}), epb(0, 1, ip)), false},
		{"pcapng option overruns", cat(shb(), idb(LinkTypeRaw, u16(2), u16(200), []byte{'x', 0, 0, 0}), epb(0, 1, ip)), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tc.in))
			for err == nil {
				_, err = r.Next()
			}
			if err == io.EOF || !errors.Is(err, ErrFormat) {
				t.Fatalf("got %v, want ErrFormat", err)
			}
			if got := errors.Is(err, io.ErrUnexpectedEOF); got != tc.trunc {
				t.Errorf("truncation %v, want %v (%v)", got, tc.trunc, err)
			}
		})
	}
}

// samplePcap writes a LINKTYPE_RAW pcap of a few packets and returns its
// path and records.
func samplePcap(t *testing.T) (string, [][]byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := capture.NewWriter(f)
	var recs [][]byte
	for i := range 3 {
		p := capture.Packet{HopLimit: 64, Source: src, Destination: dst, Protocol: 135,
			ExtensionHeaders: []capture.ExtensionHeader{capture.HomeAddressHeader(home)},
			Payload:          []byte{59, 0, 0, 0, 0, 0, byte(i), 0}}
		_ = p.SetChecksum()
		b, _ := p.Marshal()
		recs = append(recs, b)
		if err := w.WritePacket(time.Unix(1_700_000_000+int64(i), 0), b); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path, recs
}

// TestReadToolPcapng reads pcapng files written by Wireshark's tools from
// a pcap of ours: editcap -F pcapng and tshark -w (pcapng by default).
func TestReadToolPcapng(t *testing.T) {
	in, recs := samplePcap(t)
	for _, tool := range testenv.PcapngTools {
		t.Run(tool, func(t *testing.T) {
			out := testenv.ToPcapng(t, tool, in)
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if Sniff(b) != FormatPcapng {
				t.Fatalf("%s wrote %x..., not pcapng", tool, b[:min(8, len(b))])
			}
			frames := readAll(t, b)
			if len(frames) != len(recs) {
				t.Fatalf("%d frames, want %d", len(frames), len(recs))
			}
			for i, f := range frames {
				if !bytes.Equal(f.Data, recs[i]) || f.Time.Unix() != 1_700_000_000+int64(i) {
					t.Errorf("frame %d: %+v", i, f)
				}
				p, err := Decode(f.LinkType, f.Data)
				if err != nil || p.IPv6.VerifyChecksum() != nil {
					t.Errorf("frame %d (link type %d): %v", i, f.LinkType, err)
				}
			}
		})
	}
}
