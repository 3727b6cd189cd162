package hac_test

import (
	"context"
	"errors"
	"testing"

	"github.com/fhkey/fhkey/internal/eap"
	"github.com/fhkey/fhkey/internal/hac"
	"github.com/fhkey/fhkey/internal/radius"
	"github.com/fhkey/fhkey/mip6tls"
)

// scripted answers every relayed Response with the same result or error.
type scripted struct {
	r   radius.EAPResult
	err error
}

func (s scripted) Send(context.Context, []byte) (radius.EAPResult, error) { return s.r, s.err }

// TestEAPOutOfStep: the AAA outcome and the MN's MHAuth-Done must agree;
// a reject is 401 with the server's EAP-Failure; a silent AAA server 504;
// a MHAuth-Done whose auth is not keyed with the Accept's MSK is 401.
func TestEAPOutOfStep(t *testing.T) {
	success, _ := eap.Packet{Code: eap.CodeSuccess, Identifier: 9}.Marshal()
	failure, _ := eap.Packet{Code: eap.CodeFailure, Identifier: 9}.Marshal()
	var msk eap.MSK
	msk[0] = 7
	accept := radius.EAPResult{Outcome: radius.EAPAccept, EAP: success, MSK: msk, HaveMSK: true}
	suites := mip6tls.CipherSuiteList{mip6tls.CipherSuiteAES128CBCSHA}
	resp := []byte{2, 9, 0, 6, 13, 0}
	for _, tc := range []struct {
		name    string
		backend scripted
		done    bool   // send MHAuth-Done rather than MHAuth-Mid
		key     []byte // MHAuth-Done's key
		status  mip6tls.StatusCode
		want    error
		hasEAP  []byte // the EAP packet the refusal must carry
	}{
		{"accept to a Mid", scripted{r: accept}, false, nil, mip6tls.StatusBadRequest, hac.ErrEAPProtocol, nil},
		{"challenge to a Done", scripted{r: radius.EAPResult{Outcome: radius.EAPContinue, EAP: resp}}, true, msk[:], mip6tls.StatusBadRequest, hac.ErrEAPProtocol, nil},
		{"reject", scripted{r: radius.EAPResult{Outcome: radius.EAPReject, EAP: failure}}, false, nil, mip6tls.StatusUnauthorized, hac.ErrEAPRejected, failure},
		{"AAA silent", scripted{err: errors.New("no answer")}, false, nil, mip6tls.StatusGatewayTimeout, hac.ErrAAA, nil},
		{"Done not keyed with the MSK", scripted{r: accept}, true, []byte("other"), mip6tls.StatusUnauthorized, mip6tls.ErrBadAuthenticator, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mn, end, p := session(t, hac.Config{EAP: func(string) hac.EAPSession { return tc.backend }})
			w1, _ := mip6tls.InitRequest("mn2@example.com", mnRand, mip6tls.AuthMethodEAP)
			if _, _, err := mip6tls.CheckEAPMessage(send(t, mn, w1), mip6tls.SenderHAC, nil, cb); err != nil {
				t.Fatal(err)
			}
			var w []byte
			if tc.done {
				w, _ = mip6tls.EAPDoneRequest(2, mip6tls.SAScopeAll, suites, resp, tc.key, cb)
			} else {
				w, _ = mip6tls.EAPMidRequest(2, resp, cb)
			}
			r := send(t, mn, w)
			key := mip6tls.EAPSharedKey(nil)
			if tc.done && tc.backend.r.HaveMSK {
				key = msk[:]
			}
			if s := status(t, r, key); s != tc.status {
				t.Fatalf("status %v", s)
			}
			if tc.hasEAP != nil {
				m, _ := mip6tls.ParseMessage(r)
				if got, _ := mip6tls.Find[mip6tls.EAPPayload](m); string(got) != string(tc.hasEAP) {
					t.Fatalf("eap-payload %x", got)
				}
			}
			if e := <-end; !errors.Is(e.err, tc.want) || len(p.spis) != 0 {
				t.Fatalf("%v, provisioned %v", e.err, p.spis)
			}
		})
	}
}
