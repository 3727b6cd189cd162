package demo

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/node"
	"github.com/fhkey/fhkey/internal/scenario"
	"github.com/fhkey/fhkey/internal/testbed"
)

// daemonSet starts this executable's daemons on the testbed and stops
// them; dir is a temporary directory for their files.
type daemonSet struct {
	ctx  context.Context
	tb   *testbed.Testbed
	exe  string
	dir  string
	list []*scenario.Daemon
}

// newDaemonSet makes the set and its directory (os.MkdirTemp's pattern);
// close kills what still runs and removes the directory.
func newDaemonSet(ctx context.Context, tb *testbed.Testbed, pattern string) (*daemonSet, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		return nil, err
	}
	return &daemonSet{ctx: ctx, tb: tb, exe: exe, dir: dir}, nil
}

// start runs `ip netns exec NS fhkey args...` in node's namespace and
// waits for its /readyz at httpAddr (at most 20 s).
func (s *daemonSet) start(node testbed.Node, name, httpAddr string, args ...string) (*scenario.Daemon, error) {
	sctx, cancel := context.WithTimeout(s.ctx, 20*time.Second)
	defer cancel()
	dm, err := scenario.StartDaemon(sctx, s.tb, node, name, httpAddr, append([]string{s.exe}, args...)...)
	if err == nil {
		s.list = append(s.list, dm)
	}
	return dm, err
}

// close kills the daemons still running (after stopDaemons: none) and
// removes the directory.
func (s *daemonSet) close() {
	for _, dm := range s.list {
		dm.Kill()
	}
	os.RemoveAll(s.dir)
}

// stop sends SIGTERM to the daemons, the last started first, and records
// the step: each must exit with status 0.
func (d *Demo) stopDaemons(s *daemonSet) error {
	start := time.Now()
	var errs []error
	for i := len(s.list) - 1; i >= 0; i-- {
		errs = append(errs, s.list[i].Stop(10*time.Second))
	}
	err := errors.Join(errs...)
	d.step("stop", time.Since(start), err == nil, "SIGTERM to the %d daemons: %s", len(s.list), map[bool]string{true: "each exited with status 0", false: fmt.Sprint(err)}[err == nil])
	return err
}

// daemonPair is the PAR and MN daemons of a walk-through, their addresses
// and their last /status documents.
type daemonPair struct {
	par, mobile         *scenario.Daemon
	parAddr, pcoa, ncoa netip.Addr
	ms                  node.MNStatus
	ps                  node.ARStatus
	// auth names the FBU's authenticator in the step text: "" for the
	// BADF, authMSK in the MSK mode.
	auth string
}

// authMSK is the FBU's authenticator in the MSK mode (docs/msk.md).
const authMSK = "RFC 4285 MN-HA authentication option (MSK mode)"

// authenticator names the FBU's authenticator of p for the step text.
func (p *daemonPair) authenticator() string {
	if p.auth == "" {
		return "BADF"
	}
	return p.auth
}

// waitMN polls the MN daemon's /status into ms until cond holds (at most
// 15 s).
func waitMN(mobile *scenario.Daemon, ms *node.MNStatus, cond func() bool) bool {
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if mobile.Status(ms) == nil && cond() {
			return true
		}
	}
	return false
}

// hasKey reports whether the MN daemon's /status shows a key from par for
// pcoa accepted by ok.
func hasKey(ms *node.MNStatus, par, pcoa netip.Addr, ok func(node.MNKey) bool) bool {
	for _, k := range ms.Keys {
		if k.Router == par.String() && k.CareOf == pcoa.String() && ok(k) {
			return true
		}
	}
	return false
}

