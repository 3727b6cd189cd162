package mip6tls

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func exampleSA(t testing.TB) SecurityAssociation {
	return SecurityAssociation{
		SPI: 0x1234567, CipherSuite: CipherSuiteAES128CBCSHA256, Scope: SAScopeAll,
		ValidityEnd:      time.Date(2026, 12, 5, 16, 0, 0, 0, time.UTC),
		MNToHAIntegrity:  mustKey(t, bytes.Repeat(b(0x11), 16)),
		HAToMNIntegrity:  mustKey(t, bytes.Repeat(b(0x22), 16)),
		MNToHAEncryption: mustKey(t, bytes.Repeat(b(0x33), 16)),
		HAToMNEncryption: mustKey(t, bytes.Repeat(b(0x44), 16)),
	}
}

var exampleBootstrap = Bootstrap{
	HomeAgent6:   netip.MustParseAddr("2001:db8:1::1"),
	HomeAgent4:   netip.MustParseAddr("192.0.2.1"),
	Port:         7000,
	HomeAddress6: netip.MustParseAddr("2001:db8:1::100"),
	HomePrefix6:  netip.MustParsePrefix("2001:db8:1::/64"),
	DNS6:         netip.MustParseAddr("2001:db8:1::53"),
}

// pskSide is one side of the exchange: its lockstep.
type pskSide struct{ step Lockstep }

