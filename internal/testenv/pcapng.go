package testenv

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// PcapngTools are the Wireshark tools ToPcapng can rewrite a pcap with.
var PcapngTools = []string{"editcap", "tshark"}

// ToPcapng rewrites the pcap file in as pcapng with tool ("editcap -F
// pcapng", or "tshark -w", whose default output format is pcapng) and
// returns the new file's path. A missing tool stops t as RequireTool does.
func ToPcapng(t testing.TB, tool, in string) string {
	t.Helper()
	bin := RequireTool(t, tool)
	out := filepath.Join(t.TempDir(), tool+".pcapng")
	args := []string{"-F", "pcapng", in, out}
	if tool == "tshark" {
		args = []string{"-r", in, "-w", out}
	}
	if b, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v: %s", tool, args, err, b)
	}
	return out
}