// daemonHandover moves the MN and waits for the MN daemon's FBU to be
// acknowledged and the PAR daemon's binding PCoA -> NCoA; it returns
// whether both were seen.
func (d *Demo) daemonHandover(ctx context.Context, tb *testbed.Testbed, p *daemonPair) (bool, error) {
	ms, ps := &p.ms, &p.ps
	moveStart := time.Now()
	if err := tb.Move(ctx); err != nil {
		return false, err
	}
	d.step("move", time.Since(moveStart), true, "MN: %s down, %s up, default route via the NAR", testbed.IfaceMNToPAR, testbed.IfaceMNToNAR)
	acked := waitMN(p.mobile, ms, func() bool { return ms.Handovers >= 1 })
	took := time.Since(moveStart)
	err := p.par.Status(ps)
	bound := err == nil && len(ps.Bindings) == 1 && ps.Bindings[0].PreviousCoA == p.pcoa && ps.Bindings[0].NewCoA == p.ncoa
	h := ms.Handover
	ok := acked && h != nil && h.Error == "" && h.Status == 0 && bound
	if h == nil {
		h = &node.MNHandover{Error: "no handover seen"}
	}
	result := fmt.Sprintf("FBack Status %d, lifetime %gs", h.Status, h.Lifetime)
	if h.Error != "" {
		result = h.Error
	}
	d.step("FBU/FBack", took, ok, "MN daemon: %s up with the NCoA (netlink) -> FBU to the PAR (Home Address option = PCoA, %[2]s);\n%[3]s; PAR binding PCoA -> NCoA: %[4]v\n(from the start of the move to the FBack in the MN's /status; in the daemon, detection to FBack %[5]s,\nwaiting for the route through %[1]s included)",
		testbed.IfaceMNToNAR, p.authenticator(), result, bound, FormatDuration(time.Duration(h.Took*float64(time.Second))))
	return ok, nil
}

// daemonStream sends the CN's stream after the handover and reports
// whether at least 95 % arrived through the daemons' tunnel.
func (d *Demo) daemonStream(stream func(n int) scenario.StreamStats, count int, p *NetnsCounts) bool {
	start := time.Now()
	s := stream(count)
	p.Redirected = s
	ok := s.Sent > 0 && s.Received*100 >= s.Sent*95
	d.step("stream", time.Since(start), ok, "CN -> PCoA: %d/%d datagrams tunnelled by the PAR daemon, decapsulated by the MN daemon;\none-way delay median %.3f ms, p99 %.3f ms",
		s.Received, s.Sent, s.DelayP50, s.DelayP99)
	return ok
}

// daemonForgedFBU sends the attacker's forged FBU (sendForgedFBU; its
// BADF described by badf) and
// reads the PAR daemon's /metrics and /status: rejected if counted as
// bad_auth, nothing accepted, and the binding unchanged.
func (d *Demo) daemonForgedFBU(ctx context.Context, tb *testbed.Testbed, p *daemonPair, forged netio.Packet, badf string) (rejected, unchanged bool, err error) {
	par, ps := p.par, &p.ps
	if len(ps.Bindings) != 1 {
		return false, false, fmt.Errorf("demo: PAR bindings %+v before the forgery, want 1", ps.Bindings)
	}
	before := ps.Bindings[0]
	badBefore, _ := par.Metric(`fhkey_ar_fbu_rejected_total{reason="bad_auth"}`)
	acceptedBefore, _ := par.Metric("fhkey_ar_fbu_accepted_total")
	start := time.Now()
	status, err := sendForgedFBU(ctx, tb, forged)
	if err != nil {
		return false, false, err
	}
	took := time.Since(start)
	badAfter, _ := par.Metric(`fhkey_ar_fbu_rejected_total{reason="bad_auth"}`)
	accepted, _ := par.Metric("fhkey_ar_fbu_accepted_total")
	err = par.Status(ps)
	unchanged = err == nil && len(ps.Bindings) == 1 && ps.Bindings[0].NewCoA == before.NewCoA && ps.Bindings[0].Expires.Equal(before.Expires)
	rejected = unchanged && badAfter == badBefore+1 && accepted == acceptedBefore
	d.step("forged FBU", took, rejected, "attacker %s -> PAR: FBU claiming the PCoA, %s;\nPAR /metrics: bad_auth %v -> %v; FBack Status %d; binding unchanged: %v",
		testbed.AddrAttacker, badf, badBefore, badAfter, status, unchanged)
	return rejected, unchanged, nil
}

