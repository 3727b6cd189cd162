package ha

import (
	"errors"

	"net/netip"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/mip6sa"

	"github.com/fhkey/fhkey/mip6tls"
	"github.com/fhkey/fhkey/mip6udp"
)

// TestRestartKeepsBinding: a new home agent restored from the store keeps
// the valid binding, never reuses an outbound Sequence Number (the MN's
// window accepts what it seals next) and refuses packets received before
// the checkpoint.
func TestRestartKeepsBinding(t *testing.T) {
	f := newFixture(t, mip6tls.SAScopeAll)
	f.register(1)
	data := f.seal(mip6udp.PacketTypeData, 41, ipv6(hoa, cn))
	if _, err := f.ha.HandleUDP(nil, t0, coa, data); err != nil {
		t.Fatal(err)
	}
	if err := f.ha.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	sas, bs := f.store.records()
	h2 := New(Config{HomePrefix: homePrefix, Store: f.store})
	if err := h2.Restore(t0.Add(time.Minute), sas, bs); err != nil {
		t.Fatal(err)
	}
	if got := h2.Bindings(); len(got) != 1 || got[0].CareOf != coa || got[0].Sequence != 1 {
		t.Fatalf("bindings after restart %+v", got)
	}
	if _, err := h2.HandleUDP(nil, t0.Add(time.Minute), coa, data); !errors.Is(err, mip6udp.ErrReplayed) {
		t.Errorf("data replayed after restart: %v, want ErrReplayed", err)
	}
	to, out, err := h2.FromHomeLink(nil, t0.Add(time.Minute), ipv6(cn, hoa))
	if err != nil || to != coa {
		t.Fatal(err)
	}
	m, _, err := f.mn.In.Open(nil, out)
	if err != nil || m.SequenceNumber <= SequenceBlock {
		t.Errorf("MN opens the restarted HA's packet: seq %d, %v; want beyond the first reservation", m.SequenceNumber, err)
	}
	// The BU sequence is kept: a stale BU is still refused.
	r, err := h2.HandleUDP(nil, t0.Add(time.Minute), coa, f.sealBU(1, time.Minute))
	if err != nil || f.ack(r).Status != StatusSequenceOutOfWindow {
		t.Errorf("stale BU after restart: %v", err)
	}
}

// TestExpiry: a binding is dropped at its lifetime; an SA past its
// validity answers BUs with 176 during the grace and is then removed;
// Restore drops what has expired.
func TestExpiry(t *testing.T) {
	f := newFixture(t, mip6tls.SAScopeAll)
	f.register(1) // 10 minutes
	if next := f.ha.Expire(t0.Add(time.Minute)); !next.Equal(t0.Add(10 * time.Minute)) {
		t.Errorf("next expiry %v", next)
	}
	f.ha.Expire(t0.Add(10 * time.Minute))
	if len(f.ha.Bindings()) != 0 || len(f.store.bindings) != 0 || f.ha.Stats().BindingsExpired != 1 {
		t.Fatal("binding not expired")
	}
	// Past the SA's validity, within the grace: BU → 176.
	end := t0.Add(time.Hour)
	r, err := f.ha.HandleUDP(nil, end, coa, f.sealBU(2, time.Minute))
	if err != nil || f.ack(r).Status != StatusReinitSAWithHAC {
		t.Fatalf("BU on an expired SA: %v", err)
	}
	if _, err := f.ha.HandleUDP(nil, end, coa, f.seal(mip6udp.PacketTypeData, 41, ipv6(hoa, cn))); !errors.Is(err, ErrExpiredSA) {
		t.Errorf("data on an expired SA: %v", err)
	}
	f.ha.Expire(end.Add(DefaultGrace))
	if len(f.ha.SAs(end)) != 0 || len(f.store.sas) != 0 {
		t.Fatal("SA not removed after the grace")
	}
	if _, err := f.ha.HandleUDP(nil, end, coa, f.sealBU(3, time.Minute)); !errors.Is(err, mip6udp.ErrUnknownSPI) {
		t.Errorf("BU after removal: %v", err)
	}

	// Restore drops an expired binding and an SA past its grace.
	g := newFixture(t, mip6tls.SAScopeAll)
	g.register(1)
	sas, bs := g.store.records()
	h := New(Config{Store: g.store})
	if err := h.Restore(t0.Add(11*time.Minute), sas, bs); err != nil {
		t.Fatal(err)
	}
	if len(h.Bindings()) != 0 || len(g.store.bindings) != 0 || len(h.SAs(t0)) != 1 {
		t.Errorf("restore after the lifetime: bindings %v, SAs %v", h.Bindings(), h.SAs(t0))
	}
	h = New(Config{Store: g.store})
	if err := h.Restore(end.Add(DefaultGrace), sas, nil); err != nil || len(h.SAs(end)) != 0 || len(g.store.sas) != 0 {
		t.Errorf("restore after the grace: %v %v", err, h.SAs(end))
	}
}

