package cli

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/fhkey/fhkey/internal/demo"
	"github.com/fhkey/fhkey/internal/ha"
	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/scenario"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/internal/testenv"
)

// TestDemoTLSNetnsUsage: root is needed, --in-process and --show-keys are
// usage errors with --netns.
func TestDemoTLSNetnsUsage(t *testing.T) {
	oldUID := geteuid
	defer func() { geteuid = oldUID }()
	geteuid = func() int { return 1000 }
	if code, _, stderr := runCLI("demo", "--mode", "tls", "--netns"); code != 1 || !strings.Contains(stderr, "root") {
		t.Errorf("as non-root: exit %d, stderr %q", code, stderr)
	}
	for _, extra := range [][]string{{"--in-process"}, {"--show-keys", "k"}} {
		if code, _, stderr := runCLI(append([]string{"demo", "--mode", "tls", "--netns"}, extra...)...); code != 2 {
			t.Errorf("%v: exit %d, %s", extra, code, stderr)
		}
	}
}

// TestDemoTLSNetns runs `fhkey demo --mode tls --netns --json` (every
// daemon a process, this test binary as fhkey) and checks the issue's
// outcome booleans; without freeradius (lookPath fails) the EAP step is
// skipped with one line on stderr and the run still succeeds.
func TestDemoTLSNetns(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	testenv.RequireTool(t, "freeradius")
	for _, withEAP := range []bool{true, false} {
		t.Run(fmt.Sprintf("eap=%v", withEAP), func(t *testing.T) {
			prefix := fmt.Sprintf("fhk-nt%d%s-", os.Getpid(), map[bool]string{true: "e", false: "p"}[withEAP])
			t.Cleanup(func() { testbed.Down(context.Background(), prefix) })
			if !withEAP {
				oldLook := lookPath
				defer func() { lookPath = oldLook }()
				lookPath = func(string) (string, error) { return "", exec.ErrNotFound }
			}
			args := []string{"demo", "--mode", "tls", "--netns", "--json", "--prefix", prefix, "--count", "50", "--timeout", "2m"}
			dir := t.TempDir()
			pcapFile, keyLog := filepath.Join(dir, "tls.pcap"), filepath.Join(dir, "keylog.txt")
			if withEAP {
				args = append(args, "--pcap", pcapFile, "--keylog", keyLog)
			}
			code, out, stderr := runCLI(args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
			}
			var raw map[string]any
			var sum demo.TLSNetnsSummary
			if err := json.Unmarshal([]byte(out), &raw); err != nil || json.Unmarshal([]byte(out), &sum) != nil {
				t.Fatalf("--json: %v\n%s", err, out)
			}
			for _, k := range []string{"bootstrapped", "binding_acknowledged", "data_through_ha", "tampered_rejected", "replay_rejected", "reregistered", "ha_restart_kept_binding"} {
				if v, _ := raw["outcome"].(map[string]any)[k].(bool); !v {
					t.Errorf("outcome %s = %v", k, raw["outcome"].(map[string]any)[k])
				}
			}
			// After the HA's SIGKILL at most ha.MinLease of the MN's
			// first packets are refused (docs/ha.md).
			if lost, ok := sum.Metrics["ha_restart_warmup_echoes_lost"]; !ok || lost > ha.MinLease {
				t.Errorf("warm-up echoes lost after the HA's crash: %v (reported %v), want at most %d", lost, ok, ha.MinLease)
			}
			eap := sum.Outcome.EAPBootstrapped
			if !sum.OK || sum.Mode != "tls" || (withEAP && (eap == nil || !*eap)) || (!withEAP && eap != nil) {
				t.Fatalf("summary %+v", sum)
			}
			if skipped := strings.Contains(stderr, "freeradius not found"); skipped == withEAP || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("stderr %q", stderr)
			}
			if !withEAP {
				if _, ok := raw["pcap"]; ok || raw["keylog"] != nil {
					t.Errorf("pcap or keylog without --pcap, --keylog: %s", out)
				}
				return
			}
			if sum.Pcap != pcapFile || sum.KeyLog != keyLog {
				t.Errorf("summary pcap %q keylog %q", sum.Pcap, sum.KeyLog)
			}
			checkTLSNetnsCapture(t, pcapFile, keyLog, sum.PcapFrames)
		})
	}
}

