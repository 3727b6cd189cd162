package hac_test

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/hac"
	"github.com/fhkey/fhkey/internal/hac/hacclient"
	"github.com/fhkey/fhkey/internal/radius"
	"github.com/fhkey/fhkey/mip6tls"
)

var (
	psk = []byte("mn1-pre-shared-key")
	cb  = []byte("channel-binding-octets-of-the-hac-certificate-32")
)

// provisioner records SAs; fail makes it refuse.
type provisioner struct {
	mu   sync.Mutex
	spis []mip6tls.SPI
	fail error
}

func (p *provisioner) Provision(_ context.Context, pr *hac.Provisioned) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		return p.fail
	}
	p.spis = append(p.spis, pr.SA.SPI)
	return nil
}

// continuing is an EAP backend that always asks for more.
type continuing struct{}

func (continuing) Send(context.Context, []byte) (radius.EAPResult, error) {
	return radius.EAPResult{Outcome: radius.EAPContinue, EAP: []byte{1, 9, 0, 6, 13, 0x20}}, nil
}

// session starts one HAC session on an in-memory stream and returns the
// MN's end and the session's outcome.
func session(t *testing.T, cfg hac.Config) (net.Conn, <-chan sessionEnd, *provisioner) {
	t.Helper()
	h, p := newHAC(t, cfg)
	mn, end := start(t, h)
	return mn, end, p
}

