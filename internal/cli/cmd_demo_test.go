package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fhkey/fhkey/internal/capture"
	"github.com/fhkey/fhkey/internal/demo"
	"github.com/fhkey/fhkey/internal/testenv"
	"github.com/fhkey/fhkey/mh"
	"github.com/fhkey/fhkey/ndp"
)

func TestDemo(t *testing.T) {
	tmp := t.TempDir()
	pcapFile := filepath.Join(tmp, "d.pcap")
	cache := filepath.Join(tmp, "cache")
	args := []string{"demo", "--cache-dir", cache, "--pcap", pcapFile, "--json"}
	var out, errOut bytes.Buffer
	if code := Run(context.Background(), args, nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out.String(), errOut.String())
	}
	var sum demo.Summary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out.String())
	}
	if !sum.OK || !sum.Outcome.KeyProvisioned || !sum.Outcome.GenuineFBUAccepted || !sum.Outcome.ForgedFBURejected || !sum.Outcome.BindingUnchanged {
		t.Errorf("outcome %+v", sum)
	}
	wantSteps := []string{"credentials", "CGA", "HKEPK", "RtSolPr", "SEND verify", "key", "CPS/CPA", "MN stores", "handover", "FBU", "PAR verifies", "FBack", "forwarding", "forged FBU", "NAR key"}
	if len(sum.Steps) != len(wantSteps) {
		t.Fatalf("%d steps, want %d: %+v", len(sum.Steps), len(wantSteps), sum.Steps)
	}
	for i, s := range sum.Steps {
		if s.Step != wantSteps[i] || !s.OK || s.DurationMS < 0 {
			t.Errorf("step %d: %+v, want %q ok", i, s, wantSteps[i])
		}
	}
	if fi, err := os.Stat(cache); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("cache directory: %v %v", fi, err)
	}

	// The capture: complete IPv6 packets with correct checksums holding
	// RtSolPr, PrRtAdv, FBU (with a Home Address option) and FBack.
	seen := map[string]int{}
	n := 0
	for _, rec := range pcapFrames(t, pcapFile) {
		n++
		p, err := capture.Parse(rec.Data)
		if err != nil {
			t.Fatalf("packet %d: %v", n, err)
		}
		if p.Protocol == 41 { // the tunnel: check the packet inside
			seen["tunnel"]++
			if p, err = capture.Parse(p.Payload); err != nil {
				t.Fatalf("packet %d: inner packet: %v", n, err)
			}
		}
		if err := p.VerifyChecksum(); err != nil {
			t.Errorf("packet %d: %v", n, err)
		}
		switch p.Protocol {
		case 58:
			m, err := ndp.ParseMessage(p.Payload)
			if err != nil {
				t.Fatalf("packet %d: %v", n, err)
			}
			seen[m.Name()]++
		case 135:
			m, err := mh.ParseMessage(p.Payload)
			if err != nil {
				t.Fatalf("packet %d: %v", n, err)
			}
			switch m.(type) {
			case mh.FastBindingUpdate:
				seen["FBU"]++
				if _, ok := p.HomeAddress(); ok {
					seen["FBU with HAO"]++
				}
			case mh.FastBindingAcknowledgment:
				seen["FBack"]++
			}
		}
	}
	if n != sum.Packets {
		t.Errorf("pcap holds %d packets, summary says %d", n, sum.Packets)
	}
	var rtsolpr, prrtadv string
	for k := range seen {
		if strings.Contains(k, "Solicitation for Proxy") {
			rtsolpr = k
		}
		if strings.Contains(k, "Proxy Router Advertisement") {
			prrtadv = k
		}
	}
	if seen[rtsolpr] != 2 || seen[prrtadv] != 2 || seen["FBU"] != 2 || seen["FBU with HAO"] != 2 || seen["FBack"] != 2 || seen["tunnel"] != 1 {
		t.Errorf("packets seen: %v", seen)
	}

	// Second run: the credentials come from the cache.
	out.Reset()
	if code := Run(context.Background(), args, nil, &out, &errOut); code != 0 {
		t.Fatalf("second run exit %d: %s", code, errOut.String())
	}
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil || !strings.Contains(sum.Steps[0].Description, "read from the cache") {
		t.Errorf("second run did not use the cache: %v %q", err, sum.Steps[0].Description)
	}

	t.Run("tshark", func(t *testing.T) {
		testenv.RequireTool(t, "tshark")
		cmd := exec.Command("tshark", "-r", pcapFile, "-V")
		cmd.Env = append(os.Environ(), "HOME="+tmp)
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("tshark: %v\n%s", err, b)
		}
		text := string(b)
		if strings.Contains(text, "Malformed Packet") {
			t.Errorf("tshark reports a malformed packet:\n%s", text)
		}
		// The only expert item allowed is the known tshark 4.0 fault
		// "hk-padding" (internal/interop): the Handover Key Request/Reply
		// dissector advances 1 octet instead of Pad Length.
		for _, l := range strings.Split(text, "\n") {
			if strings.Contains(l, "[Expert Info") && !strings.Contains(l, "Unknown Data (not interpreted)") {
				t.Errorf("tshark expert info: %s", strings.TrimSpace(l))
			}
		}
		for _, want := range []string{"Router Solicitation for Proxy Advertisement", "Proxy Router Advertisement", "Fast Binding Update", "Fast Binding Acknowledgment", "Home Address"} {
			if !strings.Contains(text, want) {
				t.Errorf("tshark output lacks %q", want)
			}
		}
	})
}

func TestDemoFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Run(context.Background(), []string{"demo", "--help"}, nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "-pcap") ||
		!strings.Contains(out.String(), "-json") || !strings.Contains(out.String(), "-cache-dir") {
		t.Errorf("--help: exit %d\n%s", code, out.String())
	}
	for _, args := range [][]string{{"demo", "--at", "7"}, {"demo", "extra"}} {
		if code := Run(context.Background(), args, nil, &out, &errOut); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	// Failures to run exit 1.
	tmp := t.TempDir()
	notDir := filepath.Join(tmp, "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"demo", "--cache-dir", filepath.Join(tmp, "c"), "--pcap", filepath.Join(notDir, "x.pcap")},
		{"demo", "--cache-dir", notDir, "--pcap", ""},
	} {
		if code := Run(context.Background(), args, nil, &out, &errOut); code != 1 {
			t.Errorf("%v: exit %d, want 1", args, code)
		}
	}
}
