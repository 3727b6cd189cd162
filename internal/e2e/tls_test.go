package e2e

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/ha"
	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/mip6mn"
	"github.com/fhkey/fhkey/internal/node"
	"github.com/fhkey/fhkey/internal/peer"
	"github.com/fhkey/fhkey/internal/scenario"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/internal/testenv"
)

// TestTLSDaemonProcesses runs RFC 6618 (issue 13, docs/tls.md) on the
// testbed's home network, every daemon a process in its own namespace:
// FreeRADIUS (EAP-TLS) in AAA, `fhkey hac` in HAC, `fhkey ha` in HA,
// `fhkey mip6` in MN. The MN bootstraps with the PSK over TLS, registers
// (the MN's /status registered, the HA's binding HoA → CoA); the CN's
// datagrams to the home address reach the MN daemon through the HA's
// tunnel (HA and MN counters) and a UDP echo bound to the home address
// (on the MN daemon's TUN) answers the CN through the HA; the HA is
// SIGKILLed and restarted on its bbolt file and keeps SA and binding
// (traffic continues, no new bootstrap at the HAC; of a burst of
// ha.MinLease+1 echoes right after the restart at most ha.MinLease are
// lost: the MN's numbers up to the stored inbound lease); the MN moves
// to the NAR's link and re-registers from the new CoA (binding updated),
// traffic continues; then the MN restarted with the EAP configuration
// bootstraps through FreeRADIUS and registers under its new SA.
func TestTLSDaemonProcesses(t *testing.T) {
	t.Parallel()
	testenv.RequireTool(t, "freeradius")
	b := newBedWith(t, "tl", testbed.Config{Home: true})
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	secret := []byte("hac-to-aaa-7c41")
	pki, err := lab.NewEAPPKI()
	if err != nil {
		t.Fatal(err)
	}
	files, err := scenario.WriteTLSDaemonFiles(ctx, b.dir, scenario.TLSDaemonOptions{
		DaemonOptions: scenario.DaemonOptions{HTTP: scenario.DefaultDaemonHTTP, LogLevel: "debug"}, Secret: secret, PKI: pki})
	if err != nil {
		t.Fatal(err)
	}
	fr, err := (&peer.FreeRADIUS{Dir: t.TempDir(), Listen: scenario.DefaultTLSRADIUS, Debug: true,
		Command: []string{"ip", "netns", "exec", b.tb.Namespace(testbed.AAA)},
		Clients: []peer.FreeRADIUSClient{{Name: "hac", Prefix: scenario.TLSRADIUSClients, Secret: string(secret),
			RequireMessageAuthenticator: true}},
		EAPTLS: &peer.EAPTLSServer{CA: pki.CA.CertPEM, Certificate: readFile(t, files.ServerCert), Key: readFile(t, files.ServerKey)}}).Start(ctx)
	stopAtCleanup(t, "FreeRADIUS", fr, err)
	home := startDaemon(t, b.tb, testbed.HA, "HA", "ha", "-c", files.HA)
	hac := startDaemon(t, b.tb, testbed.HAC, "HAC", "hac", "-c", files.HAC)

	// PSK bootstrap, BU/BA.
	mobile := startDaemon(t, b.tb, testbed.MN, "MN (psk)", "mip6", "-c", files.MIP6PSK)
	hac.waitMetric(`fhkey_hac_bootstraps_total{method="psk",outcome="ok"}`, 1)
	ms := waitRegistered(t, mobile, testbed.AddrMNPrevious, 0)
	waitBinding(t, home, ms.SA.SPI, testbed.AddrMNPrevious)

	// CN → home address through the HA's tunnel, replies back.
	data := newHomeData(t, b.tb, &mobile, &home)
	data.exchange(ctx, 200, "before the move")
	echo := newHomeEcho(t, b.tb)
	echo.exchange(ctx, 20, "replies before the move")

	// The HA dies and comes back on its state file: same SA, same
	// binding, the traffic continues without a new bootstrap. It dies
	// before the move: the MN's packets in the 2 s before are the
	// echo's answers (the CN's streams are not echoed), a slow SA, so
	// the restart costs at most ha.MinLease of them (docs/ha.md).
	home.kill()
	home = startDaemon(t, b.tb, testbed.HA, "HA (restarted)", "ha", "-c", files.HA)
	waitBinding(t, home, ms.SA.SPI, testbed.AddrMNPrevious)
	// No clean stop: the restarted HA refuses the MN's Sequence Numbers
	// up to the stored inbound lease. A burst uses them up.
	const warmUp = ha.MinLease + 1
	lost := warmUp - scenario.EchoBurst(echo.cn, warmUp, "warm-up after the HA's restart", time.Second)
	if lost > ha.MinLease {
		t.Fatalf("%d of %d warm-up echoes lost after the HA's crash, want at most %d", lost, warmUp, ha.MinLease)
	}
	t.Logf("%d of %d warm-up echoes lost to the lease after the crash", lost, warmUp)
	data.exchange(ctx, 200, "after the HA's restart")
	echo.exchange(ctx, 20, "replies after the HA's restart")
	if v := hac.metric(`fhkey_hac_bootstraps_total{method="psk",outcome="ok"}`); v != 1 {
		t.Fatalf("HAC bootstraps after the HA's restart: %v, want still 1", v)
	}

	// The move: a new CoA, a new BU, the binding follows. The home
	// address sends through the move (into the MN's TUN, sealed to the
	// HA): none of it may come back to the HA as a replay (issue 13:
	// with no route from the old link, the MN's own UDP packets took the
	// home address as source and looped through its TUN, sealed again
	// each time, and the HA unwrapped the nested copies).
	refused := map[string]float64{} // the warm-up's, since the restart
	for _, reason := range []string{"replayed", "too_old"} {
		refused[reason] = home.metric(`fhkey_ha_dropped_total{reason="` + reason + `"}`)
	}
	moving := sendFromHome(t, ctx, b.tb, 300)
	if err := b.tb.Move(ctx); err != nil {
		t.Fatal(err)
	}
	waitRegistered(t, mobile, testbed.AddrMNNew, ms.Counters.BindingAcknowledgementsAccepted)
	waitBinding(t, home, ms.SA.SPI, testbed.AddrMNNew)
	<-moving
	data.exchange(ctx, 200, "after the move")
	echo.exchange(ctx, 20, "replies after the move")
	for _, reason := range []string{"replayed", "too_old"} {
		if v := home.metric(`fhkey_ha_dropped_total{reason="`+reason+`"}`) - refused[reason]; v != 0 {
			t.Fatalf("HA dropped %v of the MN's packets as %s through the move, want 0", v, reason)
		}
	}
	mobile.stop()

	// The EAP method: EAP-TLS relayed by the HAC to FreeRADIUS, a new SA
	// at the HA, registered from the NAR's link.
	mobile = startDaemon(t, b.tb, testbed.MN, "MN (eap)", "mip6", "-c", files.MIP6EAP)
	hac.waitMetric(`fhkey_hac_bootstraps_total{method="eap",outcome="ok"}`, 1)
	eap := waitRegistered(t, mobile, testbed.AddrMNNew, 0)
	if eap.SA.SPI == ms.SA.SPI {
		t.Fatalf("EAP bootstrap kept SPI %d", eap.SA.SPI)
	}
	waitBinding(t, home, eap.SA.SPI, testbed.AddrMNNew)
	data.exchange(ctx, 200, "with the EAP SA")
	for _, p := range []*process{mobile, hac, home} {
		p.stop()
	}
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// waitRegistered waits until the MN's /status says registered at coa
// with more than after BAs accepted, and returns that status.
func waitRegistered(t *testing.T, mobile *process, coa netip.Addr, after uint64) mip6mn.Status {
	t.Helper()
	var st mip6mn.Status
	testenv.Eventually(t, 20*time.Second, "MN registered at "+coa.String(), func() (bool, string) {
		st = mip6mn.Status{}
		mobile.status(&st)
		return st.State == mip6mn.StateRegistered && st.CareOf == coa && st.Counters.BindingAcknowledgementsAccepted > after,
			fmt.Sprintf("%+v", st)
	})
	if st.HomeAddress != testbed.AddrMNHome || st.HomeAgent.Addr() != testbed.AddrHA {
		t.Fatalf("MN home address %s, home agent %s: want the HAC's %s, %s", st.HomeAddress, st.HomeAgent, testbed.AddrMNHome, testbed.AddrHA)
	}
	return st
}

// waitBinding waits until the HA's /status has the binding of the home
// address under spi at coa.
func waitBinding(t *testing.T, home *process, spi uint32, coa netip.Addr) {
	t.Helper()
	testenv.Eventually(t, 20*time.Second, "HA binding at "+coa.String(), func() (bool, string) {
		var st node.HAStatus
		home.status(&st)
		for _, b := range st.Bindings {
			if b.HomeAddress == testbed.AddrMNHome && uint32(b.SPI) == spi && b.CareOf.Addr() == coa {
				return true, ""
			}
		}
		return false, fmt.Sprintf("bindings %+v", st.Bindings)
	})
}

// homeData is the CN's sender to the MN's home address.
type homeData struct {
	t      *testing.T
	cn     *scenario.Sender
	mobile **process
	home   **process
}

const homeDataPort = 9009

func newHomeData(t *testing.T, tb *testbed.Testbed, mobile, home **process) *homeData {
	t.Helper()
	cn, err := scenario.NewSender(tb, testbed.CN, testbed.AddrCN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cn.Close() })
	return &homeData{t: t, cn: cn, mobile: mobile, home: home}
}

