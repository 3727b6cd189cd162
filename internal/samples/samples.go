package samples

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	_ "embed"
	"encoding/pem"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/fhkey/fhkey/cga"
	"github.com/fhkey/fhkey/internal/capture"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/mh"
	"github.com/fhkey/fhkey/ndp"
)

// File is one sample capture.
type File struct {
	// Name is the file name ("send-fmipv6-nd.pcap"); Path where Write put it.
	Name, Path  string
	Description string
	Packets     []Packet
}

// Packet is one sample packet: the IPv6 packet as written to the capture,
// the message it carries and what a dissector should show for it.
type Packet struct {
	Description string
	// IPv6 is the packet bytes; Packet the same packet parsed.
	IPv6   []byte
	Packet *capture.Packet
	// Message is the ndp.Message (ICMPv6) or mh.Message (Mobility Header)
	// that was marshalled into the packet. Parsing the upper-layer bytes
	// with the same package must give it back.
	Message any
	// Items are the message and its options in wire order, with the
	// expected field values.
	Items []Item
	// Dissected is false for messages Wireshark has no dissector for (the
	// draft's HKReq/HKResp).
	Dissected bool
}

// Item is one message or option of a sample packet.
type Item struct {
	// Protocol is "icmpv6" or "mip6". Option tells an option from the
	// message itself; Type is the ICMPv6 Type, MH Type or option type,
	// Subtype the FMIPv6 subtype of ICMPv6 type 154.
	Protocol string
	Option   bool
	Type     uint8
	Subtype  uint8
	Name     string
	// Fields are the values a dissector should show, keyed by Wireshark
	// field name, in the order Wireshark shows them.
	Fields []Field
}

// Field is one expected value. Value is a uint64, int, bool, string,
// []byte, netip.Addr or time.Time.
type Field struct {
	Name  string
	Value any
}

// Key returns a short label for the item type: "ICMPv6 154/2 RtSolPr",
// "ND option 11 CGA", "MH 5 BU", "MH option 21 BADF".
func (it Item) Key() string {
	switch {
	case it.Protocol == "icmpv6" && it.Option:
		return fmt.Sprintf("ND option %d %s", it.Type, it.Name)
	case it.Protocol == "icmpv6" && it.Type == 154:
		return fmt.Sprintf("ICMPv6 %d/%d %s", it.Type, it.Subtype, it.Name)
	case it.Protocol == "icmpv6":
		return fmt.Sprintf("ICMPv6 %d %s", it.Type, it.Name)
	case it.Option:
		return fmt.Sprintf("MH option %d %s", it.Type, it.Name)
	default:
		return fmt.Sprintf("MH %d %s", it.Type, it.Name)
	}
}

// Build returns the sample files without writing them.
func Build() ([]File, error) {
	k, err := loadKeys()
	if err != nil {
		return nil, err
	}
	var files []File
	for _, f := range []struct {
		name, desc string
		build      func(*keys) ([]Packet, error)
	}{
		{"send-fmipv6-nd.pcap", "ICMPv6 ND, SEND (RFC 3971) and FMIPv6 (RFC 5568) messages with the RFC 5269 handover key options", buildND},
		{"mipv6-fmipv6-mh.pcap", "Mobility Header messages of Mobile IPv6 (RFC 6275), RFC 4283/4285 and FMIPv6 (RFC 5568)", buildMH},
		{"handover-keys-aaa-draft.pcap", "HKReq/HKResp of draft-vidya-mipshop-handover-keys-aaa-04 at fhkey's default codepoints (no Wireshark dissector)", buildDraft},
	} {
		pkts, err := f.build(k)
		if err != nil {
			return nil, fmt.Errorf("samples: %s: %w", f.name, err)
		}
		files = append(files, File{Name: f.name, Description: f.desc, Packets: pkts})
	}
	return files, nil
}

// Time is the capture time of the first sample packet; packets follow one
// second apart.
var Time = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// Write builds the sample files and writes them to dir, which must exist.
func Write(dir string) ([]File, error) {
	files, err := Build()
	if err != nil {
		return nil, err
	}
	for i := range files {
		f := &files[i]
		var buf bytes.Buffer
		w, err := capture.NewWriter(&buf)
		if err != nil {
			return nil, err
		}
		for j, p := range f.Packets {
			if err := w.WritePacket(Time.Add(time.Duration(j)*time.Second), p.IPv6); err != nil {
				return nil, fmt.Errorf("samples: %s packet %d: %w", f.Name, j+1, err)
			}
		}
		f.Path = filepath.Join(dir, f.Name)
		if err := os.WriteFile(f.Path, buf.Bytes(), 0o644); err != nil {
			return nil, fmt.Errorf("samples: %w", err)
		}
	}
	return files, nil
}

//go:embed keys/par-key.pem
var parKeyPEM []byte

