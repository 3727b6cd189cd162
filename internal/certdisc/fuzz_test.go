package certdisc

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/fhkey/fhkey/certpath"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/ndp"
)

const fuzzID = 0x1234

// FuzzHandleCPA feeds arbitrary payloads to a Solicitor with an
// outstanding solicitation (Identifier 0x1234 to fe80::1). The checksum is
// fixed up so that the parser and the assembly are reached. Nothing may
// panic; every rejection wraps one sentinel; an accepted message must be a
// CPA that re-marshals to the same octets, and at most maxSources paths
// per exchange reach verification.
func FuzzHandleCPA(f *testing.F) {
	l := testLab()
	dst := SolicitedNodeMulticast(hostLL)
	seed := func(m *ndp.CertificationPathAdvertisement) {
		b, err := ndp.MarshalMessage(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(255))
	}
	seed(component(fuzzID, 2, 1, l.caDER))
	seed(component(fuzzID, 2, 0, l.routerDER))
	seed(component(0, 1, 0, l.routerDER))
	seed(component(fuzzID, 2, 2, l.routerDER))
	seed(component(fuzzID, 200, 0, l.routerDER))
	seed(&ndp.CertificationPathAdvertisement{Identifier: fuzzID, Options: []ndp.Option{derName(l.anchor)}})
	seed(&ndp.CertificationPathAdvertisement{Identifier: fuzzID, AllComponents: 1, Options: []ndp.Option{
		&ndp.Certificate{CertType: 1, Certificate: l.caDER}, &ndp.Certificate{CertType: 1, Certificate: l.routerDER}}})
	f.Add([]byte{149, 0, 0, 0, 0x12, 0x34, 0, 1, 0, 0, 0, 0}, uint8(255))
	f.Add([]byte{149, 0, 0, 0, 0x12, 0x34, 0, 1, 0, 0, 0, 0, 16, 0}, uint8(255))
	f.Add([]byte{149}, uint8(64))
	f.Add([]byte{148, 0, 0, 0, 0x12, 0x34, 0xff, 0xff}, uint8(255))

	f.Fuzz(func(t *testing.T, payload []byte, hop uint8) {
		s, err := NewSolicitor(discardConn{addr: hostLL}, SolicitorConfig{Anchors: []*certpath.TrustAnchor{l.anchor}})
		if err != nil {
			t.Fatal(err)
		}
		ex := s.pending(fuzzID, routerLL)
		b := append([]byte(nil), payload...)
		if len(b) >= 4 {
			binary.BigEndian.PutUint16(b[2:], 0)
			binary.BigEndian.PutUint16(b[2:], ndp.Checksum(routerLL, dst, b))
		}
		p := netio.Packet{Src: routerLL, Dst: dst, HopLimit: hop, NextHeader: 58, Payload: b}
		// Twice: the second must be a duplicate or be dropped again.
		for range 2 {
			err := s.HandlePacket(p)
			if err != nil {
				n := 0
				for _, e := range []error{ErrParse, ErrHopLimit, ErrNotCertificationPath, ErrUnmatched, ErrDuplicate, ErrInconsistent} {
					if errors.Is(err, e) {
						n++
					}
				}
				if n != 1 {
					t.Fatalf("error wraps %d sentinels: %v", n, err)
				}
				continue
			}
			m, perr := ndp.ParseMessage(b)
			if perr != nil {
				t.Fatalf("accepted but does not parse: %v", perr)
			}
			if _, ok := m.(*ndp.CertificationPathAdvertisement); !ok {
				t.Fatalf("accepted a %s", m.Name())
			}
			if out, merr := ndp.MarshalMessage(m); merr != nil || string(out) != string(b) {
				t.Fatalf("re-marshal: %v\n got %x\nwant %x", merr, out, b)
			}
		}
		if n := len(ex.candidates); n > maxSources {
			t.Fatalf("%d candidates", n)
		}
		for len(ex.candidates) > 0 {
			c := <-ex.candidates
			if !c.noPath && (len(c.path) == 0 || len(c.path) > maxComponents) {
				t.Fatalf("candidate path of %d certificates", len(c.path))
			}
		}
	})
}

