package mip6sa

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/fhkey/fhkey/mip6tls"
	"github.com/fhkey/fhkey/mip6udp"
)

// key returns n octets start, start+1, … (distinct per key, so that a
// swapped direction cannot pass by accident).
func key(t *testing.T, n int, start byte) mip6tls.Key {
	t.Helper()
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	k, err := mip6tls.NewKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fixedSA is an SA with fixed keys for suite s.
func fixedSA(t *testing.T, s mip6udp.Suite) *mip6tls.SecurityAssociation {
	t.Helper()
	sa := &mip6tls.SecurityAssociation{
		SPI: 0x0abcdef, CipherSuite: mip6tls.CipherSuite(s.ID), Scope: mip6tls.SAScopeAll,
		ValidityEnd:     time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
		MNToHAIntegrity: key(t, s.IntegrityKeyLen, 0x10),
		HAToMNIntegrity: key(t, s.IntegrityKeyLen, 0x40),
	}
	if s.EncryptionKeyLen > 0 {
		sa.MNToHAEncryption = key(t, s.EncryptionKeyLen, 0x70)
		sa.HAToMNEncryption = key(t, s.EncryptionKeyLen, 0xa0)
	}
	return sa
}

func pairs(t *testing.T, sa *mip6tls.SecurityAssociation, bs *mip6tls.Bootstrap) (mn, ha *Pair) {
	t.Helper()
	mn, err := New(MobileNode, sa, bs)
	if err != nil {
		t.Fatal(err)
	}
	ha, err = New(HomeAgent, sa, bs)
	if err != nil {
		t.Fatal(err)
	}
	return mn, ha
}

// TestPairsInterwork: for every §5.6.5 suite, what the MN's Out seals the
// HA's In opens and vice versa, with the one SPI of §4.3 on both; a side's
// own In cannot open its own Out (the directions have distinct keys).
func TestPairsInterwork(t *testing.T) {
	bu := []byte{0x3b, 0x01, 0x05, 0x00, 0x00, 0x00, 0x12, 0x34, 0xa0, 0x00, 0x00, 0x40, 0x01, 0x02, 0x00, 0x00}
	for _, s := range mip6udp.Suites() {
		t.Run(s.Name, func(t *testing.T) {
			for _, c := range []struct {
				name   string
				fromMN bool
			}{{"mn to ha", true}, {"ha to mn", false}} {
				// Fresh pairs per direction: the windows start empty.
				mn, ha := pairs(t, fixedSA(t, s), nil)
				from, to := mn, ha
				if !c.fromMN {
					from, to = ha, mn
				}
				pkt, err := from.Out.Seal(nil, mip6udp.PacketTypeMobilityHeader, 135, bu)
				if err != nil {
					t.Fatalf("%s: Seal: %v", c.name, err)
				}
				if got := mip6udp.SPI(uint32(pkt[0]&0x0f)<<24 | uint32(pkt[1])<<16 | uint32(pkt[2])<<8 | uint32(pkt[3])); got != 0x0abcdef {
					t.Errorf("%s: SPI on the wire %#x, want 0xabcdef", c.name, got)
				}
				m, _, err := to.In.Open(nil, pkt)
				if err != nil {
					t.Fatalf("%s: Open: %v", c.name, err)
				}
				if !bytes.Equal(m.Payload, bu) || m.NextHeader != 135 || m.SequenceNumber != 1 {
					t.Errorf("%s: opened %x nh %d seq %d", c.name, m.Payload, m.NextHeader, m.SequenceNumber)
				}
				if _, _, err := from.In.Open(nil, pkt); !errors.Is(err, mip6udp.ErrICV) {
					t.Errorf("%s: own In opened own Out: %v, want ErrICV", c.name, err)
				}
			}
		})
	}
}

// TestFields: SPI, suite, scope, validity and the bootstrapped addresses
// are copied; the HA port defaults to mip6udp.Port (§5.7.2).
func TestFields(t *testing.T) {
	s, _ := mip6udp.LookupSuite(mip6udp.AES128CBCSHA)
	sa := fixedSA(t, s)
	sa.Scope = mip6tls.SAScopeSignaling
	hoa := netip.MustParseAddr("2001:db8:1::100")
	haa := netip.MustParseAddr("2001:db8:1::1")
	for _, c := range []struct {
		name string
		bs   *mip6tls.Bootstrap
		hoa  netip.Addr
		ha   netip.AddrPort
	}{
		{"no bootstrap", nil, netip.Addr{}, netip.AddrPortFrom(netip.Addr{}, mip6udp.Port)},
		{"default port", &mip6tls.Bootstrap{HomeAgent6: haa, HomeAddress6: hoa}, hoa, netip.AddrPortFrom(haa, mip6udp.Port)},
		{"port", &mip6tls.Bootstrap{HomeAgent6: haa, HomeAddress6: hoa, Port: 9000}, hoa, netip.AddrPortFrom(haa, 9000)},
		{"ipv4 only", &mip6tls.Bootstrap{HomeAgent4: netip.MustParseAddr("192.0.2.1"), HomeAddress4: netip.MustParseAddr("192.0.2.9")},
			netip.MustParseAddr("192.0.2.9"), netip.MustParseAddrPort("192.0.2.1:7872")},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := New(HomeAgent, sa, c.bs)
			if err != nil {
				t.Fatal(err)
			}
			if p.SPI != 0x0abcdef || p.Suite.ID != mip6udp.AES128CBCSHA || p.Scope != mip6udp.ScopeSignaling ||
				!p.ValidUntil.Equal(sa.ValidityEnd) || p.HomeAddress != c.hoa || p.HomeAgent != c.ha {
				t.Errorf("got %v", p)
			}
			if !p.Valid(sa.ValidityEnd.Add(-time.Second)) || p.Valid(sa.ValidityEnd) {
				t.Error("Valid: want true before the validity end, false at it")
			}
		})
	}
}