// TestPSKExchange runs the four messages of RFC 6618 §5.8 in memory: the MN
// and the HAC each build, parse, verify and track the Identifiers; the MN
// ends with the SA and the bootstrapping data the HAC sent.
func TestPSKExchange(t *testing.T) {
	cb, err := ServerEndpointBinding(readCert(t, "hac-ecdsa-sha256.pem"))
	if err != nil {
		t.Fatal(err)
	}
	var mn, hac pskSide
	send := func(side *pskSide, wire []byte, request bool) {
		t.Helper()
		m, err := ParseMessage(wire)
		if err != nil {
			t.Fatal(err)
		}
		_, final := Find[StatusCode](m)
		if request {
			err = side.step.Request(m.Identifier, final)
		} else {
			_, err = side.step.Response(m.Identifier, final)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	offered := CipherSuiteList{CipherSuiteAES128CBCSHA, CipherSuiteAES128CBCSHA256}

	// 1) MN -> HAC.
	id, err := mn.step.NextIdentifier()
	if err != nil || id != 1 {
		t.Fatalf("first Identifier %d, %v", id, err)
	}
	w1, err := PSKInitRequest("mn1@example.com", exampleMNRand)
	if err != nil {
		t.Fatal(err)
	}
	send(&mn, w1, true)
	send(&hac, w1, true)
	nai, mnRand, err := CheckPSKInitRequest(w1)
	if err != nil || nai != "mn1@example.com" || mnRand != exampleMNRand {
		t.Fatalf("HAC read %q, %x, %v", nai, mnRand, err)
	}

	// 2) HAC -> MN.
	w2, err := PSKInitResponse(1, mnRand, exampleHACRand, examplePSK, cb)
	if err != nil {
		t.Fatal(err)
	}
	send(&hac, w2, false)
	send(&mn, w2, false)
	hacRand, err := CheckPSKInitResponse(w2, exampleMNRand, examplePSK, cb)
	if err != nil || hacRand != exampleHACRand {
		t.Fatalf("MN read hac-rand %x, %v", hacRand, err)
	}

	// 3) MN -> HAC.
	id, _ = mn.step.NextIdentifier()
	w3, err := PSKDoneRequest(id, exampleMNRand, hacRand, SAScopeAll, offered, examplePSK, cb)
	if err != nil {
		t.Fatal(err)
	}
	send(&mn, w3, true)
	send(&hac, w3, true)
	scope, suites, err := CheckPSKDoneRequest(w3, mnRand, exampleHACRand, examplePSK, cb)
	if err != nil || scope != SAScopeAll || len(suites) != 2 {
		t.Fatalf("HAC read %v, %v, %v", scope, suites, err)
	}

	// 4) HAC -> MN: the HAC picks its preferred suite among the offered.
	sa := exampleSA(t)
	if sa.CipherSuite, _ = suites.Select([]CipherSuite{CipherSuiteAES128CBCSHA256, CipherSuiteAES128CBCSHA}); sa.CipherSuite != CipherSuiteAES128CBCSHA256 {
		t.Fatalf("selected %v", sa.CipherSuite)
	}
	bs := exampleBootstrap
	w4, err := PSKDoneResponse(2, mnRand, exampleHACRand, StatusOK, &sa, &bs, examplePSK, cb)
	if err != nil {
		t.Fatal(err)
	}
	send(&hac, w4, false)
	send(&mn, w4, false)
	if !mn.step.Done() || !hac.step.Done() {
		t.Fatal("exchange not ended by the status-code response")
	}
	r, err := CheckPSKDoneResponse(w4, exampleMNRand, hacRand, offered, examplePSK, cb)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != StatusOK || r.SA.SPI != sa.SPI || r.SA.CipherSuite != sa.CipherSuite || r.SA.Scope != sa.Scope || !r.SA.ValidityEnd.Equal(sa.ValidityEnd) {
		t.Fatalf("SA %+v", r.SA)
	}
	for i, pair := range [][2]*Key{
		{&r.SA.MNToHAIntegrity, &sa.MNToHAIntegrity}, {&r.SA.HAToMNIntegrity, &sa.HAToMNIntegrity},
		{&r.SA.MNToHAEncryption, &sa.MNToHAEncryption}, {&r.SA.HAToMNEncryption, &sa.HAToMNEncryption},
	} {
		if !pair[0].Equal(pair[1]) {
			t.Fatalf("key %d differs", i)
		}
	}
	if r.Bootstrap != bs || r.Bootstrap.ServicePort() != 7000 {
		t.Fatalf("bootstrap %+v", r.Bootstrap)
	}
	// The SA prints redacted.
	if out := fmt.Sprintf("%v %+v", r.SA, r); strings.Contains(out, "1111") || strings.Contains(out, "[17 17") {
		t.Fatalf("SA printed its keys: %s", out)
	}
	// The MN may not send another request.
	if _, err := mn.step.NextIdentifier(); !errors.Is(err, ErrExchangeDone) {
		t.Fatalf("after the final response: %v", err)
	}
}

// The order of message 4 is that of §5.8: sa-scope, sa-data, ciphersuite,
// bootstrapping data, mn-rand, hac-rand, status, auth.
func TestPSKDoneResponseOrder(t *testing.T) {
	sa := exampleSA(t)
	bs := exampleBootstrap
	w, err := PSKDoneResponse(2, exampleMNRand, exampleHACRand, StatusOK, &sa, &bs, examplePSK, exampleCB)
	if err != nil {
		t.Fatal(err)
	}
	hs, err := ParseTVHeaders(w[ContainerHeaderLen:])
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, h := range hs {
		names = append(names, h.Name)
	}
	want := "mip6-sas mip6-spi mip6-mn-to-ha-ikey mip6-ha-to-mn-ikey mip6-mn-to-ha-ekey mip6-ha-to-mn-ekey " +
		"mip6-sa-validity-end mip6-ciphersuite mip6-haa-ip6 mip6-haa-ip4 mip6-port mip6-ip6-hoa mip6-ip6-hnp dns-ip6 " +
		"mn-rand hac-rand status-code auth"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("order\n%s\nwant\n%s", got, want)
	}
}

func TestPSKChecksRefuse(t *testing.T) {
	cb := exampleCB
	offered := CipherSuiteList{CipherSuiteAES128CBCSHA}
	sa := exampleSA(t) // AES_128_CBC_SHA256: not offered
	var otherRand MNRand
	otherRand[0] = 0xff
	w2, _ := PSKInitResponse(1, exampleMNRand, exampleHACRand, examplePSK, cb)
	w3, _ := PSKDoneRequest(2, exampleMNRand, exampleHACRand, SAScopeAll, offered, examplePSK, cb)
	w4, _ := PSKDoneResponse(2, exampleMNRand, exampleHACRand, StatusOK, &sa, nil, examplePSK, cb)
	noSA := func() []byte {
		m := Message{Identifier: 2, Parameters: []Parameter{SPI(5), exampleMNRand, exampleHACRand, StatusOK}}
		w, err := SignMessage(m, examplePSK, SenderHAC, cb)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}()
	noPSK, _ := MarshalMessage(Message{Identifier: 1, Parameters: []Parameter{MNIdentifier("a"), exampleMNRand, AuthMethods{AuthMethodEAP}}})
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"init request without psk", func() error { _, _, err := CheckPSKInitRequest(noPSK); return err }(), ErrMissing},
		{"init response, other mn-rand", func() error { _, err := CheckPSKInitResponse(w2, otherRand, examplePSK, cb); return err }(), ErrMismatch},
		{"init response, wrong PSK", func() error { _, err := CheckPSKInitResponse(w2, exampleMNRand, []byte("x"), cb); return err }(), ErrBadAuthenticator},
		{"init response checked as a request", func() error {
			_, _, err := CheckPSKDoneRequest(w2, exampleMNRand, exampleHACRand, examplePSK, cb)
			return err
		}(), ErrBadAuthenticator},
		{"done request, other hac-rand", func() error {
			_, _, err := CheckPSKDoneRequest(w3, exampleMNRand, HACRand(otherRand), examplePSK, cb)
			return err
		}(), ErrMismatch},
		{"done response, suite not offered", func() error {
			_, err := CheckPSKDoneResponse(w4, exampleMNRand, exampleHACRand, offered, examplePSK, cb)
			return err
		}(), ErrMismatch},
		{"done response, 200 without SA", func() error {
			_, err := CheckPSKDoneResponse(noSA, exampleMNRand, exampleHACRand, offered, examplePSK, cb)
			return err
		}(), ErrMissing},
		{"build 200 without SA", func() error {
			_, err := PSKDoneResponse(2, exampleMNRand, exampleHACRand, StatusOK, nil, nil, examplePSK, cb)
			return err
		}(), ErrMissing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, tc.want) {
				t.Fatalf("got %v, want %v", tc.err, tc.want)
			}
		})
	}
}

