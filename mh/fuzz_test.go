package mh

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func fuzzSeeds() [][]byte {
	var seeds [][]byte
	for _, tc := range messageCases() {
		seeds = append(seeds, tc.wire)
	}
	seeds = append(seeds,
		nil,
		b(59),
		cat(b(6), b(0), b(0), b(0), u16(0), u16(0)),
		buWith(b(21, 8), u32(0), zeros(4), b(1, 0)),
		buWith(b(3, 16), zeros(16), b(1, 2), zeros(2)),
		buWith(b(0), b(9, 17, 1), u32(256), auth96, b(8, 2, 1, 'x')),
		cat(b(59, 0, 200, 0), zeros(4)),
	)
	return seeds
}

// FuzzParseMessage: whatever parses must marshal, re-parse to an equal
// value with the same length, and marshal to the same octets again; the
// received-bytes helpers must not panic and must stay inside the input.
func FuzzParseMessage(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkHelpers(t, data)
		checkAllocationFree(t, data)
		if len(data) >= headerLen {
			if got, want := Checksum(data, mnCoA, parAddr), refChecksum(data, mnCoA, parAddr); got != want {
				t.Fatalf("Checksum = %#04x, reference %#04x", got, want)
			}
		}
		m, err := ParseMessage(data)
		if err != nil {
			if !errors.Is(err, ErrParse) {
				t.Fatalf("error %v does not wrap ErrParse", err)
			}
			return
		}
		out, err := MarshalMessage(m)
		if err != nil {
			t.Fatalf("parsed %#v but cannot marshal it: %v", m, err)
		}
		if len(out) != len(data) {
			t.Fatalf("re-marshal is %d octets, input %d:\n in  %x\n out %x", len(out), len(data), data, out)
		}
		m2, err := ParseMessage(out)
		if err != nil {
			t.Fatalf("re-parse of %x: %v", out, err)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("re-parse differs:\n %#v\n %#v", m, m2)
		}
		out2, err := MarshalMessage(m2)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("marshal is not stable: %x vs %x (%v)", out, out2, err)
		}
		for i, m := range significant(data) {
			if (data[i]^out[i])&m != 0 {
				t.Fatalf("octet %d changed on re-marshal:\n in  %x\n out %x", i, data, out)
			}
		}
	})
}

// checkAllocationFree checks that the allocation-free receive functions
// agree with ParseMessage and CoveredByBADF on data.
func checkAllocationFree(t *testing.T, data []byte) {
	t.Helper()
	v, verr := ParseFastBindingUpdate(data)
	m, err := ParseMessage(data)
	fbu, isFBU := m.(FastBindingUpdate)
	if agreeWithParseMessage(t, "ParseFastBindingUpdate", data, m, err, verr, isFBU) {
		want := FastBindingUpdateView{FastBindingUpdate: fbu}
		want.Options = nil
		for _, o := range fbu.Options {
			switch o := o.(type) {
			case AlternateCareOfAddress:
				want.AlternateCareOfAddress = o.Address
			case BindingAuthorizationDataForFMIPv6:
				want.BADF = true
			}
		}
		if !reflect.DeepEqual(v, want) {
			t.Fatalf("ParseFastBindingUpdate = %+v, ParseMessage gives %+v", v, want)
		}
	}
	checkHandoverKeyRequestView(t, data, m, err)
	c, err := CoveredByBADF(data, newCoA, parAddr)
	prefix := []byte{0xee}
	c2, err2 := AppendCoveredByBADF(prefix, data, newCoA, parAddr)
	if (err == nil) != (err2 == nil) {
		t.Fatalf("CoveredByBADF: %v, AppendCoveredByBADF: %v", err, err2)
	}
	if err == nil && (!bytes.Equal(c2.Data, append(prefix, c.Data...)) || !bytes.Equal(c.Authenticator, c2.Authenticator) ||
		c.Offset != c2.Offset || c.SPI != c2.SPI) {
		t.Fatalf("AppendCoveredByBADF = %+v, CoveredByBADF %+v", c2, *c)
	}
}

// agreeWithParseMessage checks that the view parser name, which gave
// verr on data, accepts exactly what ParseMessage (m, err) accepts as its
// type (isType), and reports whether the views are to be compared.
func agreeWithParseMessage(t *testing.T, name string, data []byte, m Message, err, verr error, isType bool) bool {
	t.Helper()
	switch {
	case err != nil && verr == nil:
		t.Fatalf("%s accepts what ParseMessage rejects (%v): %x", name, err, data)
	case err == nil && isType != (verr == nil):
		t.Fatalf("%s: %v, ParseMessage gives %T: %x", name, verr, m, data)
	case verr != nil && !errors.Is(verr, ErrParse):
		t.Fatalf("%s: error %v does not wrap ErrParse", name, verr)
	}
	return isType
}

