package ha

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/mip6mn"
	"github.com/fhkey/fhkey/mip6tls"
)

// TestMobileNodeRole: the home agent role against the mobile node role of
// internal/mip6mn (built independently from RFC 6275 §11.7 and RFC 6618
// §6), packet for packet in memory: the MN's Binding Update (Destination
// Options with the Home Address option, Alternate Care-of Address option,
// its checksum) is accepted, the MN accepts the BA (it verifies the
// checksum and matches the Sequence Number), and data flows both ways.
func TestMobileNodeRole(t *testing.T) {
	for _, scope := range []mip6tls.SAScope{mip6tls.SAScopeAll, mip6tls.SAScopeSignaling} {
		h := New(Config{HomePrefix: homePrefix})
		sa, bs := testSA(t, 0x1234, scope)
		if err := h.InstallSA(t0, sa, bs); err != nil {
			t.Fatal(err)
		}
		var sent [][]byte
		var to netip.AddrPort
		now := t0
		mn, err := mip6mn.New(mip6mn.Config{Now: func() time.Time { return now },
			Send:               func(dst netip.AddrPort, p []byte) error { to = dst; sent = append(sent, bytes.Clone(p)); return nil },
			AllowPlaintextData: true}, &sa, &bs)
		if err != nil {
			t.Fatal(err)
		}
		// deliver hands what the MN sent to the HA and what the HA answers
		// back to the MN; it returns what reached the home link.
		deliver := func() (homeLink [][]byte) {
			t.Helper()
			for len(sent) > 0 {
				p := sent[0]
				sent = sent[1:]
				if to.Port() != mip6tlsPort {
					t.Fatalf("MN sent to %v, want port %d", to, mip6tlsPort)
				}
				r, err := h.HandleUDP(nil, now, coa, p)
				if err != nil {
					t.Fatalf("HA refused the MN's packet: %v", err)
				}
				if r.HomeLink != nil {
					homeLink = append(homeLink, r.HomeLink)
				}
				if r.Reply != nil {
					if _, err := mn.HandlePacket(to, r.Reply); err != nil {
						t.Fatalf("MN refused the HA's reply: %v", err)
					}
				}
			}
			return homeLink
		}
		if err := mn.SetCareOfAddress(coa.Addr()); err != nil {
			t.Fatal(err)
		}
		if err := mn.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		deliver()
		st := mn.Status()
		if st.State != mip6mn.StateRegistered || st.LastStatus != int(StatusAccepted) || st.Outstanding {
			t.Fatalf("scope %d: MN status %+v", scope, st)
		}
		if b := h.Bindings(); len(b) != 1 || b[0].HomeAddress != hoa || b[0].CareOf != coa || b[0].Sequence != st.Sequence {
			t.Fatalf("scope %d: HA bindings %+v", scope, b)
		}
		up := ipv6(hoa, cn)
		if err := mn.SendData(up); err != nil {
			t.Fatal(err)
		}
		if got := deliver(); len(got) != 1 || !bytes.Equal(got[0], up) {
			t.Fatalf("scope %d: home link got %x", scope, got)
		}
		down := ipv6(cn, hoa)
		dst, p, err := h.FromHomeLink(nil, now, down)
		if err != nil || dst != coa {
			t.Fatalf("scope %d: FromHomeLink %v %v", scope, dst, err)
		}
		inner, err := mn.HandlePacket(to, p)
		if err != nil || !bytes.Equal(inner, down) {
			t.Fatalf("scope %d: MN got %x, %v", scope, inner, err)
		}
	}
}

const mip6tlsPort = mip6tls.DefaultServicePort

// bootstrapper hands the mobile node role one new SA, as the HAC would
// after giving it to the home agent.
type bootstrapper struct {
	sa mip6tls.SecurityAssociation
	bs mip6tls.Bootstrap
}

func (b *bootstrapper) Bootstrap(context.Context) (*mip6tls.SecurityAssociation, *mip6tls.Bootstrap, error) {
	sa, bs := b.sa, b.bs
	return &sa, &bs, nil
}

// TestMobileNodeRebootstrap: before the SA ends the MN role bootstraps a
// new SA (which the HAC has given the HA first) and re-registers with it;
// the HA replaces the old SA, keeps the binding under the new SPI, and
// packets under the old SPI are then unknown.
func TestMobileNodeRebootstrap(t *testing.T) {
	h := New(Config{HomePrefix: homePrefix})
	sa, bs := testSA(t, 0x1234, mip6tls.SAScopeAll)
	if err := h.InstallSA(t0, sa, bs); err != nil {
		t.Fatal(err)
	}
	next, _ := testSA(t, 0x5678, mip6tls.SAScopeAll)
	next.ValidityEnd = t0.Add(3 * time.Hour)
	var sent [][]byte
	now := t0
	mn, err := mip6mn.New(mip6mn.Config{Now: func() time.Time { return now },
		Send:         func(_ netip.AddrPort, p []byte) error { sent = append(sent, bytes.Clone(p)); return nil },
		Bootstrapper: &bootstrapper{sa: next, bs: bs}}, &sa, &bs)
	if err != nil {
		t.Fatal(err)
	}
	haAddr := netip.AddrPortFrom(bs.HomeAgent6, mip6tlsPort)
	deliver := func() {
		t.Helper()
		for ; len(sent) > 0; sent = sent[1:] {
			r, err := h.HandleUDP(nil, now, coa, sent[0])
			if err != nil {
				t.Fatalf("HA refused the MN's packet: %v", err)
			}
			if r.Reply != nil {
				// The BA of the refresh sent under the old SA just before
				// the re-bootstrap is stale to the MN (RFC 6275 §11.7.3).
				if _, err := mn.HandlePacket(haAddr, r.Reply); err != nil && !errors.Is(err, mip6mn.ErrUnexpected) {
					t.Fatalf("MN refused the BA: %v", err)
				}
			}
		}
	}
	if err := mn.SetCareOfAddress(coa.Addr()); err != nil {
		t.Fatal(err)
	}
	deliver()
	old := f0(t, h)
	// The HAC installs the new SA at the HA, then the MN's margin comes.
	if err := h.InstallSA(now, next, bs); err != nil {
		t.Fatal(err)
	}
	now = sa.ValidityEnd.Add(-mip6mn.DefaultRebootstrapMargin)
	if err := mn.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	deliver()
	if st := mn.Status(); st.State != mip6mn.StateRegistered || st.SA.SPI != 0x5678 {
		t.Fatalf("MN after re-bootstrap: %+v", st)
	}
	if b := h.Bindings(); len(b) != 1 || b[0].SPI != 0x5678 || b[0].Sequence == old.Sequence {
		t.Fatalf("HA bindings %+v (before: %+v)", b, old)
	}
}

// f0 is the single binding of h.
func f0(t *testing.T, h *HomeAgent) Binding {
	t.Helper()
	b := h.Bindings()
	if len(b) != 1 {
		t.Fatalf("bindings %+v", b)
	}
	return b[0]
}
