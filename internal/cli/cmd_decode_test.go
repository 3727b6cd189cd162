package cli

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fhkey/fhkey/internal/samples"
)

func runDecodeCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = Run(context.Background(), args, strings.NewReader(stdin), &o, &e)
	return code, o.String(), e.String()
}

func TestDecodeSamples(t *testing.T) {
	files, err := samples.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// Names of the Go types that must show up, one per message and option
	// type of issue 2.
	want := []string{
		"RouterSolicitation", "RouterAdvertisement", "NeighborSolicitation", "NeighborAdvertisement",
		"CertificationPathSolicitation", "CertificationPathAdvertisement",
		"RouterSolicitationForProxyAdvertisement", "ProxyRouterAdvertisement",
		"SourceLinkLayerAddress", "TargetLinkLayerAddress", "PrefixInformation", "MTU", "CGA", "RSASignature",
		"Timestamp", "Nonce", "TrustAnchor", "Certificate", "IPAddressPrefix", "LinkLayerAddress", "NAACK",
		"HandoverKeyRequest", "HandoverKeyReply", "HandoverAssistInformation", "MobileNodeIdentifier",
		"BindingRefreshRequest", "BindingUpdate", "BindingAcknowledgement", "FastBindingUpdate",
		"FastBindingAcknowledgment", "HandoverInitiate", "HandoverAcknowledge", "HandoverKeyResponse",
		"Pad1", "PadN", "BindingRefreshAdvice", "AlternateCareOfAddress", "NonceIndices",
		"BindingAuthorizationData", "MobilityHeaderLinkLayerAddress", "MobilityMessageAuthentication",
		"MobilityMessageReplayProtection", "BindingAuthorizationDataForFMIPv6", "MobilityHeaderIPv6AddressPrefix",
		"HandoverNonce", "MessageAuthenticationCode",
	}
	var all strings.Builder
	packets := 0
	for _, f := range files {
		code, out, errOut := runDecodeCLI(t, "", "decode", f.Path)
		if code != 0 {
			t.Fatalf("decode %s: exit %d: %s", f.Name, code, errOut)
		}
		if n := strings.Count(out, " good\n"); n != len(f.Packets) {
			t.Errorf("%s: %d good checksums, want %d", f.Name, n, len(f.Packets))
		}
		all.WriteString(out)
		packets += len(f.Packets)
	}
	text := all.String()
	for _, w := range want {
		if !strings.Contains(text, "] "+w+"\n") && !strings.Contains(text, "    "+w+"\n") {
			t.Errorf("decode output lacks %s", w)
		}
	}
	if strings.Contains(text, "BAD") {
		t.Error("a checksum is BAD")
	}
	if got := strings.Count(text, "packet "); got != packets {
		t.Errorf("%d packets printed, want %d", got, packets)
	}
}

func TestDecodeJSON(t *testing.T) {
	files, err := samples.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		code, out, errOut := runDecodeCLI(t, "", "decode", "--json", f.Path)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != len(f.Packets)+1 {
			t.Fatalf("%s: %d lines, want %d and the summary", f.Name, len(lines), len(f.Packets))
		}
		var sum struct {
			Summary struct{ Packets, Decoded, Skipped, Malformed int }
		}
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || sum.Summary.Packets != len(f.Packets) ||
			sum.Summary.Decoded != len(f.Packets) || sum.Summary.Skipped != 0 || sum.Summary.Malformed != 0 {
			t.Errorf("%s: summary %s (%v)", f.Name, lines[len(lines)-1], err)
		}
		lines = lines[:len(lines)-1]
		for i, l := range lines {
			var v struct {
				Packet   int
				Checksum string
				Message  map[string]any
				IPv6     struct{ Source, Destination string }
			}
			if err := json.Unmarshal([]byte(l), &v); err != nil {
				t.Fatalf("line %d: %v", i+1, err)
			}
			p := f.Packets[i].Packet
			if v.Packet != i+1 || !strings.HasSuffix(v.Checksum, "good") || v.Message["type"] == nil ||
				v.IPv6.Source != p.Source.String() || v.IPv6.Destination != p.Destination.String() {
				t.Errorf("%s line %d: %s", f.Name, i+1, l)
			}
		}
	}
}

