package demo

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/fhkey/fhkey/internal/ha"
	"github.com/fhkey/fhkey/internal/hac/hacclient"
	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/mip6mn"
	"github.com/fhkey/fhkey/mip6tls"
)

// TLSOutcome is what the RFC 6618 walk-through establishes (--json).
type TLSOutcome struct {
	// Bootstrapped: the MN got an SA from the HAC by the PSK method over
	// TLS 1.3, its auth values bound to the HAC's certificate.
	Bootstrapped bool `json:"bootstrapped"`
	// BindingAcknowledged: the HA accepted the protected BU (PType 8) and
	// the MN the protected BA.
	BindingAcknowledged bool `json:"binding_acknowledged"`
	// DataThroughHA: the MN's packet reached the home link unchanged
	// through the HA and the correspondent's answer came back.
	DataThroughHA bool `json:"data_through_ha"`
	// TamperedRejected and ReplayRejected: a packet with a flipped ICV bit
	// and a copy of an accepted one were dropped and counted by the HA.
	TamperedRejected bool `json:"tampered_rejected"`
	ReplayRejected   bool `json:"replay_rejected"`
}

// TLSSummary is the outcome of RunTLS (--json).
type TLSSummary struct {
	OK        bool              `json:"ok"`
	Mode      string            `json:"mode"`
	Outcome   TLSOutcome        `json:"outcome"`
	Steps     []Step            `json:"steps"`
	Addresses map[string]string `json:"addresses"`
	// HA is the home agent's counters at the end.
	HA ha.Stats `json:"ha"`
	// Pcap, Packets (IPv6 records: the TCP segments of the TLS stream and
	// the UDP datagrams), TLSPort (the HAC's TCP port, for tshark -d).
	Pcap    string `json:"pcap,omitempty"`
	Packets int    `json:"packets"`
	TLSPort uint16 `json:"tls_port"`
	// Keys is the --show-keys file; with it, SA is the same "sa" object
	// (issue 13: "--show-keys adding sa"), absent without --show-keys.
	// Lab keys only.
	Keys  string           `json:"keys,omitempty"`
	SA    *mip6tls.ShownSA `json:"sa,omitempty"`
	Error string           `json:"error,omitempty"`
}

// tlsRun is the state of RunTLS.
type tlsRun struct {
	out     TLSOutcome
	shown   *mip6tls.ShownSA
	tlsPort uint16
	stats   ha.Stats
}

// TLSKeys returns the SA of RunTLS as --show-keys writes it ("sa"), nil
// before the bootstrap.
func (d *Demo) TLSKeys() *mip6tls.ShownSA {
	if d.tls == nil {
		return nil
	}
	return d.tls.shown
}

// RunTLS plays the RFC 6618 walk-through in process on loopback: the HAC
// and HA nodes (internal/node), the mobile node's role (internal/mip6mn)
// on a UDP socket. keyLog, if set, receives the MN's TLS secrets.
// Protocol failures show in the outcome (FinishTLS).
func (d *Demo) RunTLS(ctx context.Context, keyLog io.Writer) (err error) {
	d.tls = &tlsRun{}
	d.width = 16
	psk := []byte("fhkey demo pre-shared key (RFC 6618 §5.8)")
	nodes, err := startTLSNodes(ctx, psk)
	if err != nil {
		return err
	}
	defer func() {
		d.tls.stats = nodes.ha.Role.Stats()
		if cerr := nodes.close(); err == nil {
			err = cerr
		}
	}()
	hacAddr := nodes.hac.Addr().(*net.TCPAddr).AddrPort()
	d.tls.tlsPort = hacAddr.Port()
	d.sum.Addresses = map[string]string{"HAC": describeAddr(hacAddr), "HA": describeAddr(nodes.ha.Addr()),
		"HA channel": describeAddr(nodes.ha.ChannelAddr()), "home address": tlsHomeAddress.String(),
		"care-of address": tlsCareOf.String(), "CN": describeAddr(tlsCN)}

	t0 := time.Now()
	r, err := d.bootstrap(ctx, hacAddr, nodes, keyLog)
	if err != nil {
		d.step("TLS bootstrap", time.Since(t0), false, "%v", err)
		return nil
	}
	defer r.SA.Zero()
	d.tls.out.Bootstrapped = r.Method == mip6tls.AuthMethodPSK && r.TLSVersion == tls.VersionTLS13
	shown := r.SA.ShowKeys(&r.Bootstrap)
	d.tls.shown = &shown
	d.step("TLS bootstrap", time.Since(t0), d.tls.out.Bootstrapped,
		"MN → HAC %s, %s, method psk (RFC 6618 §5.8): auth = HMAC-SHA256(PSK, … | CB-octets),\nCB-octets the tls-server-end-point binding of the HAC's certificate; SPI %d, %s, mip6-sas %d, HoA %s",
		describeAddr(hacAddr), tls.VersionName(r.TLSVersion), r.SA.SPI, r.SA.CipherSuite, r.SA.Scope, r.Bootstrap.HomeAddress6)
	var atHA bool
	for _, rec := range nodes.ha.Role.SAs(time.Now()) {
		atHA = atHA || uint32(rec.SPI) == uint32(r.SA.SPI)
	}
	d.step("SA at the HA", 0, atHA, "provisioned by the HAC over the mutual-TLS 1.3 channel to %s before the MN's answer (§4.3)",
		describeAddr(nodes.ha.ChannelAddr()))
	if !atHA {
		return nil
	}
	return d.mobile(ctx, nodes, r)
}

