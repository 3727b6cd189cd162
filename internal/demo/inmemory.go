package demo

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/fhkey/fhkey/certpath"
	"github.com/fhkey/fhkey/cga"
	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/ar"
	"github.com/fhkey/fhkey/internal/capture"
	"github.com/fhkey/fhkey/internal/certdisc"
	"github.com/fhkey/fhkey/internal/forward"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/internal/scenario"
	"github.com/fhkey/fhkey/keystore"
)

// run plays the scenario, filling d.sum. An error is a failure to run at
// all; protocol failures show in the outcome.
func (d *Demo) run(ctx context.Context, cacheDir string, at hokey.AlgorithmType) error {
	if d.out != nil {
		fmt.Fprintf(d.out, "fhkey demo: RFC 5269 handover keys over SEND, RFC 5568 fast handover (in-memory network)\n\n")
	}
	// 1. Credentials.
	creds, how, took, err := loadCredentials(ctx, cacheDir)
	if err != nil {
		return err
	}
	d.step("credentials", took, true, "trust anchor, PAR and NAR router certificates, RSA-%d keys: %s\nin %s",
		creds.Bits, how, cacheDir)

	start := time.Now()
	var cgaErr error
	for _, c := range []struct {
		name string
		a    lab.CGA
	}{{"MN PCoA", creds.MN.PCoA}, {"MN NCoA", creds.MN.NCoA}, {"PAR", creds.PAR.CGA}, {"NAR", creds.NAR.CGA}} {
		b, err := c.a.Parameters.Marshal()
		if err == nil {
			_, err = cga.Verify(c.a.Address, b)
		}
		cgaErr = errors.Join(cgaErr, err)
		d.sum.Addresses[c.name] = c.a.Address.String()
	}
	d.step("CGA", time.Since(start), cgaErr == nil, "MN  %s on the PAR's link (PCoA), Sec %d\nMN  %s on the NAR's link (NCoA)\nPAR %s   NAR %s",
		creds.MN.PCoA.Address, creds.Sec, creds.MN.NCoA.Address, creds.PAR.CGA.Address, creds.NAR.CGA.Address)
	if cgaErr != nil {
		return cgaErr
	}

	// The network and the routers.
	network := netio.NewNetwork()
	network.AddTap(d.capture)
	attackerAddr := netip.MustParseAddr("2001:db8:2::bad")
	d.sum.Addresses["attacker"] = attackerAddr.String()
	// Link-local addresses for certificate path discovery (RFC 3971 §6.4).
	parLL, narLL := netip.MustParseAddr("fe80::1"), netip.MustParseAddr("fe80::2")
	mnLL := netip.AddrFrom16([16]byte{0xfe, 0x80, 8: 0x02, 9: 0x11, 10: 0x22, 11: 0xff, 12: 0xfe, 13: 0x33, 14: 0x44, 15: 0x55})
	parConn := network.Attach([]netip.Addr{creds.PAR.CGA.Address, parLL}, []netip.Addr{ar.AllRoutersMulticast}, 64)
	narConn := network.Attach([]netip.Addr{creds.NAR.CGA.Address, narLL}, []netip.Addr{ar.AllRoutersMulticast}, 64)
	rawMNConn := network.Attach([]netip.Addr{creds.MN.PCoA.Address, mnLL}, []netip.Addr{certdisc.SolicitedNodeMulticast(mnLL), certdisc.AllNodes}, 64)
	attConn := network.Attach([]netip.Addr{attackerAddr}, nil, 64)
	defer func() {
		for _, c := range []netio.Conn{parConn, narConn, rawMNConn, attConn} {
			c.Close()
		}
	}()
	parStore, narStore := keystore.NewMemory(), keystore.NewMemory()
	defer func() { d.keys = storeRecords(parStore, narStore) }()
	// The PAR's forwarding plane (internal/forward): an accepted FBU
	// installs the PCoA -> NCoA tunnel; its expiry discards the key.
	var par *ar.Router
	parFwd := forward.NewMemory(creds.PAR.CGA.Address, forward.Options{OnExpire: func(p netip.Addr) { par.ForwardingTimedOut(p) }})
	defer parFwd.Close()
	parBindings := ar.NewForwarderBindings(parFwd, nil)
	// Each router answers Certification Path Solicitations (RFC 5269 §3.2:
	// "support SEND certificate discovery"); its Serve sends the answers
	// HandlePacket defers (to All-Nodes for a solicitation from ::, RFC
	// 3971 §6.4.5, or beyond MAX_CPA_RATE), as the daemon's router does.
	var responders []*certdisc.Responder
	responder := func(conn netio.Conn, r lab.Router, ll netip.Addr) (func(context.Context, netio.Packet), error) {
		resp, err := certdisc.NewResponder(conn, certdisc.ResponderConfig{Source: ll,
			Paths: []certdisc.Path{{Certificates: r.Path, Anchors: creds.Anchors()}}})
		if err != nil {
			return nil, err
		}
		responders = append(responders, resp)
		return func(ctx context.Context, p netio.Packet) { _ = resp.HandlePacket(ctx, p) }, nil
	}
	parCPS, err := responder(parConn, creds.PAR, parLL)
	if err != nil {
		return err
	}
	narCPS, err := responder(narConn, creds.NAR, narLL)
	if err != nil {
		return err
	}
	par, err = ar.New(ar.Config{Address: creds.PAR.CGA.Address, Parameters: creds.PAR.CGA.Parameters, Signer: creds.PAR.Key,
		Store: parStore, Bindings: parBindings, Trace: d.trace, Other: parCPS,
		Neighbors: []ar.Neighbor{{AccessPoint: []byte{0x02, 0, 0, 0, 0, 0x02}, RouterLLA: []byte{0x02, 0, 0, 0, 0, 0x22}, Address: creds.NAR.CGA.Address, Prefix: lab.NARPrefix}}})
	if err != nil {
		return err
	}
	nar, err := ar.New(ar.Config{Address: creds.NAR.CGA.Address, Parameters: creds.NAR.CGA.Parameters, Signer: creds.NAR.Key,
		Store: narStore, Trace: d.trace, Other: narCPS})
	if err != nil {
		return err
	}
	srvCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, s := range []struct {
		r *ar.Router
		c netio.Conn
	}{{par, parConn}, {nar, narConn}} {
		wg.Go(func() { _ = s.r.Serve(srvCtx, s.c, 1) })
	}
	for _, resp := range responders {
		wg.Go(func() { _ = resp.Serve(srvCtx, nil) })
	}
	defer func() { stop(); wg.Wait() }()

	// The MN trusts the anchor and fetches a router's certification path
	// with CPS/CPA when a PrRtAdv is signed by a key it has not cached (RFC
	// 5269 §3.3). A reader goroutine hands the CPAs to the solicitor while
	// the PrRtAdv waits for them.
	cache := certpath.NewCache(8)
	solicitor, err := certdisc.NewSolicitor(rawMNConn, certdisc.SolicitorConfig{Anchors: creds.Anchors(), Cache: cache, Source: mnLL,
		Retry: 200 * time.Millisecond, RetryMax: 2 * time.Second})
	if err != nil {
		return err
	}
	mnConn := mn.SplitConn(srvCtx, rawMNConn, func(p netio.Packet) bool {
		if p.NextHeader == inet.ProtocolICMPv6 && len(p.Payload) > 0 && p.Payload[0] == 149 {
			_ = solicitor.HandlePacket(p)
			return true
		}
		return false
	})
	defer mnConn.Close()
	fetch := func(ctx context.Context, router netip.Addr, kh certpath.KeyHash) (*certpath.Authorization, error) {
		start := time.Now()
		a, err := solicitor.FetchKey(ctx, router, kh, nil)
		d.mnTrace("cps-fetch", time.Since(start), err)
		return a, err
	}
	node, err := mn.New(mn.Config{Key: creds.MN.Key, Authorizer: &mn.CertCache{Cache: cache, Fetch: fetch}, PreferredAT: at, Trace: d.mnTrace})
	if err != nil {
		return err
	}
	start = time.Now()
	if err := node.RotateEncryptionKey(); err != nil {
		return err
	}
	d.step("HKEPK", time.Since(start), true, "MN: handover key encryption key pair, RSA-%d like its CGA key (RFC 5269 §3.1)", creds.Bits)

	// 2. Provisioning with the PAR.
	pcoa := mn.CareOf{Address: creds.MN.PCoA.Address, Parameters: creds.MN.PCoA.Parameters}
	start = time.Now()
	ev, err := node.RequestKey(ctx, mnConn, creds.PAR.CGA.Address, pcoa)
	rtt := time.Since(start)
	tr := d.takeTraces()
	if err != nil {
		d.step("RtSolPr", rtt, false, "MN -> PAR: no key: %v", err)
		return nil
	}
	d.step("RtSolPr", tr["mn:rtsolpr-sign"].Took, true,
		"MN -> PAR from the PCoA: Handover Key Request (AT %d), CGA, Timestamp,\nNonce, RSA Signature (time: signing; whole exchange %s)", at, FormatDuration(rtt))
	verr := tr["send-verify"].Err
	d.step("SEND verify", tr["send-verify"].Took, verr == nil, "PAR: CGA, RSA signature, timestamp and nonce of the RtSolPr valid (RFC 3971 §5)")
	keyStep := "key-created"
	if _, ok := tr[keyStep]; !ok {
		keyStep = "key-reused"
	}
	d.step("key", tr["key-encrypt"].Took+tr["prrtadv-sign"].Took, ev.Kind == mn.KeyProvisioned,
		"PAR: handover key %s (%v), stored for the PCoA, HK-LIFETIME %d s;\nRSAES-PKCS1-v1_5 to the HKEPK, PrRtAdv with Handover Key Reply signed and sent",
		strings.TrimPrefix(keyStep, "key-"), hokey.AlgorithmType(ev.Record.AT), int(ev.Record.Expires.Sub(ev.Record.Created).Seconds()))
	d.step("CPS/CPA", tr["mn:cps-fetch"].Took, tr["mn:cps-fetch"].Err == nil,
		"MN: PrRtAdv signed by a key not yet cached: PAR's certification path fetched\n(RFC 3971 §6.4) and verified under the trust anchor, prefix %s", lab.PARPrefix)
	// Both ends hold the same key (compared in constant time, never printed).
	arRec, err1 := parStore.Get(creds.PAR.CGA.Address, pcoa.Address)
	mnRec, err2 := node.Store().Get(creds.PAR.CGA.Address, pcoa.Address)
	d.sum.Outcome.KeyProvisioned = ev.Kind == mn.KeyProvisioned && err1 == nil && err2 == nil && mnRec.KeyEqual(arRec.KeyBytes())
	arRec.Zero()
	mnRec.Zero()
	d.step("MN stores", tr["mn:prrtadv-verify"].Took-tr["mn:cps-fetch"].Took+tr["mn:key-decrypt"].Took, d.sum.Outcome.KeyProvisioned,
		"MN: PrRtAdv signed by the PAR's certified key, nonce matched, key decrypted;\nstored under (PAR %s, PCoA), equal to the PAR's copy", creds.PAR.CGA.Address)
	if !d.sum.Outcome.KeyProvisioned {
		return nil
	}

	// 3. Handover: the MN moves to the NAR's link.
	h := &handover{node: node, mnConn: mnConn, par: par, parAdr: creds.PAR.CGA.Address, fwd: parFwd, pcoa: pcoa.Address, ncoa: creds.MN.NCoA.Address,
		moveTo: func() { rawMNConn.SetAddrs([]netip.Addr{creds.MN.NCoA.Address, mnLL}) }}
	d.sum.Outcome.GenuineFBUAccepted = d.fastHandover(ctx, h)

	// 4. The attack: an FBU for the MN's PCoA with a guessed key.
	forged, err := scenario.ForgeFBU(creds.PAR.CGA.Address, pcoa.Address, attackerAddr, at)
	if err != nil {
		return err
	}
	if d.sum.Outcome.ForgedFBURejected, d.sum.Outcome.BindingUnchanged, err = d.forgedFBU(ctx, h, attConn, forged, "BADF with a guessed key"); err != nil {
		return err
	}

	// 5. A key from the NAR for the next handover (§3.3: keys from several
	// routers are kept).
	ncoa := mn.CareOf{Address: creds.MN.NCoA.Address, Parameters: creds.MN.NCoA.Parameters}
	start = time.Now()
	ev, err = node.RequestKey(ctx, mnConn, creds.NAR.CGA.Address, ncoa)
	d.step("NAR key", time.Since(start), err == nil && ev.Kind == mn.KeyProvisioned,
		"MN -> NAR from the NCoA: key for the next handover; the MN now holds %d keys", len(node.Keys()))
	return nil
}