func TestDecodeHex(t *testing.T) {
	files, err := samples.Build()
	if err != nil {
		t.Fatal(err)
	}
	rs := files[0].Packets[0]
	// The whole packet, with separators and a 0x prefix.
	in := "0x" + hex.EncodeToString(rs.IPv6[:20]) + "\n" + strings.ToUpper(hex.EncodeToString(rs.IPv6[20:]))
	code, out, errOut := runDecodeCLI(t, in, "decode")
	if code != 0 || !strings.Contains(out, "    RouterSolicitation\n") || !strings.Contains(out, "LinkLayerAddress: 00:00:5e:00:53:01") {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	// A bare ICMPv6 message and a bare Mobility Header.
	code, out, _ = runDecodeCLI(t, hex.EncodeToString(rs.Packet.Payload), "decode", "--proto", "icmpv6", "-")
	if code != 0 || !strings.HasPrefix(out, "ICMPv6\n  RouterSolicitation\n") {
		t.Fatalf("--proto icmpv6: exit %d: %s", code, out)
	}
	brr := files[1].Packets[0]
	code, out, _ = runDecodeCLI(t, hex.EncodeToString(brr.Packet.Payload), "decode", "--proto", "mh", "--json")
	if code != 0 || !strings.Contains(out, `"type":"BindingRefreshRequest"`) {
		t.Fatalf("--proto mh: exit %d: %s", code, out)
	}
}

func TestDecodeErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pcap")
	if err := os.WriteFile(garbage, []byte("this is not a capture file at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, stdin string
		args        []string
		code        int
		offset      bool // the error names an offset
	}{
		{"garbage file", "", []string{"decode", garbage}, 1, true},
		{"missing file", "", []string{"decode", filepath.Join(dir, "none.pcap")}, 1, false},
		{"not hex", "60zz", []string{"decode"}, 1, false},
		{"odd hex", "600", []string{"decode"}, 1, false},
		{"empty stdin", "", []string{"decode"}, 1, false},
		{"short IPv6", "6000", []string{"decode"}, 1, false},
		{"IPv4", strings.Repeat("45", 40), []string{"decode"}, 1, true},
		{"truncated ICMPv6 option", "85000000000000000101", []string{"decode", "--proto", "icmpv6"}, 1, true},
		{"bad MH length", "3b05000000000000", []string{"decode", "--proto", "mh"}, 1, false},
		{"bad proto flag", "", []string{"decode", "--proto", "udp"}, 2, false},
		{"two files", "", []string{"decode", "a", "b"}, 2, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runDecodeCLI(t, tc.stdin, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d (%s%s)", code, tc.code, out, errOut)
			}
			if strings.Count(errOut, "\n") != 1 {
				t.Errorf("error is not one line: %q", errOut)
			}
			if tc.offset && !strings.Contains(errOut, "offset") {
				t.Errorf("error names no offset: %q", errOut)
			}
		})
	}
}

func TestSamplesCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	code, out, errOut := runDecodeCLI(t, "", "samples", "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	if len(files) != 3 || strings.Count(out, "\n") != 3 {
		t.Fatalf("files %v, output %q", files, out)
	}
	for _, f := range files {
		if !strings.Contains(out, f) {
			t.Errorf("output does not list %s", f)
		}
	}
	if code, _, _ := runDecodeCLI(t, "", "samples"); code != 2 {
		t.Errorf("samples without --out: exit %d, want 2", code)
	}
	for _, c := range []string{"samples", "decode"} {
		code, out, _ := runDecodeCLI(t, "", c, "--help")
		if code != 0 || !strings.Contains(out, "Usage: fhkey "+c) {
			t.Errorf("%s --help: exit %d: %s", c, code, out)
		}
	}
}
