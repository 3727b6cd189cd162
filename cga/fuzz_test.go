package cga

import (
	"bytes"
	"crypto/rsa"
	"errors"
	"net/netip"
	"reflect"
	"testing"
)

func FuzzParseParameters(f *testing.F) {
	for _, tc := range paramsCases {
		f.Add(unhex(f, tc.wire))
	}
	f.Add(appendixParams(f))
	f.Add([]byte{})
	f.Add(make([]byte, fixedLen))
	f.Add(append(make([]byte, fixedLen), 0x30, 0x84, 0x00, 0xff, 0xff, 0xff))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseParameters(b)
		if err != nil {
			if !errors.Is(err, ErrParse) {
				t.Fatalf("error %v does not wrap ErrParse", err)
			}
			return
		}
		out, err := p.Marshal()
		if err != nil {
			t.Fatalf("Marshal of parsed parameters: %v", err)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("re-encoding differs:\n got %x\nwant %x", out, b)
		}
		if p.Len() != len(b) {
			t.Fatalf("Len = %d, want %d", p.Len(), len(b))
		}
		q, err := ParseParameters(out)
		if err != nil || !reflect.DeepEqual(p, q) {
			t.Fatalf("re-parse: %v, %+v vs %+v", err, q, p)
		}
	})
}

func FuzzVerify(f *testing.F) {
	addr := netip.MustParseAddr(appendixAddress).As16()
	params := appendixParams(f)
	f.Add(addr[:], params)
	ug := addr
	ug[8] |= 0x03
	f.Add(ug[:], params)
	bad := append([]byte(nil), params...)
	bad[24] = 3
	f.Add(addr[:], bad)
	a, b := sec0CGA(f, testKey(f, "1024"))
	a16 := a.As16()
	f.Add(a16[:], b)
	a, b = sec0CGA(f, []byte{0x30, 0x03, 0x02, 0x01, 0x05})
	a16 = a.As16()
	f.Add(a16[:], b)
	f.Fuzz(func(t *testing.T, addrBytes, params []byte) {
		if len(addrBytes) != 16 {
			return
		}
		addr := netip.AddrFrom16([16]byte(addrBytes))
		k, err := Verify(addr, params)
		if err != nil {
			if !errors.Is(err, ErrVerify) || k != nil {
				t.Fatalf("error %v (key %v) does not wrap ErrVerify or comes with a key", err, k)
			}
			return
		}
		if _, ok := k.(*rsa.PublicKey); !ok {
			t.Fatalf("key %T %v", k, k)
		}
		// A valid CGA: its parameters re-encode identically and re-form the
		// address up to the ignored bits.
		p, err := ParseParameters(params)
		if err != nil {
			t.Fatalf("verified parameters do not parse: %v", err)
		}
		if out, err := p.Marshal(); err != nil || !bytes.Equal(out, params) {
			t.Fatalf("re-encoding: %v", err)
		}
		sec := SecOf(addr)
		re, err := p.Address(sec)
		if err != nil {
			t.Fatal(err)
		}
		want := addr.As16()
		want[8] &^= 0x03
		if re != netip.AddrFrom16(want) {
			t.Fatalf("Address(%d) = %s, verified %s", sec, re, addr)
		}
	})
}
