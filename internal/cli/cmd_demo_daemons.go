package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/node"
	"github.com/fhkey/fhkey/internal/scenario"
	"github.com/fhkey/fhkey/internal/testbed"
)

// runDaemons plays the scenario of runNetns with the daemons as processes:
// `fhkey ar` in the PAR's and the NAR's namespaces and `fhkey mn` in the
// MN's, this executable under `ip netns exec`, configured by
// scenario.WriteDaemonFiles; the demo watches them through their /status
// and /metrics, moves the MN, streams from the CN and forges an FBU.
func (d *demo) runDaemons(ctx context.Context, o netnsOptions, sum *netnsSummary, creds *lab.Credentials, tb *testbed.Testbed) (err error) {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "fhkey-demo-daemons-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	start := time.Now()
	files, err := scenario.WriteDaemonFiles(dir, creds, scenario.DaemonOptions{HTTP: scenario.DefaultDaemonHTTP,
		ForwardingLifetime: time.Minute, PreferredAlgorithm: o.at.String()})
	if err != nil {
		return err
	}
	var daemons []*scenario.Daemon
	defer func() {
		for _, dm := range daemons {
			dm.Kill()
		}
	}()
	start1 := func(node testbed.Node, name string, args ...string) (*scenario.Daemon, error) {
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		dm, err := scenario.StartDaemon(sctx, tb, node, name, scenario.DefaultDaemonHTTP, append([]string{exe}, args...)...)
		if err == nil {
			daemons = append(daemons, dm)
		}
		return dm, err
	}
	par, err := start1(testbed.PAR, "PAR", "ar", "-c", files.PAR)
	if err != nil {
		return err
	}
	nar, err := start1(testbed.NAR, "NAR", "ar", "-c", files.NAR)
	if err != nil {
		return err
	}
	mnStart := time.Now()
	mobile, err := start1(testbed.MN, "MN", "mn", "-c", files.MN)
	if err != nil {
		return err
	}
	d.step("daemons", time.Since(start), true, "configurations in %s ('fhkey testbed configs');\nip netns exec %s fhkey ar (pid %d), %s fhkey ar (pid %d), %s fhkey mn (pid %d)",
		dir, tb.Namespace(testbed.PAR), par.Pid(), tb.Namespace(testbed.NAR), nar.Pid(), tb.Namespace(testbed.MN), mobile.Pid())

	parAddr, pcoa, ncoa := creds.PAR.CGA.Address, creds.MN.PCoA.Address, creds.MN.NCoA.Address
	var ms node.MNStatus // the daemons' own /status documents
	var ps node.ARStatus
	// waitMN polls the MN's /status until cond holds (at most 15 s).
	waitMN := func(cond func() bool) bool {
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if mobile.Status(&ms) == nil && cond() {
				return true
			}
		}
		return false
	}
	sum.Outcome.KeyProvisioned = waitMN(func() bool {
		for _, k := range ms.Keys {
			if k.Router == parAddr.String() && k.CareOf == pcoa.String() && k.AT == uint8(o.at) {
				return true
			}
		}
		return false
	})
	issued, _ := par.Metric(`fhkey_ar_keys_issued_total{kind="created"}`)
	d.step("provisioning", time.Since(mnStart), sum.Outcome.KeyProvisioned && issued == 1,
		"MN daemon: RtSolPr over %s, CPS/CPA, PrRtAdv with the key (AT %d); PAR: %v key issued\n(time from the MN daemon's start)", testbed.IfaceMNToPAR, o.at, issued)
	if !sum.Outcome.KeyProvisioned {
		return nil
	}

	stream, closeStream, err := d.streamDirect(ctx, tb, pcoa, o, sum)
	if err != nil {
		return err
	}
	defer closeStream()

	moveStart := time.Now()
	if err := tb.Move(ctx); err != nil {
		return err
	}
	d.step("move", time.Since(moveStart), true, "MN: %s down, %s up, default route via the NAR", testbed.IfaceMNToPAR, testbed.IfaceMNToNAR)
	acked := waitMN(func() bool { return ms.Handovers >= 1 })
	took := time.Since(moveStart)
	err = par.Status(&ps)
	bound := err == nil && len(ps.Bindings) == 1 && ps.Bindings[0].PreviousCoA == pcoa && ps.Bindings[0].NewCoA == ncoa
	h := ms.Handover
	sum.Outcome.FBUAccepted = acked && h != nil && h.Error == "" && h.Status == 0 && bound
	if h == nil {
		h = &node.MNHandover{Error: "no handover seen"}
	}
	result := fmt.Sprintf("FBack Status %d, lifetime %gs", h.Status, h.Lifetime)
	if h.Error != "" {
		result = h.Error
	}
	d.step("FBU/FBack", took, sum.Outcome.FBUAccepted, "MN daemon: %s up with the NCoA (netlink) -> FBU to the PAR (Home Address option = PCoA, BADF);\n%s; PAR binding PCoA -> NCoA: %v\n(from the start of the move to the FBack in the MN's /status; in the daemon, detection to FBack %s,\nwaiting for the route through %[1]s included)",
		testbed.IfaceMNToNAR, result, bound, fmtDuration(time.Duration(h.Took*float64(time.Second))))
	if !sum.Outcome.FBUAccepted {
		return nil
	}
	start = time.Now()
	s := stream(o.count)
	sum.Packets.Redirected = s
	sum.Outcome.StreamRedirected = s.Sent > 0 && s.Received*100 >= s.Sent*95
	d.step("stream", time.Since(start), sum.Outcome.StreamRedirected, "CN -> PCoA: %d/%d datagrams tunnelled by the PAR daemon, decapsulated by the MN daemon;\none-way delay median %.3f ms, p99 %.3f ms",
		s.Received, s.Sent, s.DelayP50, s.DelayP99)

	sink, err := scenario.ListenTunnel(tb, testbed.Attacker)
	if err != nil {
		return err
	}
	defer sink.Close()
	before := ps.Bindings[0]
	badBefore, _ := par.Metric(`fhkey_ar_fbu_rejected_total{reason="bad_auth"}`)
	acceptedBefore, _ := par.Metric("fhkey_ar_fbu_accepted_total")
	start = time.Now()
	status, err := sendForgedFBU(ctx, tb, parAddr, pcoa, o.at)
	if err != nil {
		return err
	}
	took = time.Since(start)
	badAfter, _ := par.Metric(`fhkey_ar_fbu_rejected_total{reason="bad_auth"}`)
	accepted, _ := par.Metric("fhkey_ar_fbu_accepted_total")
	err = par.Status(&ps)
	sum.Outcome.BindingUnchanged = err == nil && len(ps.Bindings) == 1 && ps.Bindings[0].NewCoA == before.NewCoA && ps.Bindings[0].Expires.Equal(before.Expires)
	sum.Outcome.ForgedFBURejected = sum.Outcome.BindingUnchanged && badAfter == badBefore+1 && accepted == acceptedBefore
	d.step("forged FBU", took, sum.Outcome.ForgedFBURejected, "attacker %s -> PAR: FBU claiming the PCoA, BADF with a guessed key;\nPAR /metrics: bad_auth %v -> %v; FBack Status %d; binding unchanged: %v",
		testbed.AddrAttacker, badBefore, badAfter, status, sum.Outcome.BindingUnchanged)

	d.streamAfterForgery(stream, sink, o, sum)
	if par.Status(&ps) == nil && ps.Forwarder != nil {
		sum.Packets.ForwarderPackets = ps.Forwarder.Packets
	}
	if mobile.Status(&ms) == nil && ms.Decapsulator != nil {
		sum.Packets.DecapsulatorPkts = ms.Decapsulator.Packets
	}

	start = time.Now()
	var stopErrs []error
	for _, dm := range []*scenario.Daemon{mobile, nar, par} {
		stopErrs = append(stopErrs, dm.Stop(10*time.Second))
	}
	stopErr := errors.Join(stopErrs...)
	d.step("stop", time.Since(start), stopErr == nil, "SIGTERM to the three daemons: %s", map[bool]string{true: "each exited with status 0", false: fmt.Sprint(stopErr)}[stopErr == nil])
	if stopErr != nil {
		return stopErr
	}
	return nil
}
