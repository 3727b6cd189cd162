package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/capture"
	"github.com/fhkey/fhkey/internal/decode"
	"github.com/fhkey/fhkey/internal/demo"
	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/keystore"
)

const demoDescription = `Run the RFC 5269 handover-key walk-through in one process: no root, no
network, nothing to configure. A mobile node (MN), its previous access
router (PAR) and the new access router (NAR) talk over an in-memory IPv6
network:

  1. credentials: a lab trust anchor, router certificates (RFC 3971 §6, RFC
     6494) and CGAs (RFC 3972), generated on the first run and cached
  2. the MN makes its handover key encryption key pair (RFC 5269 §3.1)
  3. RtSolPr with Handover Key Request, signed with SEND, MN -> PAR
  4. the PAR validates it with SEND, creates and encrypts a handover key
     and answers with a signed PrRtAdv carrying the Handover Key Reply
  5. the MN checks the PAR's certified key and the nonce, decrypts and
     stores the key
  6. the MN moves to the NAR's link and sends a Fast Binding Update to the
     PAR with a Home Address option and the BADF authenticator (RFC 5568)
  7. the PAR verifies it and binds the previous to the new care-of address;
     the MN verifies the Fast Binding Acknowledgment
  8. an attacker forges an FBU for the MN's address with a guessed key:
     the PAR rejects it and the binding does not change

Every packet is written to a pcap file (complete IPv6 packets; open it with
Wireshark or 'tshark -r demo.pcap'). The exit status is 0 only if the key
was provisioned, the genuine FBU accepted and the forged one rejected.

With --netns (root) the same flow runs on raw sockets in network
namespaces (docs/testbed.md): the fhkey ar daemons on the PAR and the NAR
and the fhkey mn daemon on the MN run as processes ('ip netns exec ...
fhkey ar -c FILE', this executable, configured as 'fhkey testbed configs'
does); the MN daemon provisions its key, the MN is moved, the daemon sends
the FBU, a stream from a correspondent node to the previous care-of
address reaches the MN through the PAR's tunnel, and a forged FBU from an
attacker namespace diverts nothing. --in-process runs the roles inside
this process instead, with the timing of every cryptographic step.

With --mode aaa the shared-key walk-through of draft-vidya-mipshop-
handover-keys-aaa-04 runs instead (docs/aaa.md, "The demo"), in one
process, no root: a Handover Key Server (subscriber mn@example.com, a
Handover Master Key drawn for the run, a memory store) behind a RADIUS
server on a loopback UDP socket; the PAR relays the MN's Handover Key
Request (MN-HKS MAC) in a RADIUS Access-Request, the HKS verifies it and
derives the handover key, the Access-Accept carries it salt-encrypted, the
PAR answers the MN with a Handover Key Response (MN-AR MAC), the MN derives
and verifies the same key, moves, and its FBU (BADF with the key's SPI) is
accepted; a forged FBU and a Handover Key Request with a guessed master
key are rejected. The pcap file holds the RADIUS datagrams too (IPv4/UDP
on 127.0.0.1; tshark -d udp.port==PORT,radius decodes them). The exit
status is 0 only if the key was provisioned, the FBU accepted and both
forgeries rejected; --json reports key_provisioned, fbu_accepted and
forged_rejected.

With --mode aaa --netns (root, and the freeradius binary) the shared-key
walk-through runs on the testbed with every daemon a process: fhkey hks
(a bbolt subscriber store holding mn@example.com and an HMK drawn for the
run) and FreeRADIUS as its realm proxy on the PAR namespace's loopback,
an AAA-only fhkey ar on the PAR and fhkey mn in the shared-key mode on the
MN. The MN daemon's key shows in its /status, the MN moves, its FBU is
accepted, the CN's stream follows it through the PAR's tunnel, a forged
FBU from the attacker namespace is refused, an HKReq with a guessed HMK is
discarded by the HKS, and SIGTERM stops every daemon with status 0. The
MAC and PRF are HMAC-SHA256 (--at does not apply); --json reports
key_provisioned, fbu_accepted, forged_rejected and stream_redirected.

With --mode msk (root, and the freeradius binary; always on the testbed)
the FBU is authenticated with a key derived from the EAP MSK
(draft-li-mipshop-fbu-sec-00, docs/msk.md), every daemon a process:
FreeRADIUS as EAP-TLS server in the PAR's namespace (a PKI drawn for the
run), fhkey ar with [eap] on the PAR and the NAR (802.1X authenticators),
fhkey mn with [eap] (the supplicant). The MN authenticates over EAPOL, the
PAR keeps its MSK, the MN moves and authenticates at the NAR, its FBU
(MN-NAI and RFC 4285 MN-HA options, AT 1) is accepted by the PAR, the CN's
stream follows it, and FBUs from the attacker with a guessed MSK or an
unknown NAI are refused. --pcap FILE writes the EAPOL, RADIUS and Mobility
Header frames (Ethernet); --show-keys FILE the MSK, NAI, PAR address and
AT (lab keys) to check the FBU by hand. --json reports key_provisioned,
fbu_accepted, forged_rejected and stream_redirected; with --show-keys it
also carries msk, nai, par and at (the file's values) at its top level.

With --mode tls the RFC 6618 walk-through runs in process, no root
(docs/tls.md, "The demo"): a Home Agent Controller node on loopback TCP
(TLS 1.3, a lab certificate, subscriber mn@example.com with a PSK) and a
home agent node on loopback UDP with an in-memory home link; the mobile
node bootstraps its SA by the PSK method (auth values bound to the HAC's
certificate), the HAC provisions the HA over the mutual-TLS channel, the
MN's protected Binding Update (PType 8) is acknowledged, a packet from the
home address reaches the home link through the HA and the answer comes
back, and a tampered and a replayed packet are dropped by the HA. --pcap
FILE holds the TLS stream (TCP segments) and the UDP packets on ::1;
--keylog FILE the MN's TLS secrets (tshark -o tls.keylog_file:FILE -d
tcp.port==PORT,tls decrypts the stream); --show-keys FILE the SA ("sa":
spi, ciphersuite, port, mn, ha and the four keys). --json reports
bootstrapped, binding_acknowledged, data_through_ha, tampered_rejected and
replay_rejected; with --show-keys it also carries the file's "sa" object.

With --mode tls --netns (root) the same story runs on the testbed with its
home network (docs/testbed.md), every daemon a process in its own
namespace: FreeRADIUS (EAP-TLS) in aaa, fhkey hac in hac, fhkey ha in ha
(TUN fhkha0 for the home prefix 2001:db8:8::/64), fhkey mip6 in mn. The MN
bootstraps with the PSK, registers, the CN's --count datagrams to the home
address reach the MN daemon through the HA, the MN moves and re-registers,
the attacker re-sends a captured datagram of the MN tampered and unchanged
(the HA counts icv and replayed), the HA is SIGKILLed and restarted on its
state file and keeps the binding, and the MN restarted with EAP-TLS
bootstraps through FreeRADIUS (skipped, said on stderr, when freeradius is
not installed). --json adds reregistered, ha_restart_kept_binding and
eap_bootstrapped. --pcap FILE writes the frames of the MN's TLS connections
to the HAC and of the UDP data plane at the HA (AF_PACKET on the HAC's and
the HA's core0, Ethernet, in time order); --keylog FILE is given to each
fhkey mip6 (tshark -r FILE -o tls.keylog_file:KEYS -d tcp.port==7872,tls
decrypts the bootstrap).`

