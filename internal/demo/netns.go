package demo

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/ar"
	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/scenario"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/mh"
)

// DefaultNetnsPrefix is the testbed prefix of `fhkey demo --netns`, distinct
// from the default of `fhkey testbed up`.
const DefaultNetnsPrefix = "fhk-demo-"

// netnsStreamPort is the CN stream's UDP port at the MN's previous CoA.
const netnsStreamPort = 5999

// NetnsOptions are the flags of `fhkey demo --netns`.
type NetnsOptions struct {
	// CacheDir holds the lab credentials (lab.Load).
	CacheDir string
	// AT is the algorithm type the MN requests.
	AT hokey.AlgorithmType
	// Prefix is the testbed's namespace prefix; Keep leaves it up.
	Prefix string
	Keep   bool
	// Count datagrams at Spacing make each CN stream.
	Count   int
	Spacing time.Duration
	// Daemons runs `fhkey ar` and `fhkey mn` as processes (this
	// executable) instead of the roles in this process.
	Daemons bool
}

// NetnsOutcome is what the exit status depends on.
type NetnsOutcome struct {
	KeyProvisioned bool `json:"key_provisioned"`
	HandoverOutcome
}

// HandoverOutcome is the part of a testbed walk-through's outcome after
// the key: the FBU, the CN's stream, the attacker's forged FBU.
type HandoverOutcome struct {
	// FBUAccepted: the MN's FBU was acknowledged with Status 0 and the PAR
	// bound the PCoA to the NCoA.
	FBUAccepted bool `json:"fbu_accepted"`
	// StreamRedirected: ≥ 95 % of the CN's stream reached the MN through
	// the PAR's tunnel.
	StreamRedirected  bool `json:"stream_redirected"`
	ForgedFBURejected bool `json:"forged_fbu_rejected"`
	BindingUnchanged  bool `json:"binding_unchanged"`
	// AttackerGotNothing: no tunnel packet reached the attacker.
	AttackerGotNothing bool `json:"attacker_received_nothing"`
}

// NetnsCounts are the packet counts of the run.
type NetnsCounts struct {
	Direct            scenario.StreamStats `json:"direct"`
	Redirected        scenario.StreamStats `json:"redirected"`
	AfterForgery      scenario.StreamStats `json:"after_forgery"`
	AttackerTunnelled int                  `json:"attacker_tunnel_packets"`
	ForwarderPackets  uint64               `json:"par_forwarder_packets"`
	DecapsulatorPkts  uint64               `json:"mn_decapsulator_packets"`
}

// NetnsSummary is the outcome of RunNetns (--json).
type NetnsSummary struct {
	OK        bool              `json:"ok"`
	Outcome   NetnsOutcome      `json:"outcome"`
	Steps     []Step            `json:"steps"`
	Packets   NetnsCounts       `json:"packets"`
	Addresses map[string]string `json:"addresses"`
	Testbed   string            `json:"testbed"`
	Kept      bool              `json:"kept"`
	CacheDir  string            `json:"cache_dir"`
	Error     string            `json:"error,omitempty"`
}

// netnsSetup prints the title, loads the credentials, builds the testbed with the CGAs on its
// interfaces, records the nodes' addresses in addrs and returns how to
// remove it (nothing with --keep).
func (d *Demo) netnsSetup(ctx context.Context, o NetnsOptions, title string, addrs map[string]string) (*lab.Credentials, *testbed.Testbed, func() error, error) {
	if d.out != nil {
		fmt.Fprintf(d.out, "%s\n\n", title)
	}
	start := time.Now()
	creds, err := lab.Load(ctx, o.CacheDir, nil)
	if err != nil {
		return nil, nil, nil, err
	}
	d.step("credentials", time.Since(start), true, "trust anchor, PAR/NAR router certificates, CGAs (RSA-%d) from %s", creds.Bits, o.CacheDir)

	start = time.Now()
	tb, err := testbed.Up(ctx, testbed.Config{Prefix: o.Prefix, Attacker: true})
	if err != nil {
		return nil, nil, nil, err
	}
	down := func() error { return testbed.Down(context.WithoutCancel(ctx), o.Prefix) }
	if o.Keep {
		down = func() error { return nil }
	}
	if err := scenario.AssignCGAs(ctx, tb, creds); err != nil {
		return nil, nil, nil, errors.Join(err, down())
	}
	for name, a := range map[string]netip.Addr{"PAR": creds.PAR.CGA.Address, "NAR": creds.NAR.CGA.Address, "MN PCoA": creds.MN.PCoA.Address,
		"MN NCoA": creds.MN.NCoA.Address, "CN": testbed.AddrCN, "attacker": testbed.AddrAttacker} {
		addrs[name] = a.String()
	}
	d.step("testbed", time.Since(start), true, "namespaces %s{mn,par,nar,cn,atk}, veth links, bridges, routes;\nCGAs: PAR %s, MN PCoA %s, NCoA %s",
		o.Prefix, creds.PAR.CGA.Address, creds.MN.PCoA.Address, creds.MN.NCoA.Address)
	return creds, tb, down, nil
}

