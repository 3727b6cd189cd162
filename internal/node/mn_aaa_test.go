package node

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/ar"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/testenv"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/mh"
)

// TestMNIndirectRefresh is the shared-key mode's §6.5 in the MN daemon's
// provisioning loop (draft-vidya-mipshop-handover-keys-aaa-04; docs/aaa.md,
// The daemons): `fhkey hks` in process on loopback RADIUS, an AAA-only
// access router role (radius.Client as its KeyServer) and the daemon's
// mnNode on an in-memory network. The node gets its key from the PAR on
// the PAR's link, moves to the NAR's link (no router to ask there) and has
// its FBU accepted, so the PAR forwards its PCoA. When that key comes due
// (refresh_before), the loop refreshes it from the NCoA: an HKReq without
// V, Key Care of Address ::, answered to the NCoA; the PAR's store holds
// the new SPI under the PCoA with the key the MN holds, and an FBU from the
// NCoA naming the PCoA, authenticated with the refreshed key, is accepted
// by the PAR.
func TestMNIndirectRefresh(t *testing.T) {
	f := newHKSFixture(t)
	d := startHKSDaemon(t, f.file)
	t.Cleanup(func() { _ = d.stop() })
	var st struct {
		Role HKSStatus `json:"role"`
	}
	if _, body := d.get("/status"); json.Unmarshal([]byte(body), &st) != nil {
		t.Fatalf("HKS /status %s", body)
	}
	hksAddr, err := netip.ParseAddrPort(st.Role.Listen)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	par := netip.MustParseAddr("2001:db8:1::1")
	pcoa, ncoa := netip.MustParseAddr("2001:db8:1::100"), netip.MustParseAddr("2001:db8:2::100")
	network := netio.NewNetwork()
	var mu sync.Mutex
	var seen []netio.Packet // HKReqs and HKResps
	network.AddTap(func(p netio.Packet) {
		if len(p.Payload) > 2 && (p.Payload[2] == mh.DefaultHandoverKeyRequestType || p.Payload[2] == mh.DefaultHandoverKeyResponseType) {
			mu.Lock()
			seen = append(seen, netio.Packet{Src: p.Src, Dst: p.Dst, Payload: append([]byte(nil), p.Payload...)})
			mu.Unlock()
		}
	})

	// The PAR: keys of 6 s (HK-LIFETIME caps the HKS's hour), forwarding
	// for the FBU's 10 s.
	parStore := keystore.NewMemory()
	router, err := ar.New(ar.Config{Address: par, Store: parStore, Limits: &ar.Limits{}, KeyLifetime: 6 * time.Second,
		AAA: &ar.AAAConfig{KeyServer: radiusClient(t, hksAddr, hksTestSecret, 2*time.Second, 2)}})
	if err != nil {
		t.Fatal(err)
	}
	parConn := network.Attach([]netip.Addr{par}, nil, 64)
	served := make(chan error, 1)
	go func() { served <- router.Serve(ctx, parConn, 1) }()
	t.Cleanup(func() { cancel(); <-served })

	// The MN daemon's node: refresh_before 3 s, the PAR its link's only
	// router, none on the NAR's link.
	role, err := mn.New(mn.Config{RefreshBefore: 3 * time.Second, Store: keystore.NewMemory(),
		AAA: &mn.AAAConfig{NAI: f.sub.NAI, HMK: f.sub.HMK, PRF: hokey.PRFHMACSHA256, MAC: hokey.MACHMACSHA256}})
	if err != nil {
		t.Fatal(err)
	}
	mobile := &Mobile{Role: role, PCoA: mn.CareOf{Address: pcoa}, NCoA: mn.CareOf{Address: ncoa}}
	mobile.splitKeyConn(ctx, network.Attach([]netip.Addr{pcoa, ncoa}, nil, 64), mh.DefaultHandoverKeyResponseType)
	n := &mnNode{m: mobile, log: slog.New(slog.NewTextHandler(io.Discard, nil)), aaa: true, wake: make(chan struct{}, 1),
		bound: map[int32]mnBinding{}, links: []mnLink{{iface: "par0", coa: pcoa, routers: []netip.Addr{par}}, {iface: "nar0", coa: ncoa}}}
	go n.provision(ctx)

	key := func() (keystore.Record, bool) {
		for _, r := range role.Keys() {
			if r.AR == par && r.MN == pcoa {
				return r, true
			}
		}
		return keystore.Record{}, false
	}
	var first keystore.Record
	testenv.Eventually(t, 10*time.Second, "a key from the PAR on its link", func() (bool, string) {
		var ok bool
		first, ok = key()
		return ok && first.SPI >= hokey.FirstAAASPI, fmt.Sprintf("MN keys %v, last error %q", role.Keys(), n.status().LastRequestErr)
	})

	// The move, as handoverTo makes it: the FBU from the NCoA, accepted,
	// and the binding recorded.
	n.current.Store(LinkNew)
	ev, err := mobile.FastHandoverFrom(ctx, par, LinkPrevious)
	if err != nil || ev.Status != 0 {
		t.Fatalf("FBU: status %d, %v", ev.Status, err)
	}
	n.mu.Lock()
	n.bound[LinkPrevious] = mnBinding{router: par, expires: time.Now().Add(ev.Lifetime)}
	n.mu.Unlock()
	// The key compared is the one held after the FBU: had the test
	// stalled past the first key's refresh time (3 s) before the move, it
	// was refreshed directly on the PAR's link, and the one held now is
	// refreshed from the NAR's link in its turn (the binding outlives it).
	first, _ = key()
	n.wake <- struct{}{}

	var refreshed keystore.Record
	testenv.Eventually(t, 10*time.Second, "the PAR's key refreshed from the NAR's link", func() (bool, string) {
		var ok bool
		refreshed, ok = key()
		return ok && refreshed.SPI != first.SPI, fmt.Sprintf("MN keys %v (first SPI %d), last error %q", role.Keys(), first.SPI, n.status().LastRequestErr)
	})
	// What went over the network for it: the last HKReq from the NCoA with
	// Key Care of Address ::, V clear; its HKResp to the NCoA.
	mu.Lock()
	exchange := seen[len(seen)-2:]
	mu.Unlock()
	m, err := mh.ParseMessage(exchange[0].Payload)
	req, ok := m.(mh.HandoverKeyRequest)
	if err != nil || !ok || exchange[0].Src != ncoa || exchange[0].Dst != par || req.Verify || !req.KeyCareOfAddress.IsUnspecified() {
		t.Fatalf("HKReq %v -> %v %#v (%v): want from the NCoA to the PAR, V clear, Key Care of Address ::", exchange[0].Src, exchange[0].Dst, m, err)
	}
	if m, err := mh.ParseMessage(exchange[1].Payload); err != nil || exchange[1].Src != par || exchange[1].Dst != ncoa {
		t.Fatalf("HKResp %v -> %v %#v (%v): want from the PAR to the NCoA", exchange[1].Src, exchange[1].Dst, m, err)
	}
	if first.Expires.Before(time.Now()) {
		t.Fatalf("the first key expired (%v) before the refresh: not a refresh", first.Expires)
	}

	// The PAR holds the new key under the PCoA, the one the MN holds.
	arRec, err := parStore.Get(par, pcoa)
	if err != nil {
		t.Fatal(err)
	}
	mnRec, err := role.Store().Get(par, pcoa)
	if err != nil {
		t.Fatal(err)
	}
	same := arRec.KeyEqual(mnRec.KeyBytes())
	arRec.Zero()
	mnRec.Zero()
	if arRec.SPI != refreshed.SPI || mnRec.SPI != refreshed.SPI || !same || !arRec.Expires.After(first.Expires) {
		t.Fatalf("PAR record SPI %d expires %v, MN SPI %d, same key %v: want SPI %d after %v",
			arRec.SPI, arRec.Expires, mnRec.SPI, same, refreshed.SPI, first.Expires)
	}

	// The next FBU from the NCoA with the PCoA: the refreshed key's SPI
	// and authenticator, accepted.
	before := router.Stats().FBUAccepted
	ev, err = mobile.FastHandoverFrom(ctx, par, LinkPrevious)
	if err != nil || ev.Status != 0 || router.Stats().FBUAccepted != before+1 {
		t.Fatalf("FBU with the refreshed key: status %d, %v, accepted %d (before %d)", ev.Status, err, router.Stats().FBUAccepted, before)
	}
}

