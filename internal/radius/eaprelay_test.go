package radius

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/testenv"
	"layeh.com/radius"
)

var (
	// testEAPResponse is the peer's EAP Response/Identity.
	testEAPResponse = []byte{2, 7, 0, 8, 1, 'a', 'b', 'c'}
	// testEAPRequest is the server's EAP-TLS Start.
	testEAPRequest = []byte{1, 8, 0, 6, 13, 0x20}
)

func newEAPRelay(t testing.TB, timeout time.Duration, tries int, servers ...netip.AddrPort) *EAPRelay {
	t.Helper()
	cfg := EAPRelayConfig{NAS: testNAS, Timeout: timeout, Tries: tries}
	for _, a := range servers {
		cfg.Servers = append(cfg.Servers, HomeServer{Addr: a, Secret: testSecret})
	}
	r, err := NewEAPRelay(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// eapRequestOf checks the relay's Access-Request wire (its
// Message-Authenticator) and returns its Request Authenticator, EAP-Message
// and State.
func eapRequestOf(t testing.TB, wire []byte) (auth [16]byte, msg, state []byte) {
	copy(auth[:], wire[4:headerLen])
	if err := verifyMessageAuthenticator(wire, &auth, testSecret); err != nil {
		t.Errorf("Access-Request: %v", err)
	}
	attrs, err := parseAttributes(wire[headerLen:])
	if err != nil {
		t.Errorf("Access-Request: %v", err)
	}
	for _, a := range attrs {
		switch {
		case a.vendor:
		case a.std == typeEAPMessage:
			msg = append(msg, a.value...)
		case a.std == typeState:
			state = append([]byte(nil), a.value...)
		}
	}
	return auth, msg, state
}

// eapReply is the server's signed reply of Code code to the Access-Request
// wire, with the EAP-Message msg and the State state (each if not nil).
func eapReply(t testing.TB, code radius.Code, wire, msg, state []byte) []byte {
	auth, _, _ := eapRequestOf(t, wire)
	p := &radius.Packet{Code: code, Identifier: wire[1], Authenticator: auth}
	p.Add(typeMessageAuthenticator, make(radius.Attribute, authenticator))
	if msg != nil {
		p.Add(typeEAPMessage, radius.Attribute(msg))
	}
	if state != nil {
		p.Add(typeState, radius.Attribute(state))
	}
	b, err := marshal(p, &auth, testSecret)
	if err != nil {
		t.Error(err)
	}
	return b
}

// TestEAPRelayDropsBadReplies: Access-Challenges with a wrong Identifier,
// a wrong Response Authenticator, no Message-Authenticator and a wrong one
// are dropped and counted; the relay keeps waiting and takes the good one.
func TestEAPRelayDropsBadReplies(t *testing.T) {
	addr := fakeRADIUSServer(t, func(wire []byte) [][]byte {
		auth, msg, _ := eapRequestOf(t, wire)
		if !bytes.Equal(msg, testEAPResponse) {
			t.Errorf("EAP-Message % x, want % x", msg, testEAPResponse)
		}
		good := eapReply(t, radius.CodeAccessChallenge, wire, testEAPRequest, []byte("s1"))
		wrongID := bytes.Clone(good)
		wrongID[1]++
		sign(wrongID, maOffset, &auth, testSecret) // authentic, but no request has that Identifier
		wrongRA := bytes.Clone(good)
		wrongRA[4] ^= 1
		return [][]byte{wrongID, wrongRA, withoutMessageAuth(good, auth), withWrongMessageAuth(good, auth), good}
	})
	r := newEAPRelay(t, 5*time.Second, 1, addr)
	res, err := r.NewSession("abc").Send(context.Background(), testEAPResponse)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != EAPContinue || !bytes.Equal(res.EAP, testEAPRequest) {
		t.Fatalf("result %+v", res)
	}
	testenv.Eventually(t, 5*time.Second, "bad replies counted", func() (bool, string) {
		s := r.Stats()
		return s.DroppedIdentifier == 1 && s.DroppedAuth == 1 && s.DroppedMessageAuth == 2 &&
			s.Challenges == 1 && s.Transmissions == 1, fmt.Sprintf("%+v", s)
	})
}

// recorder keeps copies of the packets a fake server received.
type recorder struct {
	mu      sync.Mutex
	packets [][]byte
}

func (r *recorder) add(b []byte) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.packets = append(r.packets, bytes.Clone(b))
	return len(r.packets)
}

func (r *recorder) get() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.packets
}

// TestEAPRelayRetransmission: the server answers only the second
// transmission; both were the same packet (Identifier, Request
// Authenticator, attributes: RFC 5080 §2.2.1).
func TestEAPRelayRetransmission(t *testing.T) {
	var rec recorder
	addr := fakeRADIUSServer(t, func(wire []byte) [][]byte {
		if rec.add(wire) == 1 {
			return nil
		}
		return [][]byte{eapReply(t, radius.CodeAccessChallenge, wire, testEAPRequest, []byte("s1"))}
	})
	r := newEAPRelay(t, 100*time.Millisecond, 2, addr)
	res, err := r.NewSession("abc").Send(context.Background(), testEAPResponse)
	if err != nil || res.Outcome != EAPContinue {
		t.Fatalf("%+v, %v", res, err)
	}
	if p := rec.get(); len(p) != 2 || !bytes.Equal(p[0], p[1]) {
		t.Fatalf("received %d packets, want the same one twice:\n% x", len(p), p)
	}
	if s := r.Stats(); s.Transmissions != 2 || s.Retransmissions != 1 || s.Failovers != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// TestEAPRelayFailover: the first server never answers; after Tries
// transmissions the first Access-Request of the session goes to the
// second, and the next one (with the State it sent) only to the second.
func TestEAPRelayFailover(t *testing.T) {
	var silent recorder
	silentAddr := fakeRADIUSServer(t, func(wire []byte) [][]byte { silent.add(wire); return nil })
	addr := fakeRADIUSServer(t, func(wire []byte) [][]byte {
		_, _, state := eapRequestOf(t, wire)
		if state == nil {
			return [][]byte{eapReply(t, radius.CodeAccessChallenge, wire, testEAPRequest, []byte("s1"))}
		}
		if string(state) != "s1" {
			t.Errorf("State %q, want s1", state)
		}
		return [][]byte{eapReply(t, radius.CodeAccessAccept, wire, []byte{3, 9, 0, 4}, nil)}
	})
	r := newEAPRelay(t, 100*time.Millisecond, 2, silentAddr, addr)
	s := r.NewSession("abc")
	if res, err := s.Send(context.Background(), testEAPResponse); err != nil || res.Outcome != EAPContinue {
		t.Fatalf("first: %+v, %v", res, err)
	}
	if st := r.Stats(); st.Failovers != 1 || st.Transmissions != 3 || st.Retransmissions != 1 {
		t.Fatalf("stats after failover %+v", st)
	}
	res, err := s.Send(context.Background(), []byte{2, 9, 0, 6, 13, 0})
	if err != nil || res.Outcome != EAPAccept || !bytes.Equal(res.EAP, []byte{3, 9, 0, 4}) {
		t.Fatalf("second: %+v, %v", res, err)
	}
	if st := r.Stats(); st.Transmissions != 4 || st.Failovers != 1 || st.Accepts != 1 || len(silent.get()) != 2 {
		t.Fatalf("stats %+v, %d packets at the silent server", st, len(silent.get()))
	}
}