// forwardEcho hands the PAR's forwarding plane an ICMPv6 Echo Request from
// cn to pcoa, captures it and the tunnel packet, and returns the latter.
func (d *Demo) forwardEcho(f *forward.Memory, cn, pcoa netip.Addr) ([]byte, error) {
	echo := &capture.Packet{HopLimit: 64, Source: cn, Destination: pcoa, Protocol: inet.ProtocolICMPv6,
		Payload: append([]byte{128, 0, 0, 0, 0x12, 0x34, 0, 1}, "fhkey demo"...)}
	if err := echo.SetChecksum(); err != nil {
		return nil, err
	}
	b, err := echo.Marshal()
	if err != nil {
		return nil, err
	}
	d.captureRaw(b)
	t, err := f.Deliver(b)
	if err != nil {
		return nil, err
	}
	d.captureRaw(t)
	return t, nil
}

// captureRaw writes a complete IPv6 packet to the pcap file.
func (d *Demo) captureRaw(b []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sum.Packets++
	if d.pcap != nil && d.pcapErr == nil {
		d.pcapErr = d.pcap.WritePacket(time.Now(), b)
	}
}

// storeRecords returns copies of the records of the stores.
func storeRecords(stores ...keystore.Store) []keystore.Record {
	var out []keystore.Record
	for _, s := range stores {
		_ = s.Range(func(r *keystore.Record) bool {
			out = append(out, *r)
			return true
		})
	}
	return out
}

// loadCredentials loads (or generates and caches) the lab credentials in
// cacheDir and says which it did.
func loadCredentials(ctx context.Context, cacheDir string) (creds *lab.Credentials, how string, took time.Duration, err error) {
	start := time.Now()
	if creds, err = lab.Load(ctx, cacheDir, nil); err != nil {
		return nil, "", 0, err
	}
	how = "read from the cache"
	if creds.Generated {
		how = "generated and cached"
	}
	return creds, how, time.Since(start), nil
}
