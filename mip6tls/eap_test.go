package mip6tls

import (
	"bytes"
	"errors"
	"testing"
)

// TestEAPExchange runs RFC 6618 §5.9 in memory with one MHAuth-Mid round:
// Init and Mid keyed with "1", Done keyed with the MSK.
func TestEAPExchange(t *testing.T) {
	cb := exampleCB
	msk := bytes.Repeat(b(0x5a), 64)
	offered := CipherSuiteList{CipherSuiteAES128CBCSHA256}
	var mn, hac Lockstep
	step := func(wire []byte, request bool) Message {
		t.Helper()
		m, err := ParseMessage(wire)
		if err != nil {
			t.Fatal(err)
		}
		_, final := Find[StatusCode](m)
		for _, l := range []*Lockstep{&mn, &hac} {
			if request {
				err = l.Request(m.Identifier, final)
			} else {
				_, err = l.Response(m.Identifier, final)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		return m
	}
	eapIdentityRequest := EAPPayload(unhex("0101000501"))
	eapIdentityResponse := EAPPayload(s("\x02\x01\x00\x13\x01mn1@example.com"))
	eapSuccess := EAPPayload(unhex("03020004"))

	w1, err := InitRequest("mn1@example.com", exampleMNRand, AuthMethodEAP, AuthMethodPSK)
	if err != nil {
		t.Fatal(err)
	}
	if ms, _ := Find[AuthMethods](step(w1, true)); len(ms) != 2 || ms[0] != AuthMethodEAP {
		t.Fatalf("auth-method %v", ms)
	}
	w2, err := EAPInitResponse(1, eapIdentityRequest, cb)
	if err != nil {
		t.Fatal(err)
	}
	step(w2, false)
	if _, eap, err := CheckEAPMessage(w2, SenderHAC, nil, cb); err != nil || !bytes.Equal(eap, eapIdentityRequest) {
		t.Fatalf("MHAuth-Init response: %x, %v", eap, err)
	}
	w3, err := EAPMidRequest(2, eapIdentityResponse, cb)
	if err != nil {
		t.Fatal(err)
	}
	if m := step(w3, true); IsDoneRequest(m) {
		t.Fatal("MHAuth-Mid taken for MHAuth-Done")
	}
	if _, eap, err := CheckEAPMessage(w3, SenderMN, nil, cb); err != nil || !bytes.Equal(eap, eapIdentityResponse) {
		t.Fatalf("MHAuth-Mid request: %v", err)
	}
	w4, err := EAPMidResponse(2, EAPPayload(unhex("010200060d20")), cb)
	if err != nil {
		t.Fatal(err)
	}
	step(w4, false)
	w5, err := EAPDoneRequest(3, SAScopeSignaling, offered, EAPPayload(unhex("020200060d00")), msk, cb)
	if err != nil {
		t.Fatal(err)
	}
	if m := step(w5, true); !IsDoneRequest(m) {
		t.Fatal("MHAuth-Done not recognised")
	}
	// The Done request is keyed with the MSK, not "1".
	if _, _, err := CheckEAPMessage(w5, SenderMN, nil, cb); !errors.Is(err, ErrBadAuthenticator) {
		t.Fatalf("Done request checked with key \"1\": %v", err)
	}
	if _, _, err := CheckEAPMessage(w5, SenderMN, msk, cb); err != nil {
		t.Fatal(err)
	}
	sa := exampleSA(t)
	w6, err := EAPDoneResponse(3, StatusOK, &sa, nil, eapSuccess, msk, cb)
	if err != nil {
		t.Fatal(err)
	}
	step(w6, false)
	m, eap, err := CheckEAPMessage(w6, SenderHAC, msk, cb)
	if err != nil || !bytes.Equal(eap, eapSuccess) {
		t.Fatalf("Done response: %v", err)
	}
	r, err := ReadDoneResponse(m, offered)
	if err != nil || r.Status != StatusOK || r.SA.SPI != sa.SPI || !r.SA.HAToMNEncryption.Equal(&sa.HAToMNEncryption) {
		t.Fatalf("%+v, %v", r, err)
	}
	if !mn.Done() || !hac.Done() {
		t.Fatal("exchange not ended")
	}
}

func TestEAPKeyOne(t *testing.T) {
	// "shared-key is set to '1'": the ASCII octet 0x31.
	w, err := EAPMidRequest(2, EAPPayload{2}, exampleCB)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyMessage(w, []byte{0x31}, SenderMN, exampleCB); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyMessage(w, []byte{0x01}, SenderMN, exampleCB); !errors.Is(err, ErrBadAuthenticator) {
		t.Fatalf("key 0x01: %v", err)
	}
	noEAP, _ := SignMessage(Message{Identifier: 2, Parameters: []Parameter{SPI(1)}}, []byte("1"), SenderMN, exampleCB)
	if _, _, err := CheckEAPMessage(noEAP, SenderMN, nil, exampleCB); !errors.Is(err, ErrMissing) {
		t.Fatalf("no eap-payload: %v", err)
	}
}