// TestNewErrors: every refusal wraps ErrSA and the mip6udp cause.
func TestNewErrors(t *testing.T) {
	s, _ := mip6udp.LookupSuite(mip6udp.AES128CBCSHA)
	for _, c := range []struct {
		name  string
		side  Side
		edit  func(*mip6tls.SecurityAssociation)
		nilSA bool
		cause error
	}{
		{"nil SA", HomeAgent, nil, true, ErrSA},
		{"bad side", Side(7), nil, false, ErrSA},
		{"scope 2", MobileNode, func(sa *mip6tls.SecurityAssociation) { sa.Scope = 2 }, false, ErrSA},
		{"reserved suite", MobileNode, func(sa *mip6tls.SecurityAssociation) { sa.CipherSuite = 0x0035 }, false, mip6udp.ErrCipherSuite},
		{"SPI 0", HomeAgent, func(sa *mip6tls.SecurityAssociation) { sa.SPI = 0 }, false, mip6udp.ErrSPI},
		{"short mn-to-ha ikey", HomeAgent, func(sa *mip6tls.SecurityAssociation) { sa.MNToHAIntegrity = key(t, 16, 1) }, false, mip6udp.ErrKeyLength},
		{"no ha-to-mn ekey", HomeAgent, func(sa *mip6tls.SecurityAssociation) { sa.HAToMNEncryption.Zero() }, false, mip6udp.ErrKeyLength},
	} {
		t.Run(c.name, func(t *testing.T) {
			sa := fixedSA(t, s)
			if c.edit != nil {
				c.edit(sa)
			}
			if c.nilSA {
				sa = nil
			}
			p, err := New(c.side, sa, nil)
			if p != nil || !errors.Is(err, ErrSA) || !errors.Is(err, c.cause) {
				t.Errorf("New = %v, %v; want ErrSA and %v", p, err, c.cause)
			}
		})
	}
}

// TestStringRedacts: no key octet appears in any formatting of a Pair.
func TestStringRedacts(t *testing.T) {
	s, _ := mip6udp.LookupSuite(mip6udp.AES128CBCSHA)
	sa := fixedSA(t, s)
	mn, _ := pairs(t, sa, nil)
	for _, out := range []string{mn.String(), fmt.Sprintf("%v %+v %#v", mn, mn, mn)} {
		for _, k := range []mip6tls.Key{sa.MNToHAIntegrity, sa.HAToMNIntegrity, sa.MNToHAEncryption, sa.HAToMNEncryption} {
			if strings.Contains(out, fmt.Sprintf("%x", k.Bytes())) {
				t.Errorf("key octets in %q", out)
			}
		}
	}
}