// daemonFastHandover plays what both daemon walk-throughs do once the MN daemon
// holds its key: the CN's stream to the PCoA, the move and the MN daemon's
// FBU, the stream redirected, the attacker's forged FBU (forged, its BADF
// described by badf), the stream again; the outcome in oc, the counts in pk.
func (d *Demo) daemonFastHandover(ctx context.Context, tb *testbed.Testbed, o NetnsOptions, p *daemonPair, forged netio.Packet, badf string, oc *HandoverOutcome, pk *NetnsCounts) error {
	stream, closeStream, err := d.streamDirect(ctx, tb, p.pcoa, o, pk)
	if err != nil {
		return err
	}
	defer closeStream()
	if oc.FBUAccepted, err = d.daemonHandover(ctx, tb, p); err != nil || !oc.FBUAccepted {
		return err
	}
	oc.StreamRedirected = d.daemonStream(stream, o.Count, pk)
	sink, err := scenario.ListenTunnel(tb, testbed.Attacker)
	if err != nil {
		return err
	}
	defer sink.Close()
	if oc.ForgedFBURejected, oc.BindingUnchanged, err = d.daemonForgedFBU(ctx, tb, p, forged, badf); err != nil {
		return err
	}
	oc.AttackerGotNothing = d.streamAfterForgery(stream, sink, o, pk)
	if p.par.Status(&p.ps) == nil && p.ps.Forwarder != nil {
		pk.ForwarderPackets = p.ps.Forwarder.Packets
	}
	if p.mobile.Status(&p.ms) == nil && p.ms.Decapsulator != nil {
		pk.DecapsulatorPkts = p.ms.Decapsulator.Packets
	}
	return nil
}

// runDaemons plays the scenario of runNetns with the daemons as processes:
// `fhkey ar` in the PAR's and the NAR's namespaces and `fhkey mn` in the
// MN's, this executable under `ip netns exec`, configured by
// scenario.WriteDaemonFiles; the demo watches them through their /status
// and /metrics, moves the MN, streams from the CN and forges an FBU.
func (d *Demo) runDaemons(ctx context.Context, o NetnsOptions, sum *NetnsSummary, creds *lab.Credentials, tb *testbed.Testbed) (err error) {
	set, err := newDaemonSet(ctx, tb, "fhkey-demo-daemons-")
	if err != nil {
		return err
	}
	defer set.close()
	dir := set.dir
	start := time.Now()
	files, err := scenario.WriteDaemonFiles(dir, creds, scenario.DaemonOptions{HTTP: scenario.DefaultDaemonHTTP,
		ForwardingLifetime: time.Minute, PreferredAlgorithm: o.AT.String()})
	if err != nil {
		return err
	}
	par, err := set.start(testbed.PAR, "PAR", scenario.DefaultDaemonHTTP, "ar", "-c", files.PAR)
	if err != nil {
		return err
	}
	nar, err := set.start(testbed.NAR, "NAR", scenario.DefaultDaemonHTTP, "ar", "-c", files.NAR)
	if err != nil {
		return err
	}
	mnStart := time.Now()
	mobile, err := set.start(testbed.MN, "MN", scenario.DefaultDaemonHTTP, "mn", "-c", files.MN)
	if err != nil {
		return err
	}
	d.step("daemons", time.Since(start), true, "configurations in %s ('fhkey testbed configs');\nip netns exec %s fhkey ar (pid %d), %s fhkey ar (pid %d), %s fhkey mn (pid %d)",
		dir, tb.Namespace(testbed.PAR), par.Pid(), tb.Namespace(testbed.NAR), nar.Pid(), tb.Namespace(testbed.MN), mobile.Pid())

	p := &daemonPair{par: par, mobile: mobile, parAddr: creds.PAR.CGA.Address, pcoa: creds.MN.PCoA.Address, ncoa: creds.MN.NCoA.Address}
	sum.Outcome.KeyProvisioned = waitMN(mobile, &p.ms, func() bool {
		return hasKey(&p.ms, p.parAddr, p.pcoa, func(k node.MNKey) bool { return k.AT == uint8(o.AT) })
	})
	issued, _ := par.Metric(`fhkey_ar_keys_issued_total{kind="created"}`)
	d.step("provisioning", time.Since(mnStart), sum.Outcome.KeyProvisioned && issued == 1,
		"MN daemon: RtSolPr over %s, CPS/CPA, PrRtAdv with the key (AT %d); PAR: %v key issued\n(time from the MN daemon's start)", testbed.IfaceMNToPAR, o.AT, issued)
	if !sum.Outcome.KeyProvisioned {
		return nil
	}
	forged, err := scenario.ForgeFBU(p.parAddr, p.pcoa, testbed.AddrAttacker, o.AT)
	if err != nil {
		return err
	}
	if err := d.daemonFastHandover(ctx, tb, o, p, forged, "BADF with a guessed key", &sum.Outcome.HandoverOutcome, &sum.Packets); err != nil || !sum.Outcome.FBUAccepted {
		return err
	}
	return d.stopDaemons(set)
}