// bootstrap runs the MN's side of §5 over a captured TCP connection.
func (d *Demo) bootstrap(ctx context.Context, hac netip.AddrPort, nodes *tlsNodes, keyLog io.Writer) (*hacclient.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var dialer net.Dialer
	nc, err := dialer.DialContext(ctx, "tcp", hac.String())
	if err != nil {
		return nil, err
	}
	local := nc.LocalAddr().(*net.TCPAddr).AddrPort()
	cc := &capturedConn{Conn: nc, c: newTCPCapture(d, local, hac)}
	tc := &tls.Config{RootCAs: pool(nodes.pki.CA), ServerName: lab.EAPServerName, MinVersion: tls.VersionTLS13, KeyLogWriter: keyLog}
	conn := tls.Client(cc, tc)
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	return hacclient.Run(conn, hacclient.Config{Identity: TLSIdentity, PSK: nodes.psk, Scope: mip6tls.SAScopeAll, TLS: tc})
}

// tlsMN is the mobile node's role on a loopback UDP socket whose
// datagrams are captured.
type tlsMN struct {
	d     *Demo
	conn  *net.UDPConn
	mu    sync.Mutex
	role  *mip6mn.MobileNode
	inner chan []byte
	last  []byte // the last datagram sent
	// tamper flips the last ICV bit of the next datagram sent.
	tamper bool
}

func (m *tlsMN) send(to netip.AddrPort, p []byte) error {
	if m.tamper {
		p = bytes.Clone(p)
		p[len(p)-1] ^= 0x01
		m.tamper = false
	}
	m.d.captureUDP6(m.conn.LocalAddr().(*net.UDPAddr).AddrPort(), to, p)
	m.last = bytes.Clone(p)
	_, err := m.conn.WriteToUDPAddrPort(p, to)
	return err
}

func (m *tlsMN) receive() {
	buf := make([]byte, 65536)
	for {
		n, from, err := m.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		m.d.captureUDP6(from, m.conn.LocalAddr().(*net.UDPAddr).AddrPort(), buf[:n])
		m.mu.Lock()
		inner, err := m.role.HandlePacket(from, buf[:n])
		m.mu.Unlock()
		if err == nil && inner != nil {
			m.inner <- bytes.Clone(inner)
		}
	}
}

