package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fhkey/fhkey/internal/capture"
	"github.com/fhkey/fhkey/internal/demo"
	"github.com/fhkey/fhkey/internal/pcapread"
	"github.com/fhkey/fhkey/internal/testenv"
	"github.com/fhkey/fhkey/mh"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// TestDemoAAA runs the shared-key walk-through as any user would (no root):
// the three outcome booleans, the forged HKReq discarded by the HKS, and
// the capture with the Mobility Header and the RADIUS packets in order,
// checked by our reader, by gopacket, by tshark and by fhkey decode.
func TestDemoAAA(t *testing.T) {
	tmp := t.TempDir()
	pcapFile, keysFile := filepath.Join(tmp, "aaa.pcap"), filepath.Join(tmp, "keys.json")
	args := []string{"demo", "--mode", "aaa", "--cache-dir", filepath.Join(tmp, "cache"), "--pcap", pcapFile, "--json", "--show-keys", keysFile}
	var out, errOut bytes.Buffer
	if code := Run(context.Background(), args, nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out.String(), errOut.String())
	}
	// The outcome names of issue 11, as JSON booleans.
	var raw struct {
		Outcome map[string]any `json:"outcome"`
	}
	if err := json.Unmarshal(out.Bytes(), &raw); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out.String())
	}
	for _, k := range []string{"key_provisioned", "fbu_accepted", "forged_rejected"} {
		if v, ok := raw.Outcome[k].(bool); !ok || !v {
			t.Errorf("outcome %s = %v, want true", k, raw.Outcome[k])
		}
	}
	var sum demo.AAASummary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatal(err)
	}
	if !sum.OK || sum.Mode != "aaa" || !sum.Outcome.ForgedFBURejected || !sum.Outcome.ForgedHKReqDropped {
		t.Errorf("summary %+v", sum)
	}
	wantSteps := []string{"credentials", "HKS", "HKReq", "Access-Request", "HKS", "Access-Accept", "HKResp", "MN key",
		"handover", "FBU", "PAR verifies", "FBack", "forwarding", "forged FBU", "forged HKReq"}
	if len(sum.Steps) != len(wantSteps) {
		t.Fatalf("%d steps, want %d: %+v", len(sum.Steps), len(wantSteps), sum.Steps)
	}
	for i, s := range sum.Steps {
		if s.Step != wantSteps[i] || !s.OK || s.DurationMS < 0 {
			t.Errorf("step %d: %+v, want %q ok", i, s, wantSteps[i])
		}
	}
	// The forged HKReq: discarded by the HKS (bad MN-HKS MAC), an
	// Access-Reject without attributes, nothing answered or stored.
	c := sum.Counters
	for k, want := range map[string]uint64{"hks_requests": 2, "hks_accepted": 1, "hks_bad_mac": 1, "radius_accepts": 1, "radius_discards": 1,
		"par_hks_discarded": 1, "par_hkresp_sent": 1, "par_keys_stored": 1, "par_fbu_accepted": 1, "par_fbu_bad_auth": 1} {
		if got, ok := c[k]; !ok || got != want {
			t.Errorf("counter %s = %d (present %v), want %d", k, got, ok, want)
		}
	}
	if d := sum.Steps[len(sum.Steps)-1].Description; !strings.Contains(d, "0 packets to the attacker") {
		t.Errorf("forged HKReq step: %q", d)
	}
	hks, err := netip.ParseAddrPort(sum.Addresses["HKS"])
	if err != nil || !hks.Addr().IsLoopback() {
		t.Fatalf("HKS address %q: %v", sum.Addresses["HKS"], err)
	}

	kinds := readAAACapture(t, pcapFile, hks)
	want := []string{"HKReq", "Access-Request", "Access-Accept", "HKResp", "FBU", "FBack", "other", "other", "FBU", "FBack",
		"HKReq", "Access-Request", "Access-Reject"}
	if strings.Join(kinds, " ") != strings.Join(want, " ") || sum.Packets != len(want) || sum.RADIUSPackets != 4 {
		t.Errorf("capture holds %v (summary: %d packets, %d RADIUS), want %v", kinds, sum.Packets, sum.RADIUSPackets, want)
	}

	t.Run("tshark", func(t *testing.T) {
		testenv.RequireTool(t, "tshark")
		cmd := exec.Command("tshark", "-r", pcapFile, "-V", "-d", fmt.Sprintf("udp.port==%d,radius", hks.Port()),
			"-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE")
		cmd.Env = append(os.Environ(), "HOME="+tmp)
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("tshark: %v\n%s", err, b)
		}
		text := string(b)
		for _, bad := range []string{"Malformed Packet", "incorrect", "[Checksum Status: Bad]"} {
			if strings.Contains(text, bad) {
				t.Errorf("tshark reports %q:\n%s", bad, text)
			}
		}
		for _, want := range []string{"Code: Access-Request (1)", "Code: Access-Accept (2)", "Code: Access-Reject (3)", "Message-Authenticator",
			"User-Name: mn@example.com", "Fast Binding Update", "Fast Binding Acknowledgment", "Mobility Header Type: Unknown (250)", "Mobility Header Type: Unknown (251)"} {
			if !strings.Contains(text, want) {
				t.Errorf("tshark output lacks %q", want)
			}
		}
		if n := strings.Count(text, "[Checksum Status: Good]"); n < 4 {
			t.Errorf("tshark verified %d UDP checksums, want at least 4", n)
		}
	})

	t.Run("decode", func(t *testing.T) {
		code, stdout, stderr := runDecodeCLI(t, "", "decode", "--verify", pcapFile)
		if code != 0 || !strings.Contains(stdout, "4 not IPv6") || !strings.Contains(stdout, "0 failing verification") ||
			strings.Contains(stdout, "mh_checksum bad") {
			t.Errorf("decode --verify: exit %d\n%s\n%s", code, stdout, stderr)
		}
		// With the PAR's keys: the FBU and its FBack verify with the HK
		// (BADF SPI = the key's), the forged FBU does not.
		code, stdout, stderr = runDecodeCLI(t, "", "decode", "--verify", "--keys", keysFile, pcapFile)
		if code != 1 || strings.Count(stdout, "badf valid") < 2 || strings.Count(stdout, "badf invalid") != 1 || !strings.Contains(stdout, "1 failing verification") {
			t.Errorf("decode --verify --keys: exit %d\n%s\n%s", code, stdout, stderr)
		}
	})
}