//go:embed keys/par-cert.pem
var parCertPEM []byte

//go:embed keys/mn-key.pem
var mnKeyPEM []byte

//go:embed keys/mn-hkepk.pem
var mnHKEPKPEM []byte

// keys are the example keys: the MN's and PAR's CGA/SEND keys (RSA 2048),
// the PAR's self-signed certificate and the MN's handover key encryption
// key (RSA 1024).
type keys struct {
	mn, par, hkepk *rsa.PrivateKey
	parCert        []byte
}

func loadKeys() (*keys, error) {
	parse := func(name string, b []byte) (*rsa.PrivateKey, error) {
		blk, _ := pem.Decode(b)
		if blk == nil {
			return nil, fmt.Errorf("samples: %s: no PEM block", name)
		}
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("samples: %s: %w", name, err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("samples: %s: not an RSA key", name)
		}
		return rk, nil
	}
	var k keys
	var err error
	if k.mn, err = parse("mn-key.pem", mnKeyPEM); err != nil {
		return nil, err
	}
	if k.par, err = parse("par-key.pem", parKeyPEM); err != nil {
		return nil, err
	}
	if k.hkepk, err = parse("mn-hkepk.pem", mnHKEPKPEM); err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(parCertPEM)
	if blk == nil {
		return nil, fmt.Errorf("samples: par-cert.pem: no PEM block")
	}
	k.parCert = blk.Bytes
	return &k, nil
}

// publicKeyDER returns the DER SubjectPublicKeyInfo of k.
func publicKeyDER(k *rsa.PrivateKey) []byte {
	b, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		panic(err) // an RSA public key always marshals
	}
	return b
}

// keyHash is the Key Hash of an RSA Signature option: "the most
// significant (leftmost) 128 bits of a SHA-1 hash of the public key used
// for constructing the signature" (RFC 3971 §5.2).
func keyHash(k *rsa.PrivateKey) [16]byte {
	h := sha1.Sum(publicKeyDER(k))
	return [16]byte(h[:16])
}

// icmpPacket wraps an ICMPv6 message into an IPv6 packet with hop limit
// 255 (RFC 4861 §6.1.1, RFC 3971, RFC 5568 §6.1) and a correct checksum.
func icmpPacket(src, dst netip.Addr, m ndp.Message) ([]byte, *capture.Packet, error) {
	b, err := ndp.MarshalMessage(m)
	if err != nil {
		return nil, nil, err
	}
	p := &capture.Packet{HopLimit: 255, Source: src, Destination: dst, Protocol: inet.ProtocolICMPv6, Payload: b}
	if err := p.SetChecksum(); err != nil {
		return nil, nil, err
	}
	out, err := p.Marshal()
	return out, p, err
}

// mhPacket wraps a Mobility Header message into an IPv6 packet with the
// given extension headers and a correct checksum (RFC 6275 §6.1.1).
func mhPacket(cp mh.Codepoints, src, dst netip.Addr, ext []capture.ExtensionHeader, m mh.Message) ([]byte, *capture.Packet, error) {
	b, err := cp.MarshalMessage(m)
	if err != nil {
		return nil, nil, err
	}
	p := &capture.Packet{HopLimit: 64, Source: src, Destination: dst, ExtensionHeaders: ext, Protocol: inet.ProtocolMobility, Payload: b}
	if err := p.SetChecksum(); err != nil {
		return nil, nil, err
	}
	out, err := p.Marshal()
	return out, p, err
}

// ndLen returns the ND option Length for an option of n octets before
// padding: 8-octet units, rounded up (RFC 4861 §4.6).
func ndLen(n int) uint64 { return uint64((n + 7) / 8) }

// ndPad returns the padding after n octets of an ND option.
func ndPad(n int) int { return int(ndLen(n))*8 - n }

// zeros returns n zero octets (expected padding).
func zeros(n int) []byte { return make([]byte, n) }

// pattern returns n octets start, start+1, ... (mod 256).
func pattern(start byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

// cgaAddress returns the Sec 0 CGA of p (RFC 3972 §4 steps 3-7 with Sec 0,
// so the Hash2 condition always holds): the subnet prefix followed by the
// leftmost 64 bits of SHA-1 over the CGA Parameters, with the Sec bits and
// the "u" and "g" bits cleared.
func cgaAddress(p *cga.Parameters) (netip.Addr, error) {
	enc, err := p.Marshal()
	if err != nil {
		return netip.Addr{}, err
	}
	h := sha1.Sum(enc)
	var a [16]byte
	copy(a[:8], p.SubnetPrefix[:])
	copy(a[8:], h[:8])
	a[8] &^= 0xe0 // Sec = 0
	a[8] &^= 0x03 // "u" and "g" bits
	return netip.AddrFrom16(a), nil
}
