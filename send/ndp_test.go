package send

import (
	"bytes"
	"testing"
	"time"

	"github.com/fhkey/fhkey/cga"
	"github.com/fhkey/fhkey/ndp"
)

// TestAgreesWithNDP checks this package's view of the received bytes against
// the ndp package, written independently: option offsets, the RSA Signature
// offset, the wire checksum and the Timestamp encoding.
func TestAgreesWithNDP(t *testing.T) {
	for _, bits := range []int{1024, 2048} {
		for _, m := range messages(t, bits) {
			signed, err := Sign(m.msg, m.src, m.dst, m.key)
			if err != nil {
				t.Fatal(err)
			}
			if off, err := ndp.OptionsOffset(signed); err != nil || off != headerLen(signed[0]) {
				t.Errorf("%s: ndp.OptionsOffset = %d, %v; headerLen %d", m.name, off, err, headerLen(signed[0]))
			}
			if off, err := ndp.RSASignatureOffset(signed); err != nil || off != len(m.msg) {
				t.Errorf("%s: ndp.RSASignatureOffset = %d, %v; want %d", m.name, off, err, len(m.msg))
			}
			if err := ndp.VerifyChecksum(m.src, m.dst, signed); err != nil {
				t.Errorf("%s: ndp.VerifyChecksum: %v", m.name, err)
			}
			if _, err := ndp.ParseMessage(signed); err != nil {
				t.Errorf("%s: ndp.ParseMessage: %v", m.name, err)
			}
		}
	}
	for _, tm := range []time.Time{testTime, testTime.Add(7 * time.Microsecond), testTime.Add(999_999_999)} {
		if a, b := ndp.TimestampValue(tm), uint64(TimestampFromTime(tm)); a != b {
			t.Errorf("%v: ndp %#x, send %#x", tm, a, b)
		}
	}
}

// TestSignNDPMarshalled signs an RtSolPr built with ndp.MarshalMessage and
// verifies it.
func TestSignNDPMarshalled(t *testing.T) {
	key := testKey(t, 2048)
	addr, raw := makeCGA(t, key, linkLocal)
	p, err := cga.ParseParameters(raw)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := ndp.MarshalMessage(&ndp.RouterSolicitationForProxyAdvertisement{
		Identifier: 7,
		Options: []ndp.Option{
			&ndp.CGA{Parameters: *p},
			ndp.NewTimestamp(testTime),
			&ndp.Nonce{Nonce: testNonce},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := Sign(msg, addr, routerLL, key)
	if err != nil {
		t.Fatal(err)
	}
	now := testTime
	r, err := (&Verifier{Now: fixedClock(&now)}).Verify(signed, addr, routerLL)
	if err != nil {
		t.Fatal(err)
	}
	if !r.CGAVerified || !bytes.Equal(r.Nonce, testNonce) || r.Address != addr {
		t.Fatalf("result %+v", r)
	}
}