// checkHandoverKeyRequestView checks that ParseHandoverKeyRequest agrees
// with ParseMessage's m, err on data.
func checkHandoverKeyRequestView(t *testing.T, data []byte, m Message, err error) {
	t.Helper()
	v, verr := ParseHandoverKeyRequest(data)
	hk, isHK := m.(HandoverKeyRequest)
	if agreeWithParseMessage(t, "ParseHandoverKeyRequest", data, m, err, verr, isHK) {
		want := HandoverKeyRequestView{HandoverKeyRequest: hk}
		want.Options = nil
		for _, o := range hk.Options {
			switch o := o.(type) {
			case MobileNodeIdentifier:
				if o.Subtype == MobileNodeIdentifierSubtypeNAI {
					if want.NAIOptions++; want.NAIOptions == 1 {
						want.NAI = o.Identifier
					}
				}
			case HandoverNonce:
				if o.Subtype == NonceSubtypeMN {
					if want.MNNonceOptions++; want.MNNonceOptions == 1 {
						want.MNNonce = o.Nonce
					}
				}
			case Timestamp:
				if want.TimestampOptions++; want.TimestampOptions == 1 {
					want.Timestamp = o.Value
				}
			case MessageAuthenticationCode:
				if o.Subtype == MACSubtypeMNHKS {
					if want.MNHKSMACOptions++; want.MNHKSMACOptions == 1 {
						want.MNHKSMACAlgorithmType = o.AlgorithmType
					}
				}
			}
		}
		if !reflect.DeepEqual(v, want) {
			t.Fatalf("ParseHandoverKeyRequest = %+v, ParseMessage gives %+v", v, want)
		}
	}
}

// significant returns, for each octet of a message that parsed, the bits a
// re-marshal must reproduce: all but the Checksum and the fields receivers
// MUST ignore (Reserved fields, PadN contents), which are written as zero.
func significant(data []byte) []byte {
	mask := bytes.Repeat([]byte{0xff}, len(data))
	mask[3], mask[4], mask[5] = 0, 0, 0
	cp := DefaultCodepoints()
	switch data[2] {
	case TypeBindingRefreshRequest:
		mask[6], mask[7] = 0, 0
	case TypeBindingUpdate, TypeFastBindingUpdate:
		mask[8], mask[9] = 0xf0, 0
	case TypeBindingAcknowledgement, TypeFastBindingAcknowledgment:
		mask[7] = 0x80
	case TypeHandoverInitiate:
		mask[8] = 0xc0
	case TypeHandoverAcknowledge:
		mask[8] = 0
	case cp.HandoverKeyRequest, cp.HandoverKeyResponse:
		mask[7] = 0xf0
	}
	fixed := cp.fixedLenOf(data[2])
	if fixed < 0 {
		return mask
	}
	for i := headerLen + fixed; i < len(data); {
		t := data[i]
		if t == OptionTypePad1 {
			i++
			continue
		}
		n := int(data[i+1])
		switch t {
		case OptionTypePadN:
			clear(mask[i+2 : i+2+n])
		case cp.HandoverNonce:
			mask[i+3] = 0
		case cp.MAC:
			mask[i+3] = 0x0f
		}
		i += 2 + n
	}
	return mask
}

func checkHelpers(t *testing.T, data []byte) {
	check := func(name string, c *Covered, err error, prefix int) {
		if err != nil {
			if !errors.Is(err, ErrAuthenticator) {
				t.Fatalf("%s: error %v does not wrap ErrAuthenticator", name, err)
			}
			return
		}
		if c.Offset+len(c.Authenticator) > len(data) || len(c.Data) != prefix+c.Offset || len(c.Authenticator) == 0 {
			t.Fatalf("%s: offset %d, %d-octet authenticator, %d octets of data for a %d-octet message",
				name, c.Offset, len(c.Authenticator), len(c.Data), len(data))
		}
		if !bytes.Equal(c.Data[prefix+6:], data[6:c.Offset]) {
			t.Fatalf("%s: covered data is not the received bytes", name)
		}
	}
	c, err := CoveredByBADF(data, mnCoA, parAddr)
	check("BADF", c, err, 32)
	c, err = CoveredByBindingAuthorizationData(data, mnCoA, parAddr)
	check("BAD", c, err, 32)
	c, err = CoveredByMobilityMessageAuthentication(data, 1, mnCoA, parAddr)
	check("RFC 4285", c, err, 32)
	c, err = CoveredByMAC(data, 1)
	check("MAC", c, err, 0)
}

// FuzzParseOptions: a parsed option list marshals at the same offset and
// re-parses to the same non-padding options; when the area ends on an
// 8-octet boundary, to the same list and length.
func FuzzParseOptions(f *testing.F) {
	for _, tc := range messageCases() {
		if len(tc.wire) > 12 {
			f.Add(tc.wire[12:], uint8(12))
		}
	}
	f.Add(b(1, 0, 3), uint8(0))
	f.Add(cat(b(252, 8), zeros(8)), uint8(6))
	f.Add(cat(b(21, 5), u32(0), b(1), b(200, 0)), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, off uint8) {
		offset := int(off)
		opts, err := ParseOptions(data, offset)
		if err != nil {
			if !errors.Is(err, ErrParse) {
				t.Fatalf("error %v does not wrap ErrParse", err)
			}
			return
		}
		out, err := MarshalOptions(opts, offset)
		if err != nil {
			t.Fatalf("parsed %#v but cannot marshal it: %v", opts, err)
		}
		if (offset+len(out))%8 != 0 {
			t.Fatalf("marshalled area of %d octets at %d", len(out), offset)
		}
		opts2, err := ParseOptions(out, offset)
		if err != nil {
			t.Fatalf("re-parse of %x: %v", out, err)
		}
		if !reflect.DeepEqual(withoutPadding(opts), withoutPadding(opts2)) {
			t.Fatalf("re-parse differs:\n %#v\n %#v", opts, opts2)
		}
		if (offset+len(data))%8 == 0 && (!reflect.DeepEqual(opts, opts2) || len(out) != len(data)) {
			t.Fatalf("layout changed:\n in  %x\n out %x", data, out)
		}
	})
}

func withoutPadding(opts []Option) []Option {
	var r []Option
	for _, o := range opts {
		if !isPadding(o) {
			r = append(r, o)
		}
	}
	return r
}
