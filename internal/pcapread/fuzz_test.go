package pcapread

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/capture"
)

// FuzzReadDecode reads any input as a capture and decodes every frame: no
// panic, and every error wraps one of the package's sentinels.
func FuzzReadDecode(f *testing.F) {
	ip := ipv6RS(f)
	var pcap bytes.Buffer
	w, _ := capture.NewWriter(&pcap)
	_ = w.WritePacket(time.Unix(1, 0), ip)
	f.Add(pcap.Bytes())
	f.Add(cat(shb(), idb(LinkTypeEthernet), epb(0, 1, cat(macPAR, macMN, []byte{0x81, 0, 0, 1, 0x86, 0xdd}, ip))))
	f.Add(cat(shb(), idb(LinkTypeSLL2, u16(ngOptionTSResol), u16(1), []byte{0x89, 0, 0, 0}), epb(0, 1, cat(make([]byte, 20), ip))))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewReader(bytes.NewReader(b))
		for i := 0; err == nil && i < 100; i++ {
			var fr Frame
			if fr, err = r.Next(); err != nil {
				break
			}
			if _, derr := Decode(fr.LinkType, fr.Data); derr != nil &&
				!errors.Is(derr, ErrLink) && !errors.Is(derr, ErrNotIPv6) && !errors.Is(derr, ErrLinkType) && !errors.Is(derr, capture.ErrParse) {
				t.Fatalf("Decode error wraps no sentinel: %v", derr)
			}
		}
		if err != nil && err != io.EOF && !errors.Is(err, ErrFormat) {
			t.Fatalf("reader error does not wrap ErrFormat: %v", err)
		}
	})
}

// FuzzDecode decodes any frame under every link type.
func FuzzDecode(f *testing.F) {
	ip := ipv6RS(f)
	f.Add(uint16(LinkTypeEthernet), cat(macPAR, macMN, []byte{0x88, 0xa8, 0, 1, 0x81, 0, 0, 2, 0x86, 0xdd}, ip))
	f.Add(uint16(LinkTypeSLL), cat(make([]byte, 14), []byte{0x86, 0xdd}, ip))
	f.Add(uint16(LinkTypeNull), cat([]byte{30, 0, 0, 0}, ip))
	f.Fuzz(func(t *testing.T, lt uint16, b []byte) {
		p, err := Decode(LinkType(lt), b)
		if err != nil {
			if !errors.Is(err, ErrLink) && !errors.Is(err, ErrNotIPv6) && !errors.Is(err, ErrLinkType) && !errors.Is(err, capture.ErrParse) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		_ = p.Link.String()
		if p.Link.Offset > len(b) {
			t.Fatalf("offset %d beyond %d octets", p.Link.Offset, len(b))
		}
	})
}