// checkTLSNetnsCapture reads the --pcap file of the testbed TLS demo
// with pcapgo: frames frames in time order, TCP to the HAC's port on its
// address (both bootstraps), UDP to the HA's port on its address (BU, data);
// then tshark decrypts the bootstrap with the MN daemons' key log (the
// RFC 6618 container's mn-id and the PSK and EAP methods in the clear)
// and not without it.
func checkTLSNetnsCapture(t *testing.T, pcapFile, keyLog string, frames int) {
	t.Helper()
	f, err := os.Open(pcapFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if r.LinkType() != layers.LinkTypeEthernet {
		t.Fatalf("link type %v", r.LinkType())
	}
	var n, toHAC, fromHAC, toHA, fromHA int
	var last time.Time
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		if ci.Timestamp.Before(last) {
			t.Errorf("frame %d at %v, before the previous one (%v)", n, ci.Timestamp, last)
		}
		last = ci.Timestamp
		p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		ip, _ := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
		if ip == nil {
			t.Fatalf("frame %d is not IPv6: %v", n, p)
		}
		// TCP only with the HAC's port on its address, UDP with the HA's.
		src, dst := addrOfIP(ip.SrcIP), addrOfIP(ip.DstIP)
		tl := p.TransportLayer()
		if tl == nil || (tl.LayerType() != layers.LayerTypeTCP && tl.LayerType() != layers.LayerTypeUDP) {
			t.Fatalf("frame %d: neither TCP nor UDP: %v", n, p)
		}
		flow := tl.TransportFlow()
		sp, dp := binary.BigEndian.Uint16(flow.Src().Raw()), binary.BigEndian.Uint16(flow.Dst().Raw())
		peer, port, to, from := testbed.AddrHAC, uint16(scenario.TLSHACPort), &toHAC, &fromHAC
		if tl.LayerType() == layers.LayerTypeUDP {
			peer, port, to, from = testbed.AddrHA, scenario.TLSHAPort, &toHA, &fromHA
		}
		switch {
		case dst == peer && dp == port:
			*to++
		case src == peer && sp == port:
			*from++
		default:
			t.Errorf("frame %d: %v [%v]:%d -> [%v]:%d", n, tl.LayerType(), src, sp, dst, dp)
		}
	}
	t.Logf("%d frames: TCP to/from the HAC %d/%d, UDP to/from the HA %d/%d", n, toHAC, fromHAC, toHA, fromHA)
	if n != frames || toHAC < 6 || fromHAC < 4 || toHA < 5 || fromHA < 50 {
		t.Fatalf("%d frames (summary %d): TCP to/from the HAC %d/%d, UDP to/from the HA %d/%d", n, frames, toHAC, fromHAC, toHA, fromHA)
	}

	testenv.RequireTool(t, "tshark")
	if fi, err := os.Stat(keyLog); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key log: %v %v", fi, err)
	}
	tshark := func(args ...string) string {
		t.Helper()
		b, err := exec.Command("tshark", append([]string{"-r", pcapFile, "-d", fmt.Sprintf("tcp.port==%d,tls", scenario.TLSHACPort)}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tshark %v: %v\n%s", args, err, b)
		}
		return string(b)
	}
	plain := tsharkTLSText(tshark, keyLog)
	if !strings.Contains(plain, "mn-id:"+lab.EAPNAI) || !strings.Contains(plain, "mip6-spi:") ||
		!strings.Contains(plain, "auth-method:psk") || !strings.Contains(plain, "auth-method:eap") {
		t.Fatalf("the key log does not decrypt the bootstraps:\n%.3000s", plain)
	}
	if opaque := tsharkTLSText(tshark, ""); strings.Contains(opaque, "mn-id:") {
		t.Fatal("the bootstrap is readable without the key log")
	}
}

func addrOfIP(ip net.IP) netip.Addr { a, _ := netip.AddrFromSlice(ip); return a.Unmap() }