// TestSelectIndirect: the keys refreshed through the current link are the
// due, unexpired keys of another link's care-of address from the router
// forwarding it for the node beyond the key's expiry; nothing else.
func TestSelectIndirect(t *testing.T) {
	now := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	par, nar := netip.MustParseAddr("2001:db8:1::1"), netip.MustParseAddr("2001:db8:2::1")
	pcoa, ncoa := netip.MustParseAddr("2001:db8:1::100"), netip.MustParseAddr("2001:db8:2::100")
	links := []mnLink{{coa: pcoa, routers: []netip.Addr{par}}, {coa: ncoa, routers: []netip.Addr{nar}}}
	bound := map[int32]mnBinding{LinkPrevious: {router: par, expires: now.Add(10 * time.Second)}}
	due := func(router, coa netip.Addr, left time.Duration) mn.KeyDue {
		return mn.KeyDue{Router: router, CareOf: coa, SPI: 300, Remaining: left}
	}
	for _, tc := range []struct {
		name    string
		due     []mn.KeyDue
		current int32
		bound   map[int32]mnBinding
		want    []keyJob
	}{
		{"the PAR's key, forwarding beyond its expiry", []mn.KeyDue{due(par, pcoa, 5*time.Second)}, LinkNew, bound,
			[]keyJob{{link: LinkPrevious, via: LinkNew, router: par}}},
		{"forwarding ends before the key", []mn.KeyDue{due(par, pcoa, 11*time.Second)}, LinkNew, bound, nil},
		{"expired", []mn.KeyDue{due(par, pcoa, 0)}, LinkNew, bound, nil},
		{"no binding", []mn.KeyDue{due(par, pcoa, 5*time.Second)}, LinkNew, nil, nil},
		{"another router's key for the PCoA", []mn.KeyDue{due(nar, pcoa, 5*time.Second)}, LinkNew, bound, nil},
		{"the current link's key (direct)", []mn.KeyDue{due(nar, ncoa, 5*time.Second)}, LinkNew, bound, nil},
		{"back on the PAR's link", []mn.KeyDue{due(par, pcoa, 5*time.Second)}, LinkPrevious, bound, nil},
	} {
		got := selectIndirect(now, tc.due, links, tc.current, tc.bound)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestMNHandoverAbandonsKeyRequests: a key request in progress when the
// node changes links is abandoned, so the requests on the arriving link go
// out at once instead of after its N_HO_KEYTRIES × HKEY_REQ_TOUT (9 s).
// The node is on the NAR's link, refreshing the PAR's key through it (the
// PAR does not answer); it comes back to the PAR's link and asks from the
// PCoA at once.
func TestMNHandoverAbandonsKeyRequests(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	par := netip.MustParseAddr("2001:db8:1::1")
	pcoa, ncoa := netip.MustParseAddr("2001:db8:1::100"), netip.MustParseAddr("2001:db8:2::100")
	network := netio.NewNetwork()
	hkreqs := make(chan netio.Packet, 16)
	network.AddTap(func(p netio.Packet) {
		if len(p.Payload) > 2 && p.Payload[2] == mh.DefaultHandoverKeyRequestType {
			hkreqs <- p
		}
	})
	store := keystore.NewMemory()
	rec := keystore.Record{AR: par, MN: pcoa, AT: uint8(hokey.HMACSHA1Trunc96), SPI: hokey.FirstAAASPI, Created: time.Now(), Expires: time.Now().Add(5 * time.Second)}
	if err := rec.SetKey(make([]byte, 20)); err != nil {
		t.Fatal(err)
	}
	if err := store.Put(&rec); err != nil {
		t.Fatal(err)
	}
	role, err := mn.New(mn.Config{RefreshBefore: 6 * time.Second, Store: store,
		AAA: &mn.AAAConfig{NAI: "mn@example.com", HMK: make([]byte, 64)}})
	if err != nil {
		t.Fatal(err)
	}
	mobile := &Mobile{Role: role, PCoA: mn.CareOf{Address: pcoa}, NCoA: mn.CareOf{Address: ncoa}}
	mobile.splitKeyConn(ctx, network.Attach([]netip.Addr{pcoa, ncoa}, nil, 64), mh.DefaultHandoverKeyResponseType)
	n := &mnNode{m: mobile, log: slog.New(slog.NewTextHandler(io.Discard, nil)), aaa: true, wake: make(chan struct{}, 1),
		bound: map[int32]mnBinding{LinkPrevious: {router: par, expires: time.Now().Add(10 * time.Second)}},
		links: []mnLink{{iface: "par0", coa: pcoa, routers: []netip.Addr{par}}, {iface: "nar0", coa: ncoa}}}
	n.current.Store(LinkNew)
	go n.provision(ctx)
	// from waits for an HKReq from src, the others (retransmissions)
	// skipped, within 5 s: well before the 9 s a request takes to fail.
	from := func(src netip.Addr) {
		t.Helper()
		deadline := time.After(5 * time.Second)
		for {
			select {
			case p := <-hkreqs:
				if p.Src == src {
					return
				}
			case <-deadline:
				t.Fatalf("no HKReq from %v within 5 s", src)
			}
		}
	}
	from(ncoa) // the indirect refresh
	// Back on the PAR's link, as handoverTo does it.
	n.current.Store(LinkPrevious)
	n.abandonKeyRequests()
	n.wake <- struct{}{}
	from(pcoa)
}