func runDemo(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "demo", "[flags]", demoDescription)
	pcapFile := fs.String("pcap", "demo.pcap", `write every packet to this pcap file ("" disables)`)
	jsonOut := fs.Bool("json", false, "print a machine-readable summary (steps, durations, outcome) instead of the walk-through")
	cacheDir := fs.String("cache-dir", "", "credentials cache directory (default: the user cache directory + /fhkey/demo)")
	atFlag := fs.Uint("at", uint(hokey.HMACSHA256Trunc128), "algorithm type the MN requests: 0 HMAC-SHA1-96, 1 HMAC-SHA256-128")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	netns := fs.Bool("netns", false, "run on raw sockets in network namespaces (root): testbed, CN stream redirected by the FBU, attacker (--pcap with --mode msk and tls only)")
	prefix := fs.String("prefix", demo.DefaultNetnsPrefix, "--netns: testbed namespace prefix")
	keep := fs.Bool("keep", false, "--netns: leave the testbed up at the end")
	count := fs.Int("count", 200, "--netns: datagrams per CN stream")
	spacing := fs.Duration("spacing", time.Millisecond, "--netns: interval between the CN's datagrams")
	showKeys := fs.String("show-keys", "", "write the lab keys to this file (JSON, mode 0600; send/aaa: the routers' handover keys, msk: msk, nai, par, at, for 'fhkey decode --verify --keys FILE'; tls: the \"sa\"); with --json the summary carries the msk/tls keys too")
	inProcess := fs.Bool("in-process", false, "--netns: run the roles in this process (per-step crypto timings) instead of the fhkey ar / fhkey mn daemons as processes")
	mode := fs.String("mode", "send", "send: RFC 5269 handover keys over SEND; aaa: shared keys from a Handover Key Server over RADIUS (draft-vidya-mipshop-handover-keys-aaa-04); msk: FBU keys from the EAP MSK, 802.1X to FreeRADIUS (draft-li-mipshop-fbu-sec-00; root, testbed); tls: RFC 6618 TLS bootstrap, HAC→HA channel, protected BU/BA and data over UDP (in process, no root; with --netns the daemons on the testbed, root)")
	keyLog := fs.String("keylog", "", "--mode tls: append the MN's TLS secrets to this file (SSLKEYLOGFILE, mode 0600; with --netns the fhkey mip6 daemons write it) so that tshark decrypts the TLS stream of --pcap")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: no arguments are accepted", errUsage)
	}
	switch *mode {
	case "send":
	case "tls":
		if *inProcess {
			return fmt.Errorf("%w: --mode tls runs in process without --netns, or as daemons with --netns (no --in-process)", errUsage)
		}
	case "aaa", "msk":
		if *inProcess {
			return fmt.Errorf("%w: --mode %s --netns runs the daemons as processes only (no --in-process)", errUsage, *mode)
		}
	default:
		return fmt.Errorf("%w: --mode %q: send, aaa, msk or tls", errUsage, *mode)
	}
	if *keyLog != "" && *mode != "tls" {
		return fmt.Errorf("%w: --keylog is for --mode tls (the only mode with a TLS connection of its own)", errUsage)
	}
	at := hokey.AlgorithmType(*atFlag)
	if *atFlag > 15 || !at.Valid() {
		return fmt.Errorf("%w: --at %d: supported are 0 and 1", errUsage, *atFlag)
	}
	if *inProcess && !*netns {
		return fmt.Errorf("%w: --in-process needs --netns", errUsage)
	}
	if *cacheDir == "" {
		dir, err := lab.DefaultDir()
		if err != nil {
			return err
		}
		*cacheDir = dir
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	pcapSet := false
	fs.Visit(func(f *flag.Flag) { pcapSet = pcapSet || f.Name == "pcap" })
	if *mode == "tls" && *netns {
		if *showKeys != "" {
			return fmt.Errorf("%w: --show-keys is for --mode tls in process (with --netns the SA lives in the daemons; --keylog FILE decrypts the bootstrap)", errUsage)
		}
		var files demo.TLSNetnsFiles
		if pcapSet {
			files.Pcap = *pcapFile
		}
		if *keyLog != "" {
			abs, err := filepath.Abs(*keyLog) // the daemons run elsewhere
			if err != nil {
				return err
			}
			files.KeyLog = abs
		}
		return runDemoTLSNetns(ctx, env, *jsonOut, demo.NetnsOptions{Prefix: *prefix, Keep: *keep, Count: *count, Daemons: true}, files)
	}
	if *mode == "tls" {
		return runDemoTLS(ctx, env, *jsonOut, *pcapFile, *keyLog, *showKeys)
	}
	if *mode == "msk" {
		if *count < 1 || *spacing < 0 {
			return fmt.Errorf("%w: --count must be positive and --spacing not negative", errUsage)
		}
		files := demo.MSKNetnsFiles{Keys: *showKeys}
		if pcapSet {
			files.Pcap = *pcapFile
		}
		return runDemoMSKNetns(ctx, env, *jsonOut, demo.NetnsOptions{CacheDir: *cacheDir, AT: at, Prefix: *prefix, Keep: *keep,
			Count: *count, Spacing: *spacing, Daemons: true}, files)
	}
	if *netns {
		if pcapSet && *pcapFile != "" {
			return fmt.Errorf("%w: --pcap is not supported with --netns (capture inside a namespace: ip netns exec %spar tcpdump -i any)", errUsage, *prefix)
		}
		if *showKeys != "" {
			return fmt.Errorf("%w: --show-keys is not supported with --netns (the keys live in the daemons)", errUsage)
		}
		if *count < 1 || *spacing < 0 {
			return fmt.Errorf("%w: --count must be positive and --spacing not negative", errUsage)
		}
		o := demo.NetnsOptions{CacheDir: *cacheDir, AT: at, Prefix: *prefix, Keep: *keep, Count: *count, Spacing: *spacing, Daemons: !*inProcess}
		if *mode == "aaa" {
			return runDemoAAANetns(ctx, env, *jsonOut, o)
		}
		return runDemoNetns(ctx, env, *jsonOut, o)
	}
	var out io.Writer = env.Stdout
	if *jsonOut {
		out = nil
	}
	pcapOut, pcapW, err := createDemoPcap(*pcapFile)
	if err != nil {
		return err
	}
	d := demo.New(out, pcapW)
	run := d.Run
	if *mode == "aaa" {
		run = d.RunAAA
	}
	runErr := run(ctx, *cacheDir, at)
	if *showKeys != "" && runErr == nil {
		runErr = writeDemoKeys(*showKeys, d.Keys())
	}
	var closeErr error
	if pcapOut != nil {
		closeErr = pcapOut.Close()
	}
	yes := map[bool]string{true: "yes", false: "NO"}
	var sum any
	var ok bool
	var errText, outcome, hint string
	if *mode == "aaa" {
		s := d.FinishAAA(runErr, *pcapFile, closeErr)
		o := s.Outcome
		sum, ok, errText = &s, s.OK, s.Error
		outcome = fmt.Sprintf("key provisioned: %s   FBU accepted: %s   forged FBU and HKReq rejected: %s",
			yes[o.KeyProvisioned], yes[o.FBUAccepted], yes[o.ForgedRejected])
		if hks, err := netip.ParseAddrPort(s.Addresses["HKS"]); err == nil {
			hint = fmt.Sprintf("%d packets (%d RADIUS) written to %s (tshark -r %s -d udp.port==%d,radius -V)",
				s.Packets, s.RADIUSPackets, *pcapFile, *pcapFile, hks.Port())
		}
	} else {
		s := d.Finish(runErr, *pcapFile, closeErr)
		o := s.Outcome
		sum, ok, errText = &s, s.OK, s.Error
		outcome = fmt.Sprintf("key provisioned: %s   genuine FBU accepted: %s   forged FBU rejected: %s",
			yes[o.KeyProvisioned], yes[o.GenuineFBUAccepted], yes[o.ForgedFBURejected])
		hint = fmt.Sprintf("%d packets written to %s (tshark -r %s -V)", s.Packets, *pcapFile, *pcapFile)
	}
	if *jsonOut {
		if err := printDemoJSON(env, sum); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(env.Stdout, "\n%s\n", outcome)
		if *pcapFile != "" && ok && hint != "" {
			fmt.Fprintln(env.Stdout, hint)
		}
	}
	if !ok {
		return &exitError{code: 1, err: errors.New(errText)}
	}
	return nil
}

// writeDemoKeys writes the keys file of 'fhkey decode --keys' (mode 0600)
// and wipes the copies.
func writeDemoKeys(name string, recs []keystore.Record) error {
	b, err := decode.MarshalKeys(recs)
	for i := range recs {
		recs[i].Zero()
	}
	if err != nil {
		return err
	}
	defer clear(b)
	return writePrivateFile(name, b, true)
}

// createDemoPcap creates the pcap file of an in-process demo and its
// writer; nothing for "".
func createDemoPcap(name string) (*os.File, *capture.Writer, error) {
	if name == "" {
		return nil, nil, nil
	}
	f, err := os.Create(name)
	if err != nil {
		return nil, nil, err
	}
	w, err := capture.NewWriter(f)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, w, nil
}

// printDemoJSON prints a demo's --json summary, indented, on stdout.
func printDemoJSON(env *Env, sum any) error {
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(sum)
}