// TestHandleCPADrops is the negative table of the host's validity checks
// (RFC 3971 §6.4.6).
func TestHandleCPADrops(t *testing.T) {
	l := testLab()
	dst := SolicitedNodeMulticast(hostLL)
	fix := func(b []byte) []byte {
		binary.BigEndian.PutUint16(b[2:], 0)
		binary.BigEndian.PutUint16(b[2:], ndp.Checksum(routerLL, dst, b))
		return b
	}
	for _, tc := range []struct {
		name  string
		build func() netio.Packet
		want  error
	}{
		{"hop limit 254", func() netio.Packet {
			p := cpaPacket(t, component(fuzzID, 2, 1, l.caDER), routerLL, dst)
			p.HopLimit = 254
			return p
		}, ErrHopLimit},
		{"bad checksum", func() netio.Packet {
			p := cpaPacket(t, component(fuzzID, 2, 1, l.caDER), routerLL, dst)
			p.Payload[3] ^= 0x80
			return p
		}, ndp.ErrChecksum},
		{"truncated fixed fields", func() netio.Packet {
			p := cpaPacket(t, component(fuzzID, 2, 1, l.caDER), routerLL, dst)
			p.Payload = fix(p.Payload[:10])
			return p
		}, ErrParse},
		{"truncated certificate", func() netio.Packet {
			p := cpaPacket(t, component(fuzzID, 2, 1, l.caDER), routerLL, dst)
			p.Payload = fix(p.Payload[:len(p.Payload)-8])
			return p
		}, ErrParse},
		{"component not below all components", func() netio.Packet { return cpaPacket(t, component(fuzzID, 2, 2, l.caDER), routerLL, dst) }, ErrParse},
		{"all components beyond the path limit", func() netio.Packet { return cpaPacket(t, component(fuzzID, 10, 9, l.caDER), routerLL, dst) }, ErrInconsistent},
		{"unknown identifier", func() netio.Packet { return cpaPacket(t, component(fuzzID+1, 2, 1, l.caDER), routerLL, dst) }, ErrUnmatched},
		{"identifier zero from another router", func() netio.Packet {
			return cpaPacket(t, component(0, 2, 1, l.caDER), host2LL, AllNodes)
		}, ErrUnmatched},
		{"not a CPA", func() netio.Packet {
			return cpsPacket(t, &ndp.CertificationPathSolicitation{Identifier: fuzzID, Component: AllComponents}, routerLL, dst)
		}, ErrNotCertificationPath},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSolicitor(discardConn{addr: hostLL}, SolicitorConfig{Anchors: []*certpath.TrustAnchor{l.anchor}})
			if err != nil {
				t.Fatal(err)
			}
			ex := s.pending(fuzzID, routerLL)
			if err := s.HandlePacket(tc.build()); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if len(ex.sources) != 0 && ex.sources[routerLL] != nil && ex.sources[routerLL].have != 0 {
				t.Fatal("component stored")
			}
		})
	}
}

// TestHandleCPAMultiCertificate: a single-component advertisement carrying
// the whole path in order is accepted.
func TestHandleCPAMultiCertificate(t *testing.T) {
	l := testLab()
	s, err := NewSolicitor(discardConn{addr: hostLL}, SolicitorConfig{Anchors: []*certpath.TrustAnchor{l.anchor}})
	if err != nil {
		t.Fatal(err)
	}
	ex := s.pending(fuzzID, routerLL)
	m := &ndp.CertificationPathAdvertisement{Identifier: fuzzID, AllComponents: 1, Options: []ndp.Option{
		derName(l.anchor), &ndp.Certificate{CertType: 1, Certificate: l.caDER}, &ndp.Certificate{CertType: 1, Certificate: l.routerDER}}}
	if err := s.HandlePacket(cpaPacket(t, m, routerLL, SolicitedNodeMulticast(hostLL))); err != nil {
		t.Fatal(err)
	}
	c := <-ex.candidates
	if len(c.path) != 2 || string(c.path[0]) != string(l.caDER) || string(c.path[1]) != string(l.routerDER) {
		t.Fatalf("candidate %d certificates", len(c.path))
	}
}