// RunNetns plays the walk-through on the testbed (root) and returns its
// summary, OK only if every expected outcome was reached; an error is a
// failure to run at all (also recorded in the summary).
func (d *Demo) RunNetns(ctx context.Context, o NetnsOptions) (NetnsSummary, error) {
	sum := NetnsSummary{Testbed: o.Prefix, Kept: o.Keep, CacheDir: o.CacheDir, Addresses: map[string]string{}}
	runErr := d.runNetns(ctx, o, &sum)
	sum.Steps = d.sum.Steps
	oc := sum.Outcome
	sum.OK, sum.Error = settleNetns(runErr, oc.KeyProvisioned && oc.FBUAccepted && oc.StreamRedirected && oc.ForgedFBURejected && oc.AttackerGotNothing)
	return sum, runErr
}

// settleNetns is a testbed walk-through's OK and error text from the
// run's error and whether every expected outcome was reached.
func settleNetns(runErr error, reached bool) (bool, string) {
	switch {
	case runErr != nil:
		return false, runErr.Error()
	case !reached:
		return false, "the demo did not reach its expected outcome"
	}
	return true, ""
}

// runNetns plays the scenario on the testbed. An error is a failure to run
// at all; protocol failures show in the outcome.
func (d *Demo) runNetns(ctx context.Context, o NetnsOptions, sum *NetnsSummary) (err error) {
	creds, tb, down, err := d.netnsSetup(ctx, o, "fhkey demo --netns: RFC 5269 handover keys, RFC 5568 fast handover, on raw sockets in network namespaces", sum.Addresses)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, down()) }()
	if o.Daemons {
		return d.runDaemons(ctx, o, sum, creds, tb)
	}

	// The roles, each on raw sockets in its own namespace.
	start := time.Now()
	dir, err := os.MkdirTemp("", "fhkey-demo-netns-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	par, err := scenario.StartRouter(ctx, tb, scenario.RouterConfig{Node: testbed.PAR, Credentials: creds.PAR, Anchors: creds.Anchors(),
		StorePath: filepath.Join(dir, "par.db"), Forwarding: true, ForwardingLifetime: time.Minute, Trace: d.trace,
		Neighbors: []ar.Neighbor{{AccessPoint: []byte{0x02, 0, 0, 0, 0, 0x02}, RouterLLA: []byte{0x02, 0, 0, 0, 0, 0x22}, Address: creds.NAR.CGA.Address, Prefix: lab.NARPrefix}}})
	if err != nil {
		return err
	}
	defer par.Stop()
	nar, err := scenario.StartRouter(ctx, tb, scenario.RouterConfig{Node: testbed.NAR, Credentials: creds.NAR, Anchors: creds.Anchors(),
		StorePath: filepath.Join(dir, "nar.db")})
	if err != nil {
		return err
	}
	defer nar.Stop()
	m, err := scenario.StartMobile(ctx, tb, scenario.MobileConfig{Credentials: creds.MN, Anchors: creds.Anchors(), PAR: creds.PAR.CGA.Address,
		PreferredAT: o.AT, Trace: d.mnTrace})
	if err != nil {
		return err
	}
	defer m.Close()
	d.step("roles", time.Since(start), true, "PAR, NAR: access router + CPS responder on raw ICMPv6/MH sockets, bbolt key store;\nPAR: user-space FMIPv6 forwarder %s; MN: mobile node + CPS solicitor, decapsulator %s",
		par.Forwarder.Name(), m.Decapsulator.Name())

	// Provisioning over the PAR's link.
	parAddr := par.Address()
	start = time.Now()
	ev, err := m.RequestKey(ctx, parAddr)
	rtt := time.Since(start)
	tr := d.takeTraces()
	if err != nil {
		d.step("RtSolPr", rtt, false, "MN -> PAR: no key: %v", err)
		return nil
	}
	d.step("RtSolPr", tr["mn:rtsolpr-sign"].Took, true, "MN -> PAR from the PCoA over %s: Handover Key Request (AT %d), SEND-signed\n(whole exchange %s, CPS/CPA included)", testbed.IfaceMNToPAR, o.AT, FormatDuration(rtt))
	d.step("SEND verify", tr["send-verify"].Took, tr["send-verify"].Err == nil, "PAR: CGA, signature, timestamp, nonce valid (RFC 3971 §5)")
	d.step("key", tr["key-encrypt"].Took+tr["prrtadv-sign"].Took, ev.Kind == mn.KeyProvisioned, "PAR: handover key encrypted to the HKEPK, PrRtAdv signed and sent")
	d.step("CPS/CPA", tr["mn:cps-fetch"].Took, tr["mn:cps-fetch"].Err == nil, "MN: PAR's certification path fetched and verified (RFC 3971 §6.4)")
	arRec, err1 := par.Store.Get(parAddr, m.PCoA.Address)
	mnRec, err2 := m.Role.Store().Get(parAddr, m.PCoA.Address)
	sum.Outcome.KeyProvisioned = ev.Kind == mn.KeyProvisioned && err1 == nil && err2 == nil && mnRec.KeyEqual(arRec.KeyBytes())
	arRec.Zero()
	mnRec.Zero()
	d.step("MN stores", tr["mn:key-decrypt"].Took, sum.Outcome.KeyProvisioned, "MN: key decrypted and stored, equal to the PAR's (bbolt) copy")
	if !sum.Outcome.KeyProvisioned {
		return nil
	}

	// The CN's traffic for the PCoA, first directly.
	stream, closeStream, err := d.streamDirect(ctx, tb, m.PCoA.Address, o, &sum.Packets)
	if err != nil {
		return err
	}
	defer closeStream()

	// The move and the FBU from the new link.
	start = time.Now()
	if err := m.Move(ctx); err != nil {
		return err
	}
	d.step("handover", time.Since(start), true, "MN: %s down, %s up, default route via the NAR; PCoA unreachable", testbed.IfaceMNToPAR, testbed.IfaceMNToNAR)
	start = time.Now()
	fb, err := m.FastHandover(ctx, parAddr)
	rtt = time.Since(start)
	tr = d.takeTraces()
	bnd, bound := par.Binding(m.PCoA.Address)
	d.step("FBU", tr["mn:fbu-build"].Took, err == nil, "MN -> PAR from the NCoA, Home Address option = PCoA, BADF last\n(whole FBU -> FBack exchange %s)", FormatDuration(rtt))
	d.step("PAR verifies", tr["fbu-verify"].Took, tr["fbu-verify"].Err == nil && bound && bnd.NewCoA == m.NCoA.Address,
		"PAR: key found by the PCoA, BADF valid; route %s/128 dev %s, tunnel to the NCoA for %v", m.PCoA.Address, par.Forwarder.Name(), bnd.Lifetime)
	sum.Outcome.FBUAccepted = err == nil && fb.Status == mh.FastStatusAccepted && bound && bnd.NewCoA == m.NCoA.Address
	if err != nil {
		d.step("FBack", 0, false, "MN: no authenticated FBack: %v", err)
		return nil
	}
	d.step("FBack", tr["mn:fback-verify"].Took, fb.Status == mh.FastStatusAccepted, "PAR -> MN: Status %d, lifetime %v; BADF verified by the MN", fb.Status, fb.Lifetime)

	start = time.Now()
	s := stream(o.Count)
	sum.Packets.Redirected = s
	sum.Outcome.StreamRedirected = s.Sent > 0 && s.Received*100 >= s.Sent*95
	d.step("stream", time.Since(start), sum.Outcome.StreamRedirected, "CN -> PCoA: %d/%d datagrams (%d every %v) tunnelled by the PAR and decapsulated\nat the MN on the NAR's link; one-way delay median %.3f ms, p99 %.3f ms",
		s.Received, s.Sent, o.Count, o.Spacing, s.DelayP50, s.DelayP99)

	// The attack.
	sink, err := scenario.ListenTunnel(tb, testbed.Attacker)
	if err != nil {
		return err
	}
	defer sink.Close()
	before, _ := par.Binding(m.PCoA.Address)
	statsBefore := par.Role.Stats()
	start = time.Now()
	forged, err := scenario.ForgeFBU(parAddr, m.PCoA.Address, testbed.AddrAttacker, o.AT)
	if err != nil {
		return err
	}
	status, err := sendForgedFBU(ctx, tb, forged)
	if err != nil {
		return err
	}
	took := time.Since(start)
	tr = d.takeTraces()
	after, _ := par.Binding(m.PCoA.Address)
	statsAfter := par.Role.Stats()
	sum.Outcome.BindingUnchanged = after.Binding == before.Binding && after.Expires.Equal(before.Expires)
	sum.Outcome.ForgedFBURejected = sum.Outcome.BindingUnchanged && statsAfter.FBUBadAuth == statsBefore.FBUBadAuth+1 &&
		statsAfter.FBUAccepted == statsBefore.FBUAccepted && tr["fbu-verify"].Err != nil
	d.step("forged FBU", took, sum.Outcome.ForgedFBURejected, "attacker %s -> PAR: FBU claiming the PCoA, BADF with a guessed key;\nPAR: %s; FBack Status %d; binding unchanged: %v",
		testbed.AddrAttacker, strings.TrimPrefix(fmt.Sprint(tr["fbu-verify"].Err), ar.ErrFBU.Error()+": "), status, sum.Outcome.BindingUnchanged)

	sum.Outcome.AttackerGotNothing = d.streamAfterForgery(stream, sink, o, &sum.Packets)
	sum.Packets.ForwarderPackets = par.Forwarder.Counters().Packets
	sum.Packets.DecapsulatorPkts = m.Decapsulator.Counters().Packets
	return nil
}

