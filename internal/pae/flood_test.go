package pae

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/eap"
	"github.com/fhkey/fhkey/internal/radius"
)

func floodMAC(i int) (m MAC) {
	m[0] = 2
	binary.BigEndian.PutUint32(m[2:], uint32(i))
	return m
}

// TestFloodManyMACs: EAPOL-Starts from 10,000 MAC addresses at once keep
// at most MaxSessions sessions; the creation rate drops the excess and
// eviction makes room, both counted; a legitimate supplicant still
// authenticates afterwards.
func TestFloodManyMACs(t *testing.T) {
	const macs = 10000
	t.Run("eviction", func(t *testing.T) {
		w := newWorld(t, Config{MaxSessions: 8, NewSessions: Rate{PerSecond: 1e9, Burst: 1e9}})
		for i := range macs {
			w.a.Handle(context.Background(), floodMAC(i), eapolPDU(eap.EAPOLStart, nil))
		}
		if s := w.a.Stats(); s.Sessions != 8 || s.Evicted != macs-8 || s.Started != macs {
			t.Errorf("stats %+v", s)
		}
		w.backend.answers = []radius.EAPResult{{Outcome: radius.EAPAccept, EAP: eapPacket(eap.CodeSuccess, 2, 0, ""), MSK: testMSK(), HaveMSK: true}}
		w.one(macA, eapolPDU(eap.EAPOLStart, nil))
		f := w.one(macA, eapResponse(uint8((macs+1)%256), eap.TypeIdentity, "mn@example.com"))
		if eapOf(t, f).Code != eap.CodeSuccess {
			t.Error("legitimate supplicant not authenticated after the flood")
		}
	})
	t.Run("creation rate", func(t *testing.T) {
		w := newWorld(t, Config{})
		for i := range macs {
			w.a.Handle(context.Background(), floodMAC(i), eapolPDU(eap.EAPOLStart, nil))
		}
		s := w.a.Stats()
		if s.Sessions != DefaultNewSessions.Burst || s.RateLimited != uint64(macs-DefaultNewSessions.Burst) {
			t.Errorf("stats %+v", s)
		}
		w.now = w.now.Add(time.Second) // refills 50
		for i := range macs {
			w.a.Handle(context.Background(), floodMAC(macs+i), eapolPDU(eap.EAPOLStart, nil))
		}
		if s := w.a.Stats(); s.Sessions != DefaultNewSessions.Burst+50 {
			t.Errorf("one second later: stats %+v", s)
		}
	})
	t.Run("per supplicant", func(t *testing.T) {
		w := newWorld(t, Config{})
		for range 1000 {
			w.a.Handle(context.Background(), macA, eapolPDU(eap.EAPOLStart, nil))
		}
		if s := w.a.Stats(); s.Sessions != 1 || s.Started != uint64(DefaultPerSupplicant.Burst) || s.RateLimited != 1000-uint64(DefaultPerSupplicant.Burst) {
			t.Errorf("stats %+v", s)
		}
	})
}

// TestRefusedWhenAllBusy: when every session waits for the server, a new
// supplicant is refused (counted), not evicting one in flight.
func TestRefusedWhenAllBusy(t *testing.T) {
	w := newWorld(t, Config{MaxSessions: 1})
	release := make(chan struct{})
	entered := make(chan struct{})
	w.a.cfg.Backend = blockingBackend{entered: entered, release: release}
	w.one(macA, eapolPDU(eap.EAPOLStart, nil))
	done := make(chan []Frame)
	go func() {
		done <- w.a.Handle(context.Background(), macA, eapResponse(1, eap.TypeIdentity, "a@example.com"))
	}()
	<-entered
	w.none(macB, eapolPDU(eap.EAPOLStart, nil))
	w.none(macA, eapolPDU(eap.EAPOLStart, nil)) // busy: not restarted
	close(release)
	<-done
	if s := w.a.Stats(); s.Refused != 1 || s.Unexpected != 1 || s.BackendErrors != 1 {
		t.Errorf("stats %+v", s)
	}
}

type blockingBackend struct{ entered, release chan struct{} }

func (b blockingBackend) NewSession(string) BackendSession { return b }

func (b blockingBackend) Send(ctx context.Context, _ []byte) (radius.EAPResult, error) {
	close(b.entered)
	<-b.release
	return radius.EAPResult{}, context.Canceled
}

// FuzzHandle: any PDU from any of a few MACs, with Ticks between, never
// panics and never holds more than MaxSessions sessions.
func FuzzHandle(f *testing.F) {
	f.Add(eapolPDU(eap.EAPOLStart, nil), byte(0))
	f.Add(eapResponse(1, eap.TypeIdentity, "mn@example.com"), byte(1))
	f.Add(eapolPDU(eap.EAPOLLogoff, nil), byte(2))
	f.Fuzz(func(t *testing.T, pdu []byte, who byte) {
		w := newWorld(&testing.T{}, Config{MaxSessions: 2})
		w.backend.answers = []radius.EAPResult{
			{Outcome: radius.EAPContinue, EAP: eapPacket(eap.CodeRequest, 5, eap.TypeTLS, "\x20")},
			{Outcome: radius.EAPAccept, EAP: eapPacket(eap.CodeSuccess, 5, 0, ""), MSK: testMSK(), HaveMSK: true},
		}
		for i := range 3 {
			src := MAC{2, 0, 0, 0, 0, who % 4}
			w.a.Handle(context.Background(), src, eapolPDU(eap.EAPOLStart, nil))
			w.a.Handle(context.Background(), src, pdu)
			w.now = w.now.Add(time.Duration(i) * time.Second)
			w.a.Tick(w.now)
			who /= 4
		}
		if s := w.a.Stats(); s.Sessions > 2 {
			t.Fatalf("%d sessions", s.Sessions)
		}
	})
}