// exchange streams n datagrams from the CN to the home address and wants
// at least 95 % of them tunneled by the HA to the CoA
// (fhkey_ha_data_packets_total{direction="to_mobile"}) and opened by the
// MN daemon (fhkey_mip6_data_packets_total{direction="received"}).
func (e *homeData) exchange(ctx context.Context, n int, what string) {
	e.t.Helper()
	const toMobile, received = `fhkey_ha_data_packets_total{direction="to_mobile"}`, `fhkey_mip6_data_packets_total{direction="received"}`
	ha0, mn0 := (*e.home).metric(toMobile), (*e.mobile).metric(received)
	if _, _, err := e.cn.Stream(ctx, netip.AddrPortFrom(testbed.AddrMNHome, homeDataPort), n, time.Millisecond, nil); err != nil {
		e.t.Fatal(err)
	}
	want := float64(n - n/20)
	testenv.Eventually(e.t, 5*time.Second, what, func() (bool, string) {
		ha, mn := (*e.home).metric(toMobile)-ha0, (*e.mobile).metric(received)-mn0
		return ha >= want && mn >= want, fmt.Sprintf("HA tunneled %v, MN received %v of %d", ha, mn, n)
	})
}

// homeEcho is a UDP echo server on the MN's home address (in the MN's
// namespace, on the mip6 daemon's TUN) and a CN socket that talks to it.
type homeEcho struct {
	t      *testing.T
	server *net.UDPConn
	cn     *net.UDPConn
}

