package pae

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/eap"
	"github.com/fhkey/fhkey/internal/radius"
	"github.com/fhkey/fhkey/keystore"
)

// fakeBackend answers each Send from a script: the n-th Response of a
// session gets answers[n].
type fakeBackend struct {
	mu      sync.Mutex
	answers []radius.EAPResult
	err     error
	users   []string
	got     [][]byte
}

type fakeSession struct {
	b *fakeBackend
	n int
}

func (b *fakeBackend) NewSession(user string) BackendSession {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.users = append(b.users, user)
	return &fakeSession{b: b}
}

func (s *fakeSession) Send(_ context.Context, resp []byte) (radius.EAPResult, error) {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.got = append(s.b.got, resp)
	if s.b.err != nil {
		return radius.EAPResult{}, s.b.err
	}
	if s.n >= len(s.b.answers) {
		return radius.EAPResult{}, errors.New("fake: script exhausted")
	}
	s.n++
	return s.b.answers[s.n-1], nil
}

// fakeStore is an MSKStore in memory.
type fakeStore struct {
	mu      sync.Mutex
	m       map[string]keystore.MSKRecord
	err     error
	deleted []string
	// entered, if set, receives a value when Put starts, which then
	// waits for gate to close.
	entered chan struct{}
	gate    chan struct{}
}

func (s *fakeStore) Put(r keystore.MSKRecord) error {
	if s.entered != nil {
		s.entered <- struct{}{}
		<-s.gate
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if s.m == nil {
		s.m = map[string]keystore.MSKRecord{}
	}
	s.m[r.NAI] = r
	return nil
}

func (s *fakeStore) Delete(nai string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, nai)
	s.deleted = append(s.deleted, nai)
	return nil
}

type world struct {
	t       *testing.T
	now     time.Time
	a       *Authenticator
	backend *fakeBackend
	store   *fakeStore
}

func newWorld(t *testing.T, cfg Config) *world {
	w := &world{t: t, now: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), backend: &fakeBackend{}, store: &fakeStore{}}
	cfg.Backend, cfg.Now = w.backend, func() time.Time { return w.now }
	if cfg.Store == nil {
		cfg.Store = w.store
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w.a = a
	return w
}

var (
	macA = MAC{2, 0, 0, 0, 0, 0xa}
	macB = MAC{2, 0, 0, 0, 0, 0xb}
)

func eapolPDU(t eap.EAPOLType, body []byte) []byte {
	b, err := eap.EAPOL{Version: eap.EAPOLVersion2010, Type: t, Body: body}.Marshal()
	if err != nil {
		panic(err)
	}
	return b
}

func eapResponse(id uint8, typ eap.Type, data string) []byte {
	b, err := eap.Packet{Code: eap.CodeResponse, Identifier: id, Type: typ, Data: []byte(data)}.Marshal()
	if err != nil {
		panic(err)
	}
	return eapolPDU(eap.EAPOLEAPPacket, b)
}

func eapPacket(code eap.Code, id uint8, typ eap.Type, data string) []byte {
	b, err := eap.Packet{Code: code, Identifier: id, Type: typ, Data: []byte(data)}.Marshal()
	if err != nil {
		panic(err)
	}
	return b
}

// one handles pdu from src and returns the single frame sent, failing if
// there is not exactly one.
func (w *world) one(src MAC, pdu []byte) Frame {
	w.t.Helper()
	out := w.a.Handle(context.Background(), src, pdu)
	if len(out) != 1 {
		w.t.Fatalf("%d frames, want 1 (stats %+v)", len(out), w.a.Stats())
	}
	if out[0].Dst != src {
		w.t.Fatalf("frame to %v, want %v", out[0].Dst, src)
	}
	return out[0]
}

func (w *world) none(src MAC, pdu []byte) {
	w.t.Helper()
	if out := w.a.Handle(context.Background(), src, pdu); len(out) != 0 {
		w.t.Fatalf("%d frames, want none", len(out))
	}
}

// eapOf returns the EAP packet of an EAPOL-EAP frame.
func eapOf(t *testing.T, f Frame) eap.Packet {
	t.Helper()
	p, err := eap.ParseEAPOL(f.PDU)
	if err != nil {
		t.Fatal(err)
	}
	pkt, err := p.EAP()
	if err != nil {
		t.Fatal(err)
	}
	return pkt
}
