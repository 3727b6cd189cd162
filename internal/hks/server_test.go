package hks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash"
	"net/netip"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/aaa"
	"github.com/fhkey/fhkey/internal/hks/subscribers"
	"github.com/fhkey/fhkey/mh"
)

// TestExampleSuccess: the worked example of docs/aaa.md through the HKS:
// the HK is the published one, the HKS-Nonce the injected one, the
// lifetime the default, and the subscriber's last Timestamp advanced.
func TestExampleSuccess(t *testing.T) {
	f := newFixture(t, nil, Config{})
	resp, err := f.srv.RequestKey(context.Background(), request(exHKReq))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 0 || resp.HKResp != nil {
		t.Fatalf("status %d, HKResp %x", resp.Status, resp.HKResp)
	}
	if !bytes.Equal(resp.HKSNonce, exHKSNonce) {
		t.Fatalf("HKS-Nonce %x", resp.HKSNonce)
	}
	if resp.HK.MACAlgorithm() != hokey.MACHMACSHA1 || !bytes.Equal(resp.HK.Bytes(), exHK11) {
		t.Fatalf("HK %v %x, want %x", resp.HK.MACAlgorithm(), resp.HK.Bytes(), exHK11)
	}
	if resp.Lifetime != DefaultLifetime {
		t.Fatalf("lifetime %v", resp.Lifetime)
	}
	last, ok, err := f.store.LastTimestamp(context.Background(), exNAI)
	if err != nil || !ok || last != mh.NTPTime(exTime) {
		t.Fatalf("last timestamp %x %v %v", uint64(last), ok, err)
	}
	if st := f.srv.Stats(); st != (Stats{Requests: 1, Accepted: 1}) {
		t.Fatalf("stats %+v", st)
	}
}