// homeEchoPort is not homeDataPort: the CN's streams are not echoed, so
// the MN's packets to the HA before its crash are the echo's answers, at
// the rate of a slow SA (the warm-up after the restart is bounded by
// ha.MinLease).
const homeEchoPort = 9007

func newHomeEcho(t *testing.T, tb *testbed.Testbed) *homeEcho {
	t.Helper()
	e := &homeEcho{t: t}
	hoa := netip.AddrPortFrom(testbed.AddrMNHome, homeEchoPort)
	// The TUN carries the home address once the daemon registered.
	testenv.Eventually(t, 10*time.Second, "home address on the MN's TUN", func() (bool, string) {
		err := tb.Do(testbed.MN, func() (err error) {
			e.server, err = net.ListenUDP("udp6", net.UDPAddrFromAddrPort(hoa))
			return err
		})
		return err == nil, fmt.Sprint(err)
	})
	t.Cleanup(func() { e.server.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := e.server.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			e.server.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	if err := tb.Do(testbed.CN, func() (err error) {
		e.cn, err = net.DialUDP("udp6", &net.UDPAddr{IP: testbed.AddrCN.AsSlice()}, net.UDPAddrFromAddrPort(hoa))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.cn.Close() })
	return e
}

// exchange sends n datagrams from the CN to the home address, one at a
// time, and wants at least n-1 echoed back (each waited for up to 1 s).
func (e *homeEcho) exchange(ctx context.Context, n int, what string) {
	e.t.Helper()
	got := 0
	buf := make([]byte, 64)
	for i := range n {
		msg := fmt.Sprintf("%s #%d", what, i)
		if _, err := e.cn.Write([]byte(msg)); err != nil {
			continue
		}
		e.cn.SetReadDeadline(time.Now().Add(time.Second))
		for {
			k, err := e.cn.Read(buf)
			if err != nil {
				break
			}
			if string(buf[:k]) == msg {
				got++
				break
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	if got < n-1 {
		e.t.Fatalf("%s: %d/%d echoed by the MN's home address", what, got, n)
	}
}

// sendFromHome streams n datagrams, 1 ms apart, from the MN's home
// address to the CN in the background; the channel closes when done.
func sendFromHome(t *testing.T, ctx context.Context, tb *testbed.Testbed, n int) <-chan struct{} {
	t.Helper()
	s, err := scenario.NewSender(tb, testbed.MN, testbed.AddrMNHome)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer s.Close()
		// Errors are expected while the MN is between links.
		_, _, _ = s.Stream(ctx, netip.AddrPortFrom(testbed.AddrCN, 9), n, time.Millisecond, nil)
	}()
	return done
}
