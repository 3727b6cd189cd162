package pae

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/eap"
	"github.com/fhkey/fhkey/internal/radius"
)

func testMSK() (m eap.MSK) {
	for i := range m {
		m[i] = byte(i)
	}
	return m
}

// TestAuthentication: Start → Identity Request (exact bytes); the
// Identity Response starts the backend session with the identity as
// User-Name; each Response goes to the server and its Request back; on
// Access-Accept the MSK is stored by NAI with the MAC and Session-Timeout,
// and the EAP-Success forwarded. Without Session-Timeout the default
// lifetime applies.
func TestAuthentication(t *testing.T) {
	for _, c := range []struct {
		name    string
		timeout time.Duration
		life    time.Duration
	}{{"Session-Timeout", 600 * time.Second, 600 * time.Second}, {"default", 0, DefaultMSKLifetime}} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, Config{})
			tlsStart := eapPacket(eap.CodeRequest, 7, eap.TypeTLS, "\x20")
			success := eapPacket(eap.CodeSuccess, 8, 0, "")
			w.backend.answers = []radius.EAPResult{
				{Outcome: radius.EAPContinue, EAP: tlsStart},
				{Outcome: radius.EAPAccept, EAP: success, MSK: testMSK(), HaveMSK: true, SessionTimeout: c.timeout},
			}
			f := w.one(macA, eapolPDU(eap.EAPOLStart, nil))
			// Version 2, EAP-Packet, Length 5; EAP Request, Identifier 1, Length 5, Identity.
			if want, _ := hex.DecodeString("0200000501010005" + "01"); !bytes.Equal(f.PDU, want) {
				t.Fatalf("Identity Request % x, want % x", f.PDU, want)
			}
			f = w.one(macA, eapResponse(1, eap.TypeIdentity, "mn@example.com"))
			if got := eapOf(t, f); got.Code != eap.CodeRequest || got.Identifier != 7 || got.Type != eap.TypeTLS {
				t.Fatalf("relayed %+v", got)
			}
			if len(w.backend.users) != 1 || w.backend.users[0] != "mn@example.com" {
				t.Fatalf("User-Name %q", w.backend.users)
			}
			resp := eapResponse(7, eap.TypeTLS, "\x00hello")
			f = w.one(macA, resp)
			if !bytes.Equal(f.PDU[4:], success) {
				t.Fatalf("got % x, want EAP-Success % x", f.PDU, success)
			}
			if !bytes.Equal(w.backend.got[1], resp[4:]) {
				t.Errorf("backend got % x, want the Response % x", w.backend.got[1], resp[4:])
			}
			rec, ok := w.store.m["mn@example.com"]
			want := testMSK()
			if !ok || !bytes.Equal(rec.MSK[:], want[:]) || rec.MAC != macA || !rec.Expires.Equal(w.now.Add(c.life)) {
				t.Fatalf("stored %+v (MAC %v, expires %v), want MSK 00..3f, %v, %v", rec, rec.MAC, rec.Expires, macA, w.now.Add(c.life))
			}
			if s := w.a.Stats(); s.Accepted != 1 || s.Sessions != 0 || s.Authorized != 1 || s.Started != 1 {
				t.Errorf("stats %+v", s)
			}
			// Logoff from the authenticated MAC forgets its MSK.
			w.none(macA, eapolPDU(eap.EAPOLLogoff, nil))
			if _, ok := w.store.m["mn@example.com"]; ok || w.a.Stats().Logoffs != 1 {
				t.Errorf("after Logoff: MSK kept (%v), stats %+v", ok, w.a.Stats())
			}
		})
	}
}

// TestOutcomes: Access-Reject forwards the EAP-Failure and stores
// nothing; an Accept without MS-MPPE keys, or whose MSK cannot be stored,
// becomes an EAP-Failure; a server that does not answer ends the session.
func TestOutcomes(t *testing.T) {
	failure := eapPacket(eap.CodeFailure, 2, 0, "")
	for _, c := range []struct {
		name     string
		answer   radius.EAPResult
		backErr  error
		storeErr error
		want     []byte // EAP packet sent, nil: none
		stat     func(Stats) uint64
	}{
		{"reject", radius.EAPResult{Outcome: radius.EAPReject, EAP: failure}, nil, nil, failure, func(s Stats) uint64 { return s.Rejected }},
		{"accept without MSK", radius.EAPResult{Outcome: radius.EAPAccept, EAP: eapPacket(eap.CodeSuccess, 2, 0, "")}, nil, nil,
			eapPacket(eap.CodeFailure, 1, 0, ""), func(s Stats) uint64 { return s.AcceptedNoMSK }},
		{"store fails", radius.EAPResult{Outcome: radius.EAPAccept, EAP: eapPacket(eap.CodeSuccess, 2, 0, ""), MSK: testMSK(), HaveMSK: true}, nil,
			errors.New("disk full"), eapPacket(eap.CodeFailure, 1, 0, ""), func(s Stats) uint64 { return s.StoreErrors }},
		{"no answer", radius.EAPResult{}, errors.New("no answer"), nil, nil, func(s Stats) uint64 { return s.BackendErrors }},
		{"challenge without Request", radius.EAPResult{Outcome: radius.EAPContinue, EAP: failure}, nil, nil, nil,
			func(s Stats) uint64 { return s.BackendErrors }},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, Config{})
			w.backend.answers, w.backend.err, w.store.err = []radius.EAPResult{c.answer}, c.backErr, c.storeErr
			w.one(macA, eapolPDU(eap.EAPOLStart, nil))
			out := w.a.Handle(t.Context(), macA, eapResponse(1, eap.TypeIdentity, "mn@example.com"))
			switch {
			case c.want == nil && len(out) != 0:
				t.Fatalf("sent % x", out[0].PDU)
			case c.want != nil && (len(out) != 1 || !bytes.Equal(out[0].PDU[4:], c.want)):
				t.Fatalf("sent %v, want % x", out, c.want)
			}
			s := w.a.Stats()
			if c.stat(s) != 1 || s.Sessions != 0 || s.Accepted != 0 || len(w.store.m) != 0 {
				t.Errorf("stats %+v, store %d", s, len(w.store.m))
			}
		})
	}
}