func newHAC(t testing.TB, cfg hac.Config) (*hac.HAC, *provisioner) {
	t.Helper()
	p := &provisioner{}
	st := hac.NewMemory()
	for _, s := range []hac.Subscriber{
		{Identity: "mn1@example.com", Methods: []mip6tls.AuthMethod{mip6tls.AuthMethodPSK}, PSK: psk},
		{Identity: "mn2@example.com", Methods: []mip6tls.AuthMethod{mip6tls.AuthMethodEAP}},
	} {
		if err := st.Put(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Subscribers, cfg.Provisioner = st, p
	h, err := hac.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h, p
}

func start(t *testing.T, h *hac.HAC) (net.Conn, <-chan sessionEnd) {
	t.Helper()
	mn, hacEnd := net.Pipe()
	deadline := time.Now().Add(10 * time.Second)
	_ = mn.SetDeadline(deadline)
	_ = hacEnd.SetDeadline(deadline)
	out := make(chan sessionEnd, 1)
	go func() {
		r, err := h.Serve(context.Background(), hacEnd, cb)
		hacEnd.Close()
		out <- sessionEnd{r, err}
	}()
	t.Cleanup(func() { mn.Close() })
	return mn, out
}

type sessionEnd struct {
	res hac.Result
	err error
}

func send(t *testing.T, c net.Conn, wire []byte) []byte {
	t.Helper()
	if _, err := c.Write(wire); err != nil {
		t.Fatal(err)
	}
	resp, err := hacclient.ReadContainer(c, mip6tls.MaxContentLen)
	if err != nil {
		t.Fatalf("no response: %v", err)
	}
	return resp
}

// status returns the status-code of a final response verified with key.
func status(t *testing.T, wire, key []byte) mip6tls.StatusCode {
	t.Helper()
	m, err := mip6tls.VerifyMessage(wire, key, mip6tls.SenderHAC, cb)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := mip6tls.Find[mip6tls.StatusCode](m)
	if !ok {
		t.Fatalf("no status-code in %q", wire)
	}
	return s
}

var mnRand = mip6tls.MNRand{1, 2, 3}

func initPSK(t *testing.T, c net.Conn) mip6tls.HACRand {
	w1, _ := mip6tls.PSKInitRequest("mn1@example.com", mnRand)
	hr, err := mip6tls.CheckPSKInitResponse(send(t, c, w1), mnRand, psk, cb)
	if err != nil {
		t.Fatal(err)
	}
	return hr
}

// TestWrongPSKAtHAC: a Request/MHAuth-Done signed with another PSK gets 401
// (signed with the subscriber's PSK) and nothing is provisioned.
func TestWrongPSKAtHAC(t *testing.T) {
	mn, end, p := session(t, hac.Config{})
	hr := initPSK(t, mn)
	w3, _ := mip6tls.PSKDoneRequest(2, mnRand, hr, mip6tls.SAScopeAll, mip6tls.CipherSuiteList{mip6tls.CipherSuiteAES128CBCSHA}, []byte("wrong"), cb)
	if s := status(t, send(t, mn, w3), psk); s != mip6tls.StatusUnauthorized {
		t.Fatalf("status %v", s)
	}
	e := <-end
	if !errors.Is(e.err, mip6tls.ErrBadAuthenticator) || e.res.SPI != 0 || len(p.spis) != 0 {
		t.Fatalf("%+v, %v, provisioned %v", e.res, e.err, p.spis)
	}
}

// TestNoCommonCipherSuite: 501.
func TestNoCommonCipherSuite(t *testing.T) {
	mn, end, _ := session(t, hac.Config{CipherSuites: []mip6tls.CipherSuite{mip6tls.CipherSuiteAES128CBCSHA256}})
	hr := initPSK(t, mn)
	w3, _ := mip6tls.PSKDoneRequest(2, mnRand, hr, mip6tls.SAScopeAll, mip6tls.CipherSuiteList{mip6tls.CipherSuiteNullSHA}, psk, cb)
	if s := status(t, send(t, mn, w3), psk); s != mip6tls.StatusNotImplemented {
		t.Fatalf("status %v", s)
	}
	if e := <-end; !errors.Is(e.err, hac.ErrNoCipherSuite) {
		t.Fatal(e.err)
	}
}

// TestLockstepViolations: a reused or skipped Identifier gets 400 with the
// request's Identifier, keyed with the PSK after MHAuth-Init.
func TestLockstepViolations(t *testing.T) {
	for _, tc := range []struct {
		name string
		id   uint8
		want error
	}{{"reuse", 1, mip6tls.ErrIdentifierReused}, {"skip", 3, mip6tls.ErrIdentifierSkipped}} {
		t.Run(tc.name, func(t *testing.T) {
			mn, end, p := session(t, hac.Config{})
			hr := initPSK(t, mn)
			w3, _ := mip6tls.PSKDoneRequest(tc.id, mnRand, hr, mip6tls.SAScopeAll, mip6tls.CipherSuiteList{mip6tls.CipherSuiteAES128CBCSHA}, psk, cb)
			resp := send(t, mn, w3)
			if s := status(t, resp, psk); s != mip6tls.StatusBadRequest || resp[1] != tc.id {
				t.Fatalf("status %v, Identifier %d", s, resp[1])
			}
			if e := <-end; !errors.Is(e.err, tc.want) || len(p.spis) != 0 {
				t.Fatalf("%v, provisioned %v", e.err, p.spis)
			}
		})
	}
}

// TestTooManyExchanges: an EAP conversation that never ends stops at 255
// requests: request 256 (which would need Identifier 256) gets 400.
func TestTooManyExchanges(t *testing.T) {
	mn, end, _ := session(t, hac.Config{EAP: func(string) hac.EAPSession { return continuing{} }})
	w1, _ := mip6tls.InitRequest("mn2@example.com", mnRand, mip6tls.AuthMethodEAP)
	send(t, mn, w1)
	resp := []byte(nil)
	for id := 2; id <= mip6tls.MaxExchanges+1; id++ {
		// The 256th request cannot have Identifier 256: the MN wraps to 1.
		w, err := mip6tls.EAPMidRequest(uint8(max(id%256, 1)), []byte{2, 9, 0, 6, 13, 0}, cb)
		if err != nil {
			t.Fatal(err)
		}
		if id > mip6tls.MaxExchanges {
			// Refused on its header: the content is never read (an
			// in-memory pipe would block on it).
			w = w[:mip6tls.ContainerHeaderLen]
		}
		resp = send(t, mn, w)
		if m, _ := mip6tls.ParseMessage(resp); id <= mip6tls.MaxExchanges {
			if _, final := mip6tls.Find[mip6tls.StatusCode](m); final {
				t.Fatalf("request %d ended the exchange", id)
			}
		}
	}
	if s := status(t, resp, mip6tls.EAPSharedKey(nil)); s != mip6tls.StatusBadRequest {
		t.Fatalf("status %v", s)
	}
	if e := <-end; !errors.Is(e.err, hac.ErrTooManyRequests) {
		t.Fatal(e.err)
	}
}

// TestContainerLimits: a container longer than MaxContent is answered 400
// without reading it; a truncated one ends the session unanswered.
func TestContainerLimits(t *testing.T) {
	t.Run("too long", func(t *testing.T) {
		mn, end, _ := session(t, hac.Config{MaxContent: 1000})
		resp := send(t, mn, []byte{0, 1, 0x03, 0xE9}) // Length 1001
		if s := status(t, resp, mip6tls.EAPSharedKey(nil)); s != mip6tls.StatusBadRequest {
			t.Fatalf("status %v", s)
		}
		if e := <-end; !errors.Is(e.err, hac.ErrTooLong) {
			t.Fatal(e.err)
		}
	})
	t.Run("truncated", func(t *testing.T) {
		mn, end, _ := session(t, hac.Config{})
		w1, _ := mip6tls.PSKInitRequest("mn1@example.com", mnRand)
		if _, err := mn.Write(w1[:len(w1)-5]); err != nil {
			t.Fatal(err)
		}
		mn.Close()
		e := <-end
		if !errors.Is(e.err, io.ErrUnexpectedEOF) || !errors.Is(e.err, mip6tls.ErrParse) || e.res.Status != 0 {
			t.Fatalf("%+v, %v", e.res, e.err)
		}
	})
}

// repeating is a randomness source that always gives the same octets.
type repeating struct{}

func (repeating) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = 0x5a
	}
	return len(b), nil
}

// TestSPIsUnique: an SPI of a valid SA is never given again: with a
// randomness source that repeats itself, the second bootstrap finds no
// free SPI and fails with 500, nothing provisioned.
func TestSPIsUnique(t *testing.T) {
	h, p := newHAC(t, hac.Config{Rand: repeating{}})
	var statuses []mip6tls.StatusCode
	for range 2 {
		mn, end := start(t, h)
		hr := initPSK(t, mn)
		w3, _ := mip6tls.PSKDoneRequest(2, mnRand, hr, mip6tls.SAScopeAll, mip6tls.CipherSuiteList{mip6tls.CipherSuiteAES128CBCSHA}, psk, cb)
		statuses = append(statuses, status(t, send(t, mn, w3), psk))
		<-end
	}
	if statuses[0] != mip6tls.StatusOK || statuses[1] != mip6tls.StatusInternalServerError || len(p.spis) != 1 {
		t.Fatalf("statuses %v, provisioned %v", statuses, p.spis)
	}
}