// mobile registers, sends data through the HA, then a tampered and a
// replayed copy of that data.
func (d *Demo) mobile(ctx context.Context, nodes *tlsNodes, r *hacclient.Result) error {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		return err
	}
	defer conn.Close()
	m := &tlsMN{d: d, conn: conn, inner: make(chan []byte, 4)}
	sa, bs := r.SA, r.Bootstrap // the role zeroes the keys it is given
	m.mu.Lock()
	m.role, err = mip6mn.New(mip6mn.Config{Now: time.Now, Send: m.send, Lifetime: time.Minute}, &sa, &bs)
	m.mu.Unlock()
	if err != nil {
		return err
	}
	go m.receive()

	t0 := time.Now()
	m.mu.Lock()
	err = m.role.SetCareOfAddress(tlsCareOf)
	if err == nil {
		err = m.role.Tick(ctx)
	}
	m.mu.Unlock()
	st, ok := waitFor(5*time.Second, func() (mip6mn.Status, bool) {
		m.mu.Lock()
		defer m.mu.Unlock()
		s := m.role.Status()
		return s, s.State == mip6mn.StateRegistered && !s.Outstanding
	})
	d.tls.out.BindingAcknowledged = err == nil && ok && st.LastStatus == 0
	d.step("BU → BA", time.Since(t0), d.tls.out.BindingAcknowledged,
		"Binding Update sealed with SPI %d (PType 8, Alternate Care-of Address %s) → HA %s;\nBinding Acknowledgement status %d, lifetime %.0f s (RFC 6618 §6.3)",
		r.SA.SPI, tlsCareOf, describeAddr(nodes.ha.Addr()), st.LastStatus, float64(st.Lifetime))
	if !d.tls.out.BindingAcknowledged {
		return err
	}

	t0 = time.Now()
	hoa := netip.AddrPortFrom(tlsHomeAddress, 5555)
	pkt := udpPacket(hoa, tlsCN, []byte("hello through the home agent"))
	m.mu.Lock()
	err = m.role.SendData(pkt)
	sealed := bytes.Clone(m.last)
	m.mu.Unlock()
	var onLink, back []byte
	select {
	case onLink = <-nodes.link.written:
	case <-time.After(5 * time.Second):
	}
	select {
	case back = <-m.inner:
	case <-time.After(5 * time.Second):
	}
	want := udpPacket(tlsCN, hoa, append([]byte("reply to "), pkt[48:]...))
	d.tls.out.DataThroughHA = err == nil && bytes.Equal(onLink, pkt) && bytes.Equal(back, want)
	d.step("data via the HA", time.Since(t0), d.tls.out.DataThroughHA,
		"HoA %s → CN %s: sealed (PType 1) to the HA, on the home link byte for byte,\nthe CN's reply tunnelled back and opened by the MN", describeAddr(hoa), describeAddr(tlsCN))

	before := nodes.ha.Role.Stats()
	t0 = time.Now()
	// A new data packet (a Sequence Number the HA has not seen, so that
	// the replay check passes, RFC 4303 §3.4.3) with one ICV bit flipped.
	m.mu.Lock()
	m.tamper = true
	err = m.role.SendData(udpPacket(hoa, tlsCN, []byte("tampered on the way")))
	m.mu.Unlock()
	after, ok := nodes.haStats(5*time.Second, func(s ha.Stats) bool { return s.Drops.ICV > before.Drops.ICV })
	d.tls.out.TamperedRejected = err == nil && ok && after.DataFromMobile == before.DataFromMobile
	d.step("tampered packet", time.Since(t0), d.tls.out.TamperedRejected,
		"a new data packet with one ICV bit flipped: dropped by the HA (drops.icv %d → %d)", before.Drops.ICV, after.Drops.ICV)

	before = after
	t0 = time.Now()
	m.mu.Lock()
	_ = m.send(nodes.ha.Addr(), sealed)
	m.mu.Unlock()
	after, ok = nodes.haStats(5*time.Second, func(s ha.Stats) bool { return s.Drops.Replayed > before.Drops.Replayed })
	d.tls.out.ReplayRejected = ok && after.DataFromMobile == before.DataFromMobile
	d.step("replayed packet", time.Since(t0), d.tls.out.ReplayRejected,
		"the first data packet again: dropped by the HA's replay window (drops.replayed %d → %d)", before.Drops.Replayed, after.Drops.Replayed)
	return nil
}

// waitFor polls cond every millisecond until it holds or limit passes.
func waitFor[T any](limit time.Duration, cond func() (T, bool)) (T, bool) {
	deadline := time.Now().Add(limit)
	for {
		v, ok := cond()
		if ok || time.Now().After(deadline) {
			return v, ok
		}
		time.Sleep(time.Millisecond) // a demo polling a role, not a test
	}
}

// FinishTLS returns RunTLS's summary: OK only if RunTLS succeeded, every
// outcome was reached and the pcap file (pcapName, closed with closeErr)
// was written.
func (d *Demo) FinishTLS(runErr error, pcapName string, closeErr error) TLSSummary {
	var run tlsRun
	if d.tls != nil {
		run = *d.tls
	}
	o := run.out
	d.settle(runErr, pcapName, closeErr, o.Bootstrapped && o.BindingAcknowledged && o.DataThroughHA && o.TamperedRejected && o.ReplayRejected)
	return TLSSummary{OK: d.sum.OK, Mode: "tls", Outcome: o, Steps: d.sum.Steps, Addresses: d.sum.Addresses, HA: run.stats,
		Pcap: d.sum.Pcap, Packets: d.sum.Packets, TLSPort: run.tlsPort, Error: d.sum.Error}
}
