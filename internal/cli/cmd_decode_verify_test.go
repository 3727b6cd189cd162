package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/capture"
	"github.com/fhkey/fhkey/internal/demo"
	"github.com/fhkey/fhkey/internal/samples"
	"github.com/fhkey/fhkey/internal/testenv"
)

// decodedLine is one packet line of 'fhkey decode --json'.
type decodedLine struct {
	Packet   int
	Error    string
	Protocol string
	IPv6     struct{ Source, Destination string }
	Message  map[string]any
	Verify   *struct {
		CGA        string            `json:"cga"`
		Signature  string            `json:"signature"`
		MHChecksum string            `json:"mh_checksum"`
		BADF       string            `json:"badf"`
		MNHA       string            `json:"mn_ha"`
		Reasons    map[string]string `json:"reasons"`
	}
	Summary *struct{ Packets, Decoded, Skipped, Fragments, Malformed, Invalid int }
}

func parseDecodeJSON(t *testing.T, out string) (lines []decodedLine, sum decodedLine) {
	t.Helper()
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var d decodedLine
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		lines = append(lines, d)
	}
	if len(lines) == 0 || lines[len(lines)-1].Summary == nil {
		t.Fatalf("no summary line last:\n%s", out)
	}
	return lines[:len(lines)-1], lines[len(lines)-1]
}

// TestDecodeDemoVerify decodes the demo's capture with the demo's keys:
// every check passes except the BADF of the forged FBU.
func TestDecodeDemoVerify(t *testing.T) {
	tmp := t.TempDir()
	pcapFile, keys := filepath.Join(tmp, "d.pcap"), filepath.Join(tmp, "keys.json")
	var out, errOut bytes.Buffer
	args := []string{"demo", "--cache-dir", filepath.Join(tmp, "cache"), "--pcap", pcapFile, "--show-keys", keys, "--json"}
	if code := Run(t.Context(), args, nil, &out, &errOut); code != 0 {
		t.Fatalf("demo: exit %d: %s%s", code, out.String(), errOut.String())
	}
	var demoSum demo.Summary
	if err := json.Unmarshal(out.Bytes(), &demoSum); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(keys); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("keys file: %v %v", st, err)
	}
	var entries []map[string]any
	b, _ := os.ReadFile(keys)
	if err := json.Unmarshal(b, &entries); err != nil || len(entries) != 2 {
		t.Fatalf("keys file (%v): %s", err, b)
	}
	for _, e := range entries {
		for _, f := range []string{"ar", "mn", "at", "spi", "key", "expires"} {
			if _, ok := e[f]; !ok {
				t.Errorf("key entry lacks %q: %v", f, e)
			}
		}
	}

	code, stdout, stderr := runDecodeCLI(t, "", "decode", "--verify", "--keys", keys, "--json", pcapFile)
	if code != 1 || !strings.Contains(stderr, "1 failing verification") {
		t.Fatalf("exit %d (want 1: the forged FBU): %s", code, stderr)
	}
	lines, sum := parseDecodeJSON(t, stdout)
	var sends, badfValid, forged int
	for _, l := range lines {
		v := l.Verify
		if v == nil {
			t.Fatalf("packet %d has no verify", l.Packet)
		}
		typ, _ := l.Message["type"].(string)
		isForged := typ == "FastBindingUpdate" && l.IPv6.Source == demoSum.Addresses["attacker"]
		switch {
		case isForged:
			forged++
			if v.BADF != "invalid" || v.Reasons["badf"] == "" || v.MHChecksum != "good" {
				t.Errorf("forged FBU: %+v", v)
			}
			continue
		case v.CGA == "invalid" || v.Signature == "invalid" || v.MHChecksum == "bad" || v.BADF == "invalid" || v.BADF == "no-key" || len(v.Reasons) > 0:
			t.Errorf("packet %d %s: %+v", l.Packet, typ, v)
		}
		if v.Signature == "valid" && v.CGA == "valid" {
			sends++
		}
		if v.BADF == "valid" {
			badfValid++
		}
	}
	// RtSolPr + PrRtAdv with the PAR and with the NAR; FBU, FBack, and
	// the FBack 129 the forged FBU got (authenticated with the real key).
	if sends != 4 || badfValid != 3 || forged != 1 || sum.Summary.Invalid != 1 || sum.Summary.Malformed != 0 || sum.Summary.Skipped != 2 {
		t.Errorf("%d SEND valid, %d BADF valid, %d forged; summary %+v", sends, badfValid, forged, sum.Summary)
	}

	// Text shows the same; without keys the BADFs are "no-key" and all
	// else passes: exit 0.
	code, stdout, _ = runDecodeCLI(t, "", "decode", "--keys", keys, pcapFile)
	if code != 1 || strings.Count(stdout, "badf valid") != 3 || strings.Count(stdout, "badf invalid") != 1 || !strings.Contains(stdout, "authenticator mismatch") {
		t.Errorf("text: exit %d\n%s", code, stdout)
	}
	code, stdout, stderr = runDecodeCLI(t, "", "decode", "--verify", pcapFile)
	if code != 0 || strings.Count(stdout, "badf no-key") != 4 || strings.Contains(stdout, "invalid") {
		t.Errorf("without keys: exit %d %s\n%s", code, stderr, stdout)
	}
}