// TestLifetime: the subscriber's cap applies below the server's lifetime.
func TestLifetime(t *testing.T) {
	store := subscribers.NewMemory()
	defer store.Close()
	f := newFixture(t, store, Config{Lifetime: 2 * time.Hour})
	s := exampleSubscriber()
	s.MaxLifetime = 10 * time.Minute
	if err := store.Put(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	resp, err := f.srv.RequestKey(context.Background(), request(exHKReq))
	if err != nil || resp.Lifetime != 10*time.Minute {
		t.Fatalf("lifetime %v, %v", resp.Lifetime, err)
	}
}

// wantHKResp writes the error HKResp the HKS must send, one wire field a
// row, with its MN-HKS MAC computed by crypto/hmac with hik.
func wantHKResp(status uint16, prf uint8, at hokey.MACAlgorithm, ts *uint64, hik []byte) []byte {
	b := []byte{
		59,   // Payload Proto: no next header
		0,    // Header Len, below
		251,  // MH Type: HKResp (default codepoint)
		0,    // Reserved
		0, 0, // Checksum: left to the AR
		42,       // Message ID: the HKReq's
		prf << 4, // V 0, PRF, Reserved
	}
	b = binary.BigEndian.AppendUint16(b, status) // Status
	b = append(b, 0, 0)                          // Lifetime 0
	b = append(b, 0, 0, 0, 0)                    // SPI 0
	if ts != nil {
		b = append(b, 1, 0)   // PadN: Timestamp at 8n+2 (offset 18)
		b = append(b, 252, 8) // Timestamp option, Length 8
		b = binary.BigEndian.AppendUint64(b, *ts)
	}
	n := at.AuthValueLen()
	b = append(b, 251, byte(2+n), mh.MACSubtypeMNHKS, uint8(at)) // MAC option: Sub-type 1 (MN-HKS), AT
	h := map[hokey.MACAlgorithm]func() hash.Hash{hokey.MACHMACSHA1: sha1.New, hokey.MACHMACSHA256: sha256.New}[at]
	auth := hmac.New(h, hik)
	auth.Write(b) // MH Data with Header Len 0 so far: fixed below
	end := len(b) + n
	pad := (8 - end%8) % 8
	b[1] = byte((end+pad)/8 - 1)
	auth.Reset()
	auth.Write(b)
	b = auth.Sum(b)
	switch pad {
	case 0:
	case 1:
		b = append(b, 0) // Pad1
	default:
		b = append(b, 1, byte(pad-2))
		b = append(b, make([]byte, pad-2)...)
	}
	return b
}

func ntp(t time.Time) *uint64 { v := uint64(mh.NTPTime(t)); return &v }

// TestErrorAnswers: each refusal's whole HKResp, byte for byte, and its
// MN-HKS MAC verified with hokey.VerifyMAC under the published HIK.
func TestErrorAnswers(t *testing.T) {
	lowBits := uint64(0x12345678)
	offBy8 := exTime.Add(8 * time.Second)
	cases := []struct {
		name    string
		cfg     Config
		sub     func(*subscribers.Subscriber)
		req     hkreq
		now     time.Time
		status  uint16
		prf     uint8
		at      hokey.MACAlgorithm
		hik     []byte
		ts      *uint64
		counter func(Stats) uint64
	}{{
		name: "INVALID_PRF_ALG unknown PRF", req: func() hkreq { r := exampleReq(); r.prf = 5; return r }(),
		status: mh.HandoverKeyStatusInvalidPRFAlgorithm, prf: 2, at: hokey.MACHMACSHA1, hik: exHIK22[:20], ts: ntp(exTime),
		counter: func(s Stats) uint64 { return s.InvalidPRF },
	}, {
		name: "INVALID_PRF_ALG not accepted", cfg: Config{PRFs: []hokey.PRF{hokey.PRFHMACSHA256}}, req: exampleReq(),
		status: mh.HandoverKeyStatusInvalidPRFAlgorithm, prf: 2, at: hokey.MACHMACSHA1, hik: exHIK22[:20], ts: ntp(exTime),
		counter: func(s Stats) uint64 { return s.InvalidPRF },
	}, {
		name: "INVALID_MAC_ALG unknown AT", req: func() hkreq { r := exampleReq(); r.at = 9; return r }(),
		status: mh.HandoverKeyStatusInvalidMACAlgorithm, prf: 1, at: hokey.MACHMACSHA256, hik: exHIK12, ts: ntp(exTime),
		counter: func(s Stats) uint64 { return s.InvalidMAC },
	}, {
		name: "INVALID_MAC_ALG not accepted", cfg: Config{MACs: []hokey.MACAlgorithm{hokey.MACHMACSHA256}}, req: exampleReq(),
		status: mh.HandoverKeyStatusInvalidMACAlgorithm, prf: 1, at: hokey.MACHMACSHA256, hik: exHIK12, ts: ntp(exTime),
		counter: func(s Stats) uint64 { return s.InvalidMAC },
	}, {
		name: "TIMESTAMP_REQD", req: func() hkreq { r := exampleReq(); r.ts = nil; return r }(),
		status: mh.HandoverKeyStatusTimestampRequired, prf: 1, at: hokey.MACHMACSHA1, hik: exHIK11,
		counter: func(s Stats) uint64 { return s.TimestampRequired },
	}, {
		// The MN is 8 s ahead: the answer carries the HKS's seconds and
		// the MN's fraction (§5.2.3).
		name: "INVALID_TIMESTAMP", req: exampleReq().withTime(offBy8.Add(time.Duration(lowBits * uint64(time.Second) >> 32))),
		status: mh.HandoverKeyStatusInvalidTimestamp, prf: 1, at: hokey.MACHMACSHA1, hik: exHIK11,
		ts: func() *uint64 {
			v := uint64(mh.NTPTime(exTime).Seconds())<<32 | uint64(mh.NTPTime(offBy8.Add(time.Duration(lowBits*uint64(time.Second)>>32))).Fraction())
			return &v
		}(),
		counter: func(s Stats) uint64 { return s.InvalidTimestamp },
	}, {
		name: "ADMINISTRATIVELY_PROHIBITED disabled", sub: func(s *subscribers.Subscriber) { s.Enabled = false }, req: exampleReq(),
		status: mh.HandoverKeyStatusAdministrativelyProhibited, prf: 1, at: hokey.MACHMACSHA1, hik: exHIK11, ts: ntp(exTime),
		counter: func(s Stats) uint64 { return s.AdministrativelyProhibited },
	}, {
		name: "ADMINISTRATIVELY_PROHIBITED other AR", req: exampleReq(),
		sub: func(s *subscribers.Subscriber) {
			s.ARPrefixes = []netip.Prefix{netip.MustParsePrefix("2001:db8:2::/64"), netip.MustParsePrefix("2001:db8:3::/48")}
		},
		status: mh.HandoverKeyStatusAdministrativelyProhibited, prf: 1, at: hokey.MACHMACSHA1, hik: exHIK11, ts: ntp(exTime),
		counter: func(s Stats) uint64 { return s.AdministrativelyProhibited },
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil, tc.cfg)
			if tc.sub != nil {
				s := exampleSubscriber()
				tc.sub(s)
				if err := f.store.Put(context.Background(), s); err != nil {
					t.Fatal(err)
				}
			}
			resp, err := f.srv.RequestKey(context.Background(), request(tc.req.sign(t)))
			if err != nil {
				t.Fatal(err)
			}
			want := wantHKResp(tc.status, tc.prf, tc.at, tc.ts, tc.hik)
			if resp.Status != tc.status || !bytes.Equal(resp.HKResp, want) {
				t.Fatalf("status %d, HKResp\n got % x\nwant % x", resp.Status, resp.HKResp, want)
			}
			hik, err := hokey.NewIntegrityKey(tc.at, tc.hik)
			if err != nil {
				t.Fatal(err)
			}
			if err := hokey.VerifyMAC(mh.Codepoints{}, resp.HKResp, &hik); err != nil {
				t.Fatal(err)
			}
			m, err := mh.ParseMessage(resp.HKResp)
			if err != nil {
				t.Fatal(err)
			}
			if r, ok := m.(mh.HandoverKeyResponse); !ok || r.Status != tc.status || r.Verified || r.SPI != 0 || r.Lifetime != 0 {
				t.Fatalf("parsed %#v", m)
			}
			if !resp.HK.IsZero() || resp.HKSNonce != nil {
				t.Fatal("a refusal carries a key")
			}
			if _, ok, _ := f.store.LastTimestamp(context.Background(), exNAI); ok {
				t.Fatal("a refusal advanced the replay state")
			}
			if st := f.srv.Stats(); tc.counter(st) != 1 || st.Requests != 1 || st.Accepted != 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// TestDiscards: requests the HKS must silently discard; nothing is stored.
func TestDiscards(t *testing.T) {
	flip := func(i int) func([]byte) []byte {
		return func(b []byte) []byte { b = bytes.Clone(b); b[i] ^= 1; return b }
	}
	wrongHMK := exampleReq()
	wrongHMK.hmk = seq(0x40, 64)
	otherNAI := exampleReq()
	otherNAI.nai = "other@example.com"
	noNonce := exampleReq()
	noNonce.noNonce = true
	cases := []struct {
		name    string
		req     aaa.KeyRequest
		reason  error
		counter func(Stats) uint64
	}{
		{"AUTH Value", request(flip(85)(exHKReq)), ErrAuthentication, func(s Stats) uint64 { return s.BadMAC }},
		{"covered MN-Nonce", request(flip(50)(exHKReq)), ErrAuthentication, func(s Stats) uint64 { return s.BadMAC }},
		{"covered Timestamp", request(flip(71)(exHKReq)), ErrAuthentication, func(s Stats) uint64 { return s.BadMAC }},
		{"wrong HMK", request(wrongHMK.sign(t)), ErrAuthentication, func(s Stats) uint64 { return s.BadMAC }},
		{"unknown subscriber", aaa.KeyRequest{NAI: "other@example.com", AR: exAR, HKReq: otherNAI.sign(t)}, subscribers.ErrUnknownSubscriber, func(s Stats) uint64 { return s.UnknownSubscriber }},
		{"NAI mismatch", aaa.KeyRequest{NAI: exNAI, AR: exAR, HKReq: otherNAI.sign(t)}, ErrMalformed, func(s Stats) uint64 { return s.Malformed }},
		{"no MN-Nonce", request(noNonce.sign(t)), ErrMalformed, func(s Stats) uint64 { return s.Malformed }},
		{"no MN-HKS MAC", request(mustMarshal(t, mh.HandoverKeyRequest{MessageID: 1, PRF: 1, KeyCareOfAddress: exCoA,
			Options: []mh.Option{mh.MobileNodeIdentifier{Subtype: 1, Identifier: []byte(exNAI)}, mh.HandoverNonce{Subtype: mh.NonceSubtypeMN, Nonce: exMNNonce}}})),
			ErrMalformed, func(s Stats) uint64 { return s.Malformed }},
		{"truncated", request(exHKReq[:60]), ErrMalformed, func(s Stats) uint64 { return s.Malformed }},
		{"link-local AR ID", aaa.KeyRequest{NAI: exNAI, AR: netip.MustParseAddr("fe80::1"), HKReq: exHKReq}, ErrMalformed, func(s Stats) uint64 { return s.Malformed }},
		{"no AR ID", aaa.KeyRequest{NAI: exNAI, HKReq: exHKReq}, ErrMalformed, func(s Stats) uint64 { return s.Malformed }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil, Config{})
			resp, err := f.srv.RequestKey(context.Background(), tc.req)
			if !errors.Is(err, aaa.ErrDiscarded) || !errors.Is(err, tc.reason) {
				t.Fatalf("err %v, want %v and %v", err, aaa.ErrDiscarded, tc.reason)
			}
			if resp.Status != 0 || resp.HKResp != nil || !resp.HK.IsZero() || resp.HKSNonce != nil {
				t.Fatalf("a discard answered %+v", resp)
			}
			if _, ok, _ := f.store.LastTimestamp(context.Background(), exNAI); ok {
				t.Fatal("a discard advanced the replay state")
			}
			if st := f.srv.Stats(); tc.counter(st) != 1 || st.Requests != 1 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

func mustMarshal(t *testing.T, m mh.Message) []byte {
	t.Helper()
	b, err := mh.MarshalMessage(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTimestampWindow: ±7 s is accepted, a microsecond beyond is not.
func TestTimestampWindow(t *testing.T) {
	for _, tc := range []struct {
		off    time.Duration
		status uint16
	}{
		{0, 0},
		{7 * time.Second, 0},
		{-7 * time.Second, 0},
		{7*time.Second + time.Microsecond, mh.HandoverKeyStatusInvalidTimestamp},
		{-7*time.Second - time.Microsecond, mh.HandoverKeyStatusInvalidTimestamp},
		{-time.Hour, mh.HandoverKeyStatusInvalidTimestamp},
	} {
		t.Run(tc.off.String(), func(t *testing.T) {
			f := newFixture(t, nil, Config{})
			f.clock.Set(exTime.Add(time.Minute))
			resp, err := f.srv.RequestKey(context.Background(), request(exampleReq().withTime(exTime.Add(time.Minute+tc.off)).sign(t)))
			if err != nil || resp.Status != tc.status {
				t.Fatalf("status %d, %v; want %d", resp.Status, err, tc.status)
			}
		})
	}
}

// TestReplay: a Timestamp not later than the last accepted one is refused
// with INVALID_TIMESTAMP; a later one is accepted.
func TestReplay(t *testing.T) {
	f := newFixture(t, nil, Config{})
	ctx := context.Background()
	first := exampleReq().withTime(exTime.Add(time.Second)).sign(t)
	if resp, err := f.srv.RequestKey(ctx, request(first)); err != nil || resp.Status != 0 {
		t.Fatalf("first: %d %v", resp.Status, err)
	}
	for name, b := range map[string][]byte{
		"same bytes":   first,
		"earlier":      exampleReq().withTime(exTime).sign(t),
		"same instant": exampleReq().withTime(exTime.Add(time.Second)).sign(t),
	} {
		resp, err := f.srv.RequestKey(ctx, request(b))
		if err != nil || resp.Status != mh.HandoverKeyStatusInvalidTimestamp {
			t.Fatalf("%s: status %d, %v", name, resp.Status, err)
		}
		hik, _ := hokey.NewIntegrityKey(hokey.MACHMACSHA1, exHIK11)
		if err := hokey.VerifyMAC(mh.Codepoints{}, resp.HKResp, &hik); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if resp, err := f.srv.RequestKey(ctx, request(exampleReq().withTime(exTime.Add(2*time.Second)).sign(t))); err != nil || resp.Status != 0 {
		t.Fatalf("later: %d %v", resp.Status, err)
	}
	if st := f.srv.Stats(); st.Accepted != 2 || st.Replayed != 3 || st.InvalidTimestamp != 3 {
		t.Fatalf("stats %+v", st)
	}
}

// TestNew: configuration errors name the field.
func TestNew(t *testing.T) {
	store := subscribers.NewMemory()
	defer store.Close()
	for _, cfg := range []Config{
		{},
		{Subscribers: store, PRFs: []hokey.PRF{7}},
		{Subscribers: store, MACs: []hokey.MACAlgorithm{1, 1}},
		{Subscribers: store, Lifetime: subscribers.MaxLifetime + time.Second},
		{Subscribers: store, Lifetime: 1500 * time.Millisecond},
		{Subscribers: store, TimestampWindow: -time.Second},
	} {
		if _, err := New(cfg); !errors.Is(err, subscribers.ErrInvalid) {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
}

// TestStoreFailure: a closed store is neither an answer nor a discard.
func TestStoreFailure(t *testing.T) {
	store := subscribers.NewMemory()
	f := newFixture(t, store, Config{})
	store.Close()
	_, err := f.srv.RequestKey(context.Background(), request(exHKReq))
	if !errors.Is(err, subscribers.ErrStore) || errors.Is(err, aaa.ErrDiscarded) {
		t.Fatalf("err %v", err)
	}
	if st := f.srv.Stats(); st.StoreErrors != 1 {
		t.Fatalf("stats %+v", st)
	}
}