// TestReplaceSA: a re-bootstrap (new SPI, same home address) replaces the
// old SA, which the binding keeps using until a BU under the new SA; then
// the old one goes.
func TestReplaceSA(t *testing.T) {
	f := newFixture(t, mip6tls.SAScopeAll)
	f.register(1)
	sa, bs := testSA(t, 0x5678, mip6tls.SAScopeAll)
	if err := f.ha.InstallSA(t0, sa, bs); err != nil {
		t.Fatal(err)
	}
	if sas := f.ha.SAs(t0); len(sas) != 2 {
		t.Fatalf("SAs %+v, want the old one kept for the binding", sas)
	}
	if b := f.ha.Bindings(); len(b) != 1 || b[0].SPI != 0x1234 {
		t.Fatalf("bindings %+v", b)
	}
	if ba := f.register(2); ba.Status != StatusAccepted {
		t.Fatalf("BU under the old SA before the new one registered: %+v", ba)
	}
	g := &fixture{t: t, ha: f.ha, store: f.store}
	var err error
	if g.mn, err = mip6sa.New(mip6sa.MobileNode, &sa, &bs); err != nil {
		t.Fatal(err)
	}
	if ba := g.register(3); ba.Status != StatusAccepted {
		t.Fatalf("BU under the new SA: %+v", ba)
	}
	if sas := f.ha.SAs(t0); len(sas) != 1 || sas[0].SPI != 0x5678 || len(f.store.sas) != 1 {
		t.Fatalf("SAs %+v after the BU under the new SA", sas)
	}
	if b := f.ha.Bindings(); len(b) != 1 || b[0].SPI != 0x5678 {
		t.Fatalf("bindings %+v", b)
	}
	if _, err := f.ha.HandleUDP(nil, t0, coa, f.sealBU(4, time.Minute)); !errors.Is(err, mip6udp.ErrUnknownSPI) {
		t.Errorf("BU on the replaced SA: %v", err)
	}
	// Without a binding the replaced SA goes at once.
	h := newFixture(t, mip6tls.SAScopeAll)
	if err := h.ha.InstallSA(t0, sa, bs); err != nil {
		t.Fatal(err)
	}
	if sas := h.ha.SAs(t0); len(sas) != 1 || sas[0].SPI != 0x5678 {
		t.Errorf("no binding: SAs %+v", sas)
	}
	// Refusals: no home address, validity already ended.
	noHoA := bs
	noHoA.HomeAddress6 = noHoA.HomeAddress4
	if err := f.ha.InstallSA(t0, sa, noHoA); !errors.Is(err, ErrSA) {
		t.Errorf("no home address: %v", err)
	}
	if err := f.ha.InstallSA(sa.ValidityEnd, sa, bs); !errors.Is(err, ErrSA) {
		t.Errorf("expired: %v", err)
	}
}

// TestReinstallSameSPI: the same SPI installed again for the same home
// address keeps the binding; for another home address it drops the old
// address's binding.
func TestReinstallSameSPI(t *testing.T) {
	f := newFixture(t, mip6tls.SAScopeAll)
	f.register(1)
	sa, bs := testSA(t, 0x1234, mip6tls.SAScopeAll)
	if err := f.ha.InstallSA(t0, sa, bs); err != nil {
		t.Fatal(err)
	}
	if len(f.ha.Bindings()) != 1 || f.ha.Stats().SAsReplaced != 1 {
		t.Fatalf("same SPI, same HoA: bindings %v stats %+v", f.ha.Bindings(), f.ha.Stats())
	}
	bs.HomeAddress6 = netip.MustParseAddr("2001:db8:1::300")
	if err := f.ha.InstallSA(t0, sa, bs); err != nil {
		t.Fatal(err)
	}
	if len(f.ha.Bindings()) != 0 || len(f.store.bindings) != 0 {
		t.Errorf("same SPI, other HoA: bindings %v", f.ha.Bindings())
	}
	if sas := f.ha.SAs(t0); len(sas) != 1 || sas[0].HomeAddress != bs.HomeAddress6 {
		t.Errorf("SAs %+v", sas)
	}
}

