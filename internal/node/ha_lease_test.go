package node

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/ha"
	"github.com/fhkey/fhkey/internal/hastate"
	"github.com/fhkey/fhkey/internal/testenv"
	"github.com/fhkey/fhkey/mip6udp"
)

// storedLease reads the inbound lease of SPI 4242 from a closed state
// file.
func storedLease(t *testing.T, state string) (lease, highest uint32) {
	t.Helper()
	s, err := hastate.Open(state)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sas, _, err := s.Load()
	if err != nil || len(sas) != 1 {
		t.Fatalf("state file: %v, %d SAs", err, len(sas))
	}
	return sas[0].InLease, sas[0].InHighest
}

// sealData seals one reverse-tunneled packet with the MN's side.
func (m *testMN) sealData(payload []byte) []byte {
	m.t.Helper()
	p, err := m.pair.Out.Seal(nil, mip6udp.PacketTypeData, 41, payload)
	if err != nil {
		m.t.Fatal(err)
	}
	return p
}

// sendData sends one reverse-tunneled packet from the MN and returns the
// datagram.
func (m *testMN) sendData(payload []byte) []byte {
	m.t.Helper()
	p := m.sealData(payload)
	if _, err := m.conn.WriteToUDPAddrPort(p, m.ha); err != nil {
		m.t.Fatal(err)
	}
	return p
}

// homeLinkGets waits for the next packet on the home link and compares it.
func homeLinkGets(t *testing.T, link *fakeLink, want []byte, what string) {
	t.Helper()
	select {
	case got := <-link.written:
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: home link got %x, want %x", what, got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: nothing on the home link", what)
	}
}

// crashAfter serves an HA node on a state file, registers the test MN,
// has n of its data packets forwarded and then stops the node as a crash
// would: Serve ends, the socket and the state file are closed, without
// Close's clean stop (Checkpoint). With idle, the node's clock first
// moves 3 s on and the crash waits until the node trimmed the stored
// lease to the highest number (its every-second TrimLeases). It returns
// the datagrams sent.
func crashAfter(t *testing.T, n int, idle bool) (*clock, string, *testMN, [][]byte) {
	clk, state, link := newHAFiles(t)
	h, stopServe := serveHA(t, state, link, clk)
	mn := registerTestMN(t, h, clk, 8*time.Minute)
	inner := innerPacket(haHoA, haCN)
	var sent [][]byte
	for i := range n {
		sent = append(sent, mn.sendData(inner))
		homeLinkGets(t, link, inner, fmt.Sprintf("packet %d before the crash", i))
	}
	if idle {
		clk.add(3 * time.Second)
		testenv.Eventually(t, 10*time.Second, "lease trimmed to the highest number", func() (bool, string) {
			sas, _, err := h.store.Load()
			if err != nil || len(sas) != 1 {
				return false, fmt.Sprintf("state: %v, %d SAs", err, len(sas))
			}
			return sas[0].InLease == mn.pair.Out.Sequence(), fmt.Sprintf("stored lease %d, highest %d", sas[0].InLease, mn.pair.Out.Sequence())
		})
	}
	stopServe()
	h.conn.Close()
	h.store.Close()
	return clk, state, mn, sent
}