// sendForgedFBU sends, from the attacker's namespace, a forged FBU (one
// with a BADF computed with a guessed key, scenario.ForgeFBU) and returns
// the Status of the FBack it gets within a second, or -1.
func sendForgedFBU(ctx context.Context, tb *testbed.Testbed, forged netio.Packet) (int, error) {
	var att *netio.MHConn
	if err := tb.Do(testbed.Attacker, func() error {
		var err error
		att, err = netio.ListenMH(netio.MHConfig{Interface: testbed.IfaceAttacker})
		return err
	}); err != nil {
		return -1, err
	}
	defer att.Close()
	if err := att.WritePacket(ctx, forged); err != nil {
		return -1, err
	}
	actx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if p, err := att.ReadPacket(actx); err == nil {
		if msg, err := mh.ParseMessage(p.Payload); err == nil {
			if a, ok := msg.(mh.FastBindingAcknowledgment); ok {
				return int(a.Status), nil
			}
		}
	}
	return -1, nil
}

// cnStream opens the MN's UDP receiver at pcoa and the CN's sender; the
// function returned sends n datagrams spaced by spacing and counts those
// that arrived.
func cnStream(ctx context.Context, tb *testbed.Testbed, pcoa netip.Addr, spacing time.Duration) (func(n int) scenario.StreamStats, func(), error) {
	dst := netip.AddrPortFrom(pcoa, netnsStreamPort)
	recv, err := scenario.ListenUDP(tb, testbed.MN, dst)
	if err != nil {
		return nil, nil, err
	}
	cn, err := scenario.NewSender(tb, testbed.CN, testbed.AddrCN)
	if err != nil {
		recv.Close()
		return nil, nil, err
	}
	stream := func(n int) scenario.StreamStats {
		from, to, _ := cn.Stream(ctx, dst, n, spacing, nil)
		// Every datagram, for at most 3 s: a quiet spell is no sign of
		// the end on a loaded host, where the forwarder may lag.
		return recv.Await(from, to, n, 3*time.Second)
	}
	return stream, func() { cn.Close(); recv.Close() }, nil
}