// TestRestoreDuringRebootstrap: a restart between the re-bootstrap and the
// MN's BU under the new SA keeps both SAs, the binding on the old one, and
// the new one current.
func TestRestoreDuringRebootstrap(t *testing.T) {
	f := newFixture(t, mip6tls.SAScopeAll)
	f.register(1)
	sa, bs := testSA(t, 0x5678, mip6tls.SAScopeAll)
	sa.ValidityEnd = t0.Add(2 * time.Hour)
	if err := f.ha.InstallSA(t0, sa, bs); err != nil {
		t.Fatal(err)
	}
	sas, bindings := f.store.records()
	h := New(Config{HomePrefix: homePrefix, Store: f.store})
	if err := h.Restore(t0, sas, bindings); err != nil {
		t.Fatal(err)
	}
	if got := h.SAs(t0); len(got) != 2 {
		t.Fatalf("SAs %+v", got)
	}
	if b := h.Bindings(); len(b) != 1 || b[0].SPI != 0x1234 {
		t.Fatalf("bindings %+v", b)
	}
	if h.byHoA[hoa] != 0x5678 || h.previous[hoa] != 0x1234 {
		t.Errorf("current %d, previous %d", h.byHoA[hoa], h.previous[hoa])
	}
}

// TestInstallDoesNotHoldPackets: while a new SA's record is being written
// (an fsync on a real store), the packet path keeps serving the SAs
// already installed; the new SA is in the table once the write is done,
// and a failed write leaves the table as it was.
func TestInstallDoesNotHoldPackets(t *testing.T) {
	f := newFixture(t, mip6tls.SAScopeAll)
	f.register(1)
	send := func() error {
		_, err := f.ha.HandleUDP(nil, t0, coa, f.seal(mip6udp.PacketTypeData, 41, ipv6(hoa, cn)))
		return err
	}
	if err := send(); err != nil { // the SA's first lease is written here
		t.Fatal(err)
	}
	f.store.saEntered, f.store.saGate = make(chan mip6udp.SPI), make(chan struct{})
	sa, bs := testSA(t, 0x5678, mip6tls.SAScopeAll) // a re-bootstrap of the same home address
	installed := make(chan error, 1)
	go func() { installed <- f.ha.InstallSA(t0, sa, bs) }()
	deadline := time.After(10 * time.Second)
	select {
	case spi := <-f.store.saEntered:
		if spi != 0x5678 {
			t.Fatalf("PutSA of SPI %#x", spi)
		}
	case <-deadline:
		t.Fatal("InstallSA never wrote the record")
	}
	// The write is in progress: data and a BU under the installed SA go
	// through, and the new SA is not in the table yet.
	served := make(chan error, 1)
	go func() {
		err := send()
		if err == nil {
			_, err = f.ha.HandleUDP(nil, t0, coa, f.sealBU(2, 10*time.Minute))
		}
		served <- err
	}()
	select {
	case err := <-served:
		if err != nil {
			t.Fatal(err)
		}
	case <-deadline:
		t.Fatal("packets waited for the install's store write")
	}
	if sas := f.ha.SAs(t0); len(sas) != 1 || sas[0].SPI != 0x1234 {
		t.Fatalf("SAs during the write: %+v", sas)
	}
	close(f.store.saGate)
	if err := <-installed; err != nil {
		t.Fatal(err)
	}
	if sas := f.ha.SAs(t0); len(sas) != 2 {
		t.Fatalf("SAs after the install: %+v, want the new one and the old one kept for the binding", sas)
	}
	// A failed write changes nothing.
	f.store.saGate = nil
	f.store.fail = true
	other, obs := testSA(t, 0x9abc, mip6tls.SAScopeAll)
	if err := f.ha.InstallSA(t0, other, obs); !errors.Is(err, ErrStore) {
		t.Fatalf("install on a failing store: %v", err)
	}
	if sas := f.ha.SAs(t0); len(sas) != 2 || f.ha.Stats().SAsInstalled != 2 {
		t.Errorf("after a failed install: SAs %+v, stats %+v", sas, f.ha.Stats())
	}
}