// readAAACapture returns the kind of every packet of the capture, in
// order: the Mobility Header messages by name, the RADIUS packets to and
// from hks by code, "other" for the rest. It checks the timestamps never
// go back, the MH checksums and, with gopacket, the IPv4/UDP framing.
func readAAACapture(t *testing.T, name string, hks netip.AddrPort) []string {
	t.Helper()
	var kinds []string
	var last pcapread.Frame
	for i, rec := range pcapFrames(t, name) {
		n := i + 1
		if rec.Time.Before(last.Time) {
			t.Errorf("packet %d at %v, before the previous one (%v)", n, rec.Time, last.Time)
		}
		last = rec
		if len(rec.Data) > 0 && rec.Data[0]>>4 == 4 {
			kinds = append(kinds, radiusKind(t, n, rec.Data, hks))
			continue
		}
		p, err := capture.Parse(rec.Data)
		if err != nil {
			t.Fatalf("packet %d: %v", n, err)
		}
		kind := "other"
		if p.Protocol == 135 {
			if err := p.VerifyChecksum(); err != nil {
				t.Errorf("packet %d: %v", n, err)
			}
			m, err := mh.ParseMessage(p.Payload)
			if err != nil {
				t.Fatalf("packet %d: %v", n, err)
			}
			switch m.(type) {
			case mh.HandoverKeyRequest:
				kind = "HKReq"
			case mh.HandoverKeyResponse:
				kind = "HKResp"
			case mh.FastBindingUpdate:
				kind = "FBU"
			case mh.FastBindingAcknowledgment:
				kind = "FBack"
			}
		}
		kinds = append(kinds, kind)
	}
	return kinds
}

// pcapFrames returns the records of a capture file.
func pcapFrames(t *testing.T, name string) []pcapread.Frame {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapread.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var frames []pcapread.Frame
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return frames
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, rec)
	}
}

// radiusKind decodes an IPv4/UDP packet with gopacket and names the RADIUS
// code of a datagram to or from hks.
func radiusKind(t *testing.T, n int, b []byte, hks netip.AddrPort) string {
	t.Helper()
	pkt := gopacket.NewPacket(b, layers.LayerTypeIPv4, gopacket.Default)
	ip, _ := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	udp, _ := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
	if ip == nil || udp == nil || pkt.ErrorLayer() != nil {
		t.Fatalf("packet %d: not IPv4/UDP: %v", n, pkt)
	}
	if !ip.SrcIP.IsLoopback() || !ip.DstIP.IsLoopback() || int(ip.Length) != len(b) || (int(udp.SrcPort) != int(hks.Port()) && int(udp.DstPort) != int(hks.Port())) {
		t.Errorf("packet %d: %v:%d -> %v:%d, length %d of %d", n, ip.SrcIP, udp.SrcPort, ip.DstIP, udp.DstPort, ip.Length, len(b))
	}
	if len(udp.Payload) == 0 {
		t.Fatalf("packet %d: empty UDP payload", n)
	}
	switch udp.Payload[0] {
	case 1:
		return "Access-Request"
	case 2:
		return "Access-Accept"
	case 3:
		return "Access-Reject"
	}
	return fmt.Sprintf("RADIUS code %d", udp.Payload[0])
}

func TestDemoAAAFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Run(context.Background(), []string{"demo", "--help"}, nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "-mode") ||
		!strings.Contains(out.String(), "--mode aaa") {
		t.Errorf("--help: exit %d\n%s", code, out.String())
	}
	for _, args := range [][]string{
		{"demo", "--mode", "bogus"},
		{"demo", "--mode", "aaa", "--in-process"},
		{"demo", "--mode", "aaa", "--netns", "--in-process"},
	} {
		errOut.Reset()
		if code := Run(context.Background(), args, nil, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "--mode") {
			t.Errorf("%v: exit %d, want 2: %s", args, code, errOut.String())
		}
	}
}