// TestHACrashRestartSlow: an SA at a few packets a second has a lease of
// ha.MinLease ahead of its highest number (renewed in the background,
// none of its packets but the first waits for a write). After a crash
// every earlier packet is refused, and so are at most MinLease of the
// MN's next ones (the numbers up to the stored lease); the one after is
// forwarded. An SA idle for 2 s before the crash loses nothing: its lease
// was trimmed to its highest number, and the very next packet is
// forwarded.
func TestHACrashRestartSlow(t *testing.T) {
	for _, idle := range []bool{false, true} {
		t.Run(fmt.Sprint("idle=", idle), func(t *testing.T) {
			clk, state, mn, sent := crashAfter(t, 10, idle)
			highest := mn.pair.Out.Sequence()
			lease, _ := storedLease(t, state)
			lost := lease - highest
			if lease < highest || lost > ha.MinLease || idle && lost != 0 {
				t.Fatalf("stored lease %d, highest %d: want at most %d ahead (idle: none)", lease, highest, ha.MinLease)
			}
			t.Logf("crash at Sequence Number %d, stored lease %d: %d legitimate packets refused", highest, lease, lost)
			link2 := newFakeLink()
			h, stop := startHA(t, state, link2, clk)
			defer stop()
			mn.ha = h.Addr()
			inner := innerPacket(haHoA, haCN)
			for range lost {
				sent = append(sent, mn.sealData(inner)) // may have been accepted before the crash
			}
			for _, p := range sent {
				if _, err := mn.conn.WriteToUDPAddrPort(p, mn.ha); err != nil {
					t.Fatal(err)
				}
			}
			testenv.Eventually(t, 5*time.Second, "earlier packets refused", func() (bool, string) {
				d := h.Role.Stats().Drops
				return d.Replayed+d.TooOld == uint64(len(sent)), fmt.Sprintf("replayed %d, too_old %d, want %d", d.Replayed, d.TooOld, len(sent))
			})
			next := innerPacket(haHoA, netip.MustParseAddr("2001:db8:1::3"))
			mn.sendData(next)
			homeLinkGets(t, link2, next, "the first packet beyond the lease") // and no replay before it
			if s := h.Role.Stats(); s.DataFromMobile != 1 {
				t.Errorf("stats after the restart %+v", s)
			}
		})
	}
}

// TestHACrashRestart: the HA node on a bbolt file accepts 297 of the
// MN's packets in a second (so its lease runs R > MinLease ahead), then crashes
// (crashAfter). Restarted on the file, it refuses a
// replay of every packet received before the crash and every number up to
// the stored lease, and accepts the MN's packets beyond it; after a clean
// stop the very next number is accepted.
func TestHACrashRestart(t *testing.T) {
	clk, state, mn, sent := crashAfter(t, 296, false)
	inner := innerPacket(haHoA, haCN)
	highest := mn.pair.Out.Sequence()
	lease, _ := storedLease(t, state)
	if lease < highest || lease > highest+ha.MaxLease {
		t.Fatalf("stored lease %d, highest accepted %d", lease, highest)
	}
	t.Logf("crash at Sequence Number %d, stored lease %d (%d numbers refused after the restart)", highest, lease, lease-highest)

	link2 := newFakeLink()
	h, stop := startHA(t, state, link2, clk)
	mn.ha = h.Addr()
	// Replayed in windows of 32, so that no socket buffer overflows.
	if lease > highest {
		sent = append(sent, mn.sealData(inner)) // highest + 1 ≤ lease: may have been accepted before the crash
	}
	for i := 0; i < len(sent); i += 32 {
		for _, p := range sent[i:min(i+32, len(sent))] {
			if _, err := mn.conn.WriteToUDPAddrPort(p, mn.ha); err != nil {
				t.Fatal(err)
			}
		}
		refused := uint64(min(i+32, len(sent)))
		testenv.Eventually(t, 5*time.Second, "replays refused", func() (bool, string) {
			d := h.Role.Stats().Drops
			return d.Replayed+d.TooOld == refused, fmt.Sprintf("replayed %d, too_old %d, want %d", d.Replayed, d.TooOld, refused)
		})
	}
	mn.pair.Out.ResumeAt(lease)
	beyond := innerPacket(haHoA, netip.MustParseAddr("2001:db8:1::3"))
	mn.sendData(beyond)
	homeLinkGets(t, link2, beyond, "first packet beyond the lease") // and nothing replayed before it
	if s := h.Role.Stats(); s.DataFromMobile != 1 {
		t.Errorf("stats after the restart %+v", s)
	}

	// A clean stop: the stored lease is the highest number, and the next
	// one is accepted after the restart.
	stop()
	if l, _ := storedLease(t, state); l != lease+1 {
		t.Fatalf("stored lease after the clean stop %d, want %d", l, lease+1)
	}
	link3 := newFakeLink()
	h, stop = startHA(t, state, link3, clk)
	defer stop()
	mn.ha = h.Addr()
	mn.sendData(inner)
	homeLinkGets(t, link3, inner, "next packet after the clean stop")
}