// TestDecodeCaptureStdin reads a capture from stdin, with '-' and without
// a FILE, as 'tcpdump -w - | fhkey decode -' does.
func TestDecodeCaptureStdin(t *testing.T) {
	files, err := samples.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(files[0].Path)
	_, want, _ := runDecodeCLI(t, "", "decode", files[0].Path)
	for _, args := range [][]string{{"decode", "-"}, {"decode"}} {
		code, got, errOut := runDecodeCLI(t, string(b), args...)
		if code != 0 || got != want {
			t.Errorf("%v: exit %d %s\n%s\nwant\n%s", args, code, errOut, got, want)
		}
	}
	if code, _, _ := runDecodeCLI(t, string(b), "decode", "--proto", "mh"); code != 2 {
		t.Errorf("--proto with a capture on stdin: exit %d, want 2", code)
	}
}

// TestDecodeMalformedInCapture: a malformed packet is reported in place,
// the next ones are decoded, the exit status is 1.
func TestDecodeMalformedInCapture(t *testing.T) {
	files, err := samples.Build()
	if err != nil {
		t.Fatal(err)
	}
	good := files[0].Packets[0].IPv6
	bad := append([]byte(nil), good...)
	bad = append(bad[:len(bad):len(bad)], 1, 2, 0, 0, 0, 0, 0, 0)[:len(bad)+2] // option of length 2, cut
	bad[5] += 2
	path := filepath.Join(t.TempDir(), "m.pcap")
	var buf bytes.Buffer
	w, _ := capture.NewWriter(&buf)
	for _, p := range [][]byte{good, bad, good} {
		_ = w.WritePacket(time.Unix(1_700_000_000, 0), p)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runDecodeCLI(t, "", "decode", "--json", path)
	if code != 1 || !strings.Contains(errOut, "1 malformed") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines, sum := parseDecodeJSON(t, out)
	if len(lines) != 3 || lines[0].Error != "" || lines[1].Error == "" || !strings.Contains(lines[1].Error, "offset") || lines[2].Message == nil {
		t.Errorf("lines %+v", lines)
	}
	if s := sum.Summary; s.Packets != 3 || s.Decoded != 2 || s.Malformed != 1 {
		t.Errorf("summary %+v", s)
	}
	code, out, _ = runDecodeCLI(t, "", "decode", path)
	if code != 1 || strings.Count(out, "malformed: ") != 1 || !strings.Contains(out, "summary: 3 packets: 2 decoded, 0 skipped, 0 fragments, 1 malformed") {
		t.Errorf("text: exit %d\n%s", code, out)
	}
}

// TestDecodeToolPcapng decodes pcapng files written by editcap and tshark
// from a sample pcap: the same packets as the pcap.
func TestDecodeToolPcapng(t *testing.T) {
	files, err := samples.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	in := files[0].Path
	_, want, _ := runDecodeCLI(t, "", "decode", "--verify", in)
	for _, tool := range testenv.PcapngTools {
		t.Run(tool, func(t *testing.T) {
			out := testenv.ToPcapng(t, tool, in)
			code, got, errOut := runDecodeCLI(t, "", "decode", "--verify", out)
			if code != 0 || got != want {
				t.Errorf("exit %d %s\n%s\nwant\n%s", code, errOut, got, want)
			}
		})
	}
}

func TestDecodeVerifyUsage(t *testing.T) {
	dir := t.TempDir()
	badKeys := filepath.Join(dir, "k.json")
	os.WriteFile(badKeys, []byte(`[{"ar": "x"}]`), 0o600)
	files, _ := samples.Write(dir)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"decode", "--verify", "--proto", "mh"}, 2},
		{[]string{"decode", "--keys", filepath.Join(dir, "none.json"), files[0].Path}, 1},
		{[]string{"decode", "--keys", badKeys, files[0].Path}, 1},
	} {
		if code, out, errOut := runDecodeCLI(t, "3b05000000000000", tc.args...); code != tc.code {
			t.Errorf("%v: exit %d, want %d: %s%s", tc.args, code, tc.code, out, errOut)
		}
	}
	code, out, _ := runDecodeCLI(t, "", "decode", "--help")
	for _, w := range []string{"pcapng", "SLL2", "802.1Q", "--verify", "mh_checksum", "no-key", "--show-keys", "Exit status", "magic", "mn_ha", `"msk"`, "--mode msk"} {
		if code != 0 || !strings.Contains(out, w) {
			t.Errorf("--help lacks %q", w)
		}
	}
}