// A refusal (401) carries no SA and still verifies.
func TestPSKDoneResponseUnauthorized(t *testing.T) {
	w, err := PSKDoneResponse(2, exampleMNRand, exampleHACRand, StatusUnauthorized, nil, nil, examplePSK, exampleCB)
	if err != nil {
		t.Fatal(err)
	}
	r, err := CheckPSKDoneResponse(w, exampleMNRand, exampleHACRand, nil, examplePSK, exampleCB)
	if err != nil || r.Status != StatusUnauthorized || r.SA.SPI != 0 {
		t.Fatalf("%+v, %v", r, err)
	}
}

// NULL-encryption suites need no encryption keys.
func TestSecurityAssociationNullEncryption(t *testing.T) {
	sa := exampleSA(t)
	sa.CipherSuite = CipherSuiteNullSHA
	sa.MNToHAEncryption, sa.HAToMNEncryption = Key{}, Key{}
	w, err := MarshalMessage(Message{Identifier: 2, Parameters: sa.parameters()})
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseMessage(w)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SecurityAssociationFrom(m); err != nil {
		t.Fatal(err)
	}
	m.Parameters = m.Parameters[1:] // drop mip6-sas
	if _, err := SecurityAssociationFrom(m); !errors.Is(err, ErrMissing) {
		t.Fatalf("without mip6-sas: %v", err)
	}
}

// An authenticated Response/MHAuth-Init with a status is the HAC's
// refusal, reported with its code.
func TestPSKInitResponseRefusal(t *testing.T) {
	w, err := SignMessage(Message{Identifier: 1, Parameters: []Parameter{StatusServiceUnavailable, RetryAfter{date}}}, examplePSK, SenderHAC, exampleCB)
	if err != nil {
		t.Fatal(err)
	}
	_, err = CheckPSKInitResponse(w, exampleMNRand, examplePSK, exampleCB)
	var se *StatusError
	if !errors.Is(err, ErrRefused) || !errors.As(err, &se) || se.Code != StatusServiceUnavailable {
		t.Fatalf("got %v", err)
	}
}

func TestStatusFor(t *testing.T) {
	w3, err := PSKDoneRequest(2, exampleMNRand, exampleHACRand, SAScopeAll, CipherSuiteList{CipherSuiteAES128CBCSHA}, examplePSK, exampleCB)
	if err != nil {
		t.Fatal(err)
	}
	var l Lockstep
	_, _, wrongPSK := CheckPSKDoneRequest(w3, exampleMNRand, exampleHACRand, []byte("other"), exampleCB)
	_, _, otherNonce := CheckPSKDoneRequest(w3, exampleMNRand, HACRand{}, examplePSK, exampleCB)
	_, _, truncated := CheckPSKDoneRequest(w3[:20], exampleMNRand, exampleHACRand, examplePSK, exampleCB)
	_, _, noPSK := CheckPSKInitRequest(container(1, cat(line("mn-id", "a"), eom)))
	for _, tc := range []struct {
		err  error
		want StatusCode
	}{
		{nil, StatusOK},
		{wrongPSK, StatusUnauthorized},
		{otherNonce, StatusUnauthorized},
		{truncated, StatusBadRequest},
		{noPSK, StatusBadRequest},
		{l.Request(2, false), StatusBadRequest},
		{errors.New("store down"), StatusInternalServerError},
	} {
		if got := StatusFor(tc.err); got != tc.want {
			t.Errorf("StatusFor(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
