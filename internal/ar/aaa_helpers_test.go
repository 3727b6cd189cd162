package ar

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/testenv"
	"github.com/fhkey/fhkey/keystore"
)

const testNAI = "mn@example.com"

func testHMK(b byte) []byte {
	h := make([]byte, 64)
	for i := range h {
		h[i] = b + byte(i)
	}
	return h
}

// aaaWorld is a PAR in shared-key mode serving an in-memory network, a
// fake HKS and a mobile node on the PAR's link.
type aaaWorld struct {
	t       testing.TB
	clock   *clock
	hks     *fakeHKS
	par     *Router
	parAdr  netip.Addr
	store   keystore.Store
	network *netio.Network
	parConn *netio.MemConn
	mn      *mn.MobileNode
	mnConn  *netio.MemConn
	pcoa    netip.Addr // on the PAR's link
	ncoa    netip.Addr // on the NAR's link
	cfg     AAAConfig
	stop    func()
	// noSEND starts the PAR without SEND credentials (AAA only).
	noSEND bool
}

func newAAAWorld(t testing.TB, cfg AAAConfig, mcfg *mn.AAAConfig) *aaaWorld {
	t.Helper()
	c := labCreds(t, 1024)
	w := &aaaWorld{t: t, clock: &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}, parAdr: c.PAR.CGA.Address,
		pcoa: c.MN.PCoA.Address, ncoa: c.MN.NCoA.Address, network: netio.NewNetwork()}
	w.hks = newFakeHKS(w.clock.Now)
	w.hks.hmk[testNAI] = testHMK(0)
	if cfg.KeyServer == nil {
		cfg.KeyServer = w.hks
	}
	w.cfg = cfg
	w.store = keystore.NewMemory(keystore.WithClock(w.clock.Now))
	w.startPAR(w.store)
	w.mn = w.newMN(mcfg)
	w.mnConn = w.network.Attach([]netip.Addr{w.pcoa, w.ncoa}, nil, 64)
	return w
}

func (w *aaaWorld) newMN(mcfg *mn.AAAConfig) *mn.MobileNode {
	w.t.Helper()
	if mcfg == nil {
		mcfg = &mn.AAAConfig{}
	}
	if mcfg.NAI == "" {
		mcfg.NAI = testNAI
	}
	if mcfg.HMK == nil {
		mcfg.HMK = testHMK(0)
	}
	if mcfg.Timeout == 0 {
		mcfg.Timeout = 2 * time.Second
	}
	m, err := mn.New(mn.Config{AAA: mcfg, Now: w.clock.Now})
	if err != nil {
		w.t.Fatal(err)
	}
	return m
}

// startPAR (re)starts the PAR on store and serves it until the test ends
// or stopPAR.
func (w *aaaWorld) startPAR(store keystore.Store) {
	w.t.Helper()
	c := labCreds(w.t, 1024)
	cfg := w.cfg
	rc := Config{Address: w.parAdr, Parameters: c.PAR.CGA.Parameters, Signer: c.PAR.Key, Store: store,
		Limits: &Limits{}, Now: w.clock.Now, AAA: &cfg}
	if w.noSEND {
		rc.Parameters, rc.Signer = nil, nil
	}
	par, err := New(rc)
	if err != nil {
		w.t.Fatal(err)
	}
	w.par, w.store = par, store
	w.parConn = w.network.Attach([]netip.Addr{w.parAdr}, nil, 256)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- par.Serve(ctx, w.parConn, 2) }()
	conn := w.parConn
	var once sync.Once
	w.stop = func() {
		once.Do(func() {
			cancel()
			<-done
			conn.Close()
		})
	}
	w.t.Cleanup(w.stop)
}

func (w *aaaWorld) stopPAR() { w.stop() }

// boltPAR (re)starts the PAR on the bbolt key store at path, opened with
// the world's clock, and returns the store for the caller to close.
func (w *aaaWorld) boltPAR(path string) *keystore.Bolt {
	w.t.Helper()
	w.stopPAR()
	db, err := keystore.OpenBolt(path, keystore.WithClock(w.clock.Now), keystore.WithBatchDelay(0))
	if err != nil {
		w.t.Fatal(err)
	}
	w.startPAR(db)
	return db
}

// requestKey runs RequestHandoverKey from careOf (sent from src).
func (w *aaaWorld) requestKey(careOf, src netip.Addr) (mn.Event, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return w.mn.RequestHandoverKey(ctx, w.mnConn, w.parAdr, careOf, src)
}

// mustKey requires a new key for careOf from its own address.
func (w *aaaWorld) mustKey(careOf netip.Addr) mn.Event {
	w.t.Helper()
	ev, err := w.requestKey(careOf, careOf)
	if err != nil || ev.Kind != mn.HandoverKeyEstablished {
		w.t.Fatalf("key request: event %v, err %v; AR stats %s", ev.Kind, err, w.aaaStats())
	}
	return ev
}

// fastHandover runs an FBU for the key of pcoa from the NAR's link and
// requires an accepted FBack.
func (w *aaaWorld) fastHandover(pcoa netip.Addr) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ev, err := w.mn.FastHandover(ctx, w.mnConn, w.parAdr, pcoa, w.ncoa, false)
	if err != nil {
		return fmt.Errorf("%w (AR stats %s)", err, w.aaaStats())
	}
	if ev.Status != 0 {
		return fmt.Errorf("FBack status %d", ev.Status)
	}
	return nil
}

func (w *aaaWorld) aaaStats() string {
	s := w.par.Stats()
	p, b := w.par.Exchanges()
	return fmt.Sprintf("{hkreq %d malformed %d noMNID %d noMAC %d dup %d replay %d full %d coa %d badMAC %d vNoKey %d vRelay %d "+
		"noAnswer %d discarded %d refused %d hksErr %d sent %d verified %d status %d resent %d rl %d keys %d dropped %d "+
		"fbu %d ok %d unknown %d badAuth %d internal %d pending %d buffered %d hksCalls %d}",
		s.HKReqReceived, s.HKReqMalformed, s.HKReqNoMNID, s.HKReqNoMAC, s.HKReqDuplicate, s.HKReqReplayed, s.HKReqPendingFull,
		s.HKReqCoAFailed, s.HKReqBadMAC, s.HKReqVerifyNoKey, s.HKReqVerifyRelayed, s.HKSNoAnswer, s.HKSDiscarded, s.HKSRefused,
		s.HKSErrors, s.HKRespSent, s.HKRespVerified, s.HKRespStatus, s.HKRespResent, s.HKRespRateLimited, s.AAAKeysStored,
		s.AnswersDropped, s.FBUReceived, s.FBUAccepted, s.FBUUnknownKey, s.FBUBadAuth, s.InternalErrors, p, b, w.hks.calls.Load())
}

// waitIdle waits until no HKReq is pending at the PAR.
func (w *aaaWorld) waitIdle() {
	w.t.Helper()
	testenv.Eventually(w.t, 10*time.Second, "no pending HKReq", func() (bool, string) {
		p, _ := w.par.Exchanges()
		return p == 0, w.aaaStats()
	})
}

// arRecord returns the PAR's record for mn.
func (w *aaaWorld) arRecord(mn netip.Addr) (keystore.Record, error) {
	return w.store.Get(w.parAdr, mn)
}

// mnKeyRecord returns the MN's shared-mode records.
func mnAAAKeys(m *mn.MobileNode) []keystore.Record {
	var out []keystore.Record
	for _, r := range m.Keys() {
		if r.SPI >= hokey.FirstAAASPI {
			out = append(out, r)
		}
	}
	return out
}