// TestUnexpected: what does not parse or is not expected changes nothing
// and reaches no server: bad EAPOL, EAP that does not parse, a Response
// with the wrong Identifier, a Response without a session, an empty or
// over-long identity, an EAP-Success from the supplicant, an EAPOL-Key,
// a Logoff from a stranger.
func TestUnexpected(t *testing.T) {
	w := newWorld(t, Config{})
	w.none(macB, eapResponse(1, eap.TypeIdentity, "nosession@example.com"))
	w.one(macA, eapolPDU(eap.EAPOLStart, nil))
	long := string(bytes.Repeat([]byte("a"), MaxIdentityLen+1))
	for _, pdu := range [][]byte{
		{0x03, 0x00},             // truncated header
		{0x09, 0x01, 0x00, 0x00}, // version 9
		eapolPDU(eap.EAPOLEAPPacket, []byte{2, 1, 0}), // truncated EAP
		eapResponse(2, eap.TypeIdentity, "mn@example.com"),
		eapResponse(1, eap.TypeIdentity, ""),
		eapResponse(1, eap.TypeIdentity, long),
		eapResponse(1, eap.TypeIdentity, "a\x00b"),
		eapResponse(1, eap.TypeTLS, "\x00"),
		eapolPDU(eap.EAPOLEAPPacket, eapPacket(eap.CodeSuccess, 1, 0, "")),
		eapolPDU(eap.EAPOLKey, []byte{1, 2, 3}),
	} {
		w.none(macA, pdu)
	}
	w.none(macB, eapolPDU(eap.EAPOLLogoff, nil))
	s := w.a.Stats()
	if s.Malformed != 3 || s.Unexpected != 9 || len(w.backend.users) != 0 || s.Sessions != 1 {
		t.Errorf("stats %+v, backend users %q", s, w.backend.users)
	}
	// The session is still usable.
	w.backend.answers = []radius.EAPResult{{Outcome: radius.EAPReject, EAP: eapPacket(eap.CodeFailure, 1, 0, "")}}
	w.one(macA, eapResponse(1, eap.TypeIdentity, "mn@example.com"))
}

// TestRetransmission: a silent supplicant gets the same EAP-Request every
// RetransmitInterval, MaxRetransmissions times, then its session ends;
// a session that keeps answering ends at SessionTimeout.
func TestRetransmission(t *testing.T) {
	w := newWorld(t, Config{RetransmitInterval: time.Second, MaxRetransmissions: 2, SessionTimeout: time.Minute})
	req := w.one(macA, eapolPDU(eap.EAPOLStart, nil))
	if out := w.a.Tick(w.now.Add(999 * time.Millisecond)); len(out) != 0 {
		t.Fatalf("retransmitted early")
	}
	for i := 1; i <= 2; i++ {
		w.now = w.now.Add(time.Second)
		out := w.a.Tick(w.now)
		if len(out) != 1 || !bytes.Equal(out[0].PDU, req.PDU) || out[0].Dst != macA {
			t.Fatalf("retransmission %d: %v, want % x", i, out, req.PDU)
		}
	}
	w.now = w.now.Add(time.Second)
	if out := w.a.Tick(w.now); len(out) != 0 || w.a.Stats().Sessions != 0 {
		t.Fatalf("after %d retransmissions: %v, stats %+v", 2, out, w.a.Stats())
	}
	if s := w.a.Stats(); s.Retransmissions != 2 || s.Expired != 1 {
		t.Errorf("stats %+v", s)
	}
	// A session restarted by Starts every 30 s ends at SessionTimeout
	// only if the server keeps it going: here Start restarts it, so
	// its clock restarts too; an abandoned relay does not.
	w.backend.answers = []radius.EAPResult{{Outcome: radius.EAPContinue, EAP: eapPacket(eap.CodeRequest, 9, eap.TypeTLS, "\x20")}}
	w.one(macB, eapolPDU(eap.EAPOLStart, nil))
	w.one(macB, eapResponse(2, eap.TypeIdentity, "b@example.com"))
	w.now = w.now.Add(time.Minute)
	w.a.Tick(w.now)
	if s := w.a.Stats(); s.Sessions != 0 || s.Expired != 2 {
		t.Errorf("after SessionTimeout: %+v", s)
	}
}