// streamDirect opens the CN's stream to pcoa and sends 20 datagrams while
// the MN is on the PAR's link, where they arrive directly.
func (d *Demo) streamDirect(ctx context.Context, tb *testbed.Testbed, pcoa netip.Addr, o NetnsOptions, p *NetnsCounts) (func(n int) scenario.StreamStats, func(), error) {
	stream, closeStream, err := cnStream(ctx, tb, pcoa, o.Spacing)
	if err != nil {
		return nil, nil, err
	}
	start := time.Now()
	p.Direct = stream(20)
	d.step("CN direct", time.Since(start), p.Direct.Received == 20, "CN %s -> PCoA udp/%d: %d/%d datagrams at the MN on the PAR's link",
		testbed.AddrCN, netnsStreamPort, p.Direct.Received, p.Direct.Sent)
	return stream, closeStream, nil
}

// streamAfterForgery sends the stream again after the forged FBU: it must
// still reach the MN, and nothing the attacker's tunnel sink (the result).
func (d *Demo) streamAfterForgery(stream func(n int) scenario.StreamStats, sink *scenario.TunnelSink, o NetnsOptions, p *NetnsCounts) bool {
	start := time.Now()
	s := stream(o.Count)
	p.AfterForgery = s
	p.AttackerTunnelled = sink.Count()
	nothing := p.AttackerTunnelled == 0
	d.step("stream 2", time.Since(start), nothing && s.Received*100 >= s.Sent*95,
		"CN -> PCoA again: %d/%d at the MN, %d tunnel packets at the attacker", s.Received, s.Sent, p.AttackerTunnelled)
	return nothing
}
