package cli

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/fhkey/fhkey/internal/demo"
	"github.com/fhkey/fhkey/internal/testenv"
)

// TestDemoTLS runs `fhkey demo --mode tls --json --pcap F --keylog K
// --show-keys S` in process: every outcome reached, the HA's counters, the
// show-keys "sa" object (in the file and, the same, in the summary; not in
// the summary of a run without --show-keys), and the pcap read back by our reader and by
// tshark — the TLS stream reassembled, decrypted with the key log (the
// RFC 6618 container's mn-id and the SA's mip6-spi in the clear), opaque
// without it, and the UDP datagrams on the HA's port.
func TestDemoTLS(t *testing.T) {
	dir := t.TempDir()
	pcapFile, keyLog, keysFile := filepath.Join(dir, "tls.pcap"), filepath.Join(dir, "keylog.txt"), filepath.Join(dir, "sa.json")
	code, out, stderr := runCLI("demo", "--mode", "tls", "--json", "--pcap", pcapFile, "--keylog", keyLog, "--show-keys", keysFile)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, stderr, out)
	}
	var sum demo.TLSSummary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	o := sum.Outcome
	if !sum.OK || sum.Mode != "tls" || !o.Bootstrapped || !o.BindingAcknowledged || !o.DataThroughHA || !o.TamperedRejected || !o.ReplayRejected {
		t.Fatalf("summary %+v", sum)
	}
	if len(sum.Steps) != 6 || sum.HA.Drops.ICV != 1 || sum.HA.Drops.Replayed != 1 || sum.HA.DataFromMobile != 1 ||
		sum.HA.DataToMobile != 1 || sum.HA.BindingUpdatesAccepted != 1 || sum.HA.SAsInstalled != 1 {
		t.Fatalf("steps %d, HA %+v", len(sum.Steps), sum.HA)
	}

	// --show-keys: exactly the "sa" object of mip6tls.ShownSA, mode 0600.
	if fi, err := os.Stat(keysFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("show-keys file: %v %v", fi, err)
	}
	b, err := os.ReadFile(keysFile)
	if err != nil {
		t.Fatal(err)
	}
	var shown map[string]map[string]any
	if err := json.Unmarshal(b, &shown); err != nil || len(shown) != 1 {
		t.Fatalf("%v: %s", err, b)
	}
	sa := shown["sa"]
	want := []string{"spi", "ciphersuite", "port", "mn", "ha", "mn_to_ha_ikey", "mn_to_ha_ekey", "ha_to_mn_ikey", "ha_to_mn_ekey"}
	if len(sa) != len(want) {
		t.Fatalf("sa has %d fields: %s", len(sa), b)
	}
	for _, k := range want {
		if _, ok := sa[k]; !ok {
			t.Fatalf("sa lacks %q: %s", k, b)
		}
	}
	for _, k := range want[5:] {
		if s, _ := sa[k].(string); len(s) != 32 || strings.Trim(s, "0123456789abcdef") != "" {
			t.Errorf("%s = %q: want 16 octets in lower-case hex (AES_128_CBC_SHA256)", k, s)
		}
	}
	if sa["ciphersuite"] != "AES_128_CBC_SHA256" || sa["mn"] != "2001:db8:1::100" || sa["ha"] != "::1" {
		t.Errorf("sa %v", sa)
	}
	// --json with --show-keys: the same "sa" object in the summary, key
	// for key; without --show-keys neither "sa" nor "keys".
	var raw map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(raw["sa"], any(sa)) || raw["keys"] != keysFile {
		t.Errorf("summary sa %v, keys %v; file sa %v", raw["sa"], raw["keys"], sa)
	}
	code, out, stderr = runCLI("demo", "--mode", "tls", "--json", "--pcap", "")
	raw = nil
	if err := json.Unmarshal([]byte(out), &raw); code != 0 || err != nil {
		t.Fatalf("without --show-keys: exit %d, %v: %s\n%s", code, err, stderr, out)
	}
	for _, k := range []string{"sa", "keys"} { // the nine fields are inside "sa" ("ha" is also the HA's counters)
		if _, ok := raw[k]; ok {
			t.Errorf("without --show-keys the summary has %q: %s", k, out)
		}
	}
	spiF, _ := sa["spi"].(float64)
	spi := fmt.Sprint(uint32(spiF))

	if fi, err := os.Stat(pcapFile); err != nil || fi.Size() < int64(24+sum.Packets*40) {
		t.Fatalf("pcap of %d records: %v %v", sum.Packets, fi, err)
	}

	testenv.RequireTool(t, "tshark")
	tshark := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("tshark", append([]string{"-r", pcapFile, "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
			"-d", fmt.Sprintf("tcp.port==%d,tls", sum.TLSPort)}, args...)...)
		cmd.Dir = dir
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("tshark %v: %v\n%s", args, err, b)
		}
		return string(b)
	}
	fields := tshark("-T", "fields", "-e", "tcp.stream", "-e", "tls.record.content_type", "-e", "udp.dstport", "-e", "_ws.expert.message")
	if strings.Contains(fields, "Bad checksum") || strings.Contains(fields, "previous segment not captured") || strings.Contains(fields, "ACKed unseen") {
		t.Fatalf("tshark reports a broken stream or checksum:\n%s", fields)
	}
	if !strings.Contains(fields, "\t22") && !strings.Contains(fields, "22,") {
		t.Fatalf("no TLS handshake record:\n%s", fields)
	}
	if n := strings.Count(fields, "\t"+fmt.Sprint(sum.Addresses["HA"][strings.LastIndex(sum.Addresses["HA"], ":")+1:])+"\t"); n < 4 {
		t.Errorf("%d UDP datagrams to the HA's port %v:\n%s", n, sa["port"], fields)
	}
	plain := tsharkTLSText(tshark, keyLog)
	if !strings.Contains(plain, "mn-id:mn@example.com") || !strings.Contains(plain, "mip6-spi:"+spi) || !strings.Contains(plain, "11") {
		t.Fatalf("the key log does not decrypt the RFC 6618 exchange (SPI %s):\n%.2000s", spi, plain)
	}
	if opaque := tsharkTLSText(tshark, ""); strings.Contains(opaque, "mn-id:") {
		t.Fatal("the exchange is readable without the key log")
	}
}

// tsharkTLSText returns what tshark (run by the caller's tshark, which
// names the capture) shows of the TLS handshake types and the data of a
// capture, decrypted with keyLog if set: the fields, then every long hex
// field decoded, so that the RFC 6618 container's text shows.
func tsharkTLSText(tshark func(args ...string) string, keyLog string) string {
	args := []string{"-T", "fields", "-e", "tls.handshake.type", "-e", "data.data"}
	if keyLog != "" {
		args = append(args, "-o", "tls.keylog_file:"+keyLog)
	}
	var text strings.Builder
	for _, l := range strings.Split(tshark(args...), "\n") {
		text.WriteString(l)
		for _, f := range regexp.MustCompile(`[0-9a-f]{16,}`).FindAllString(l, -1) {
			if b, err := hex.DecodeString(f); err == nil {
				text.Write(b)
			}
		}
	}
	return text.String()
}

// TestDemoTLSUsage: --mode tls has no --in-process (it is in process
// unless --netns), --keylog is for it.
func TestDemoTLSUsage(t *testing.T) {
	for _, args := range [][]string{
		{"demo", "--mode", "tls", "--in-process"},
		{"demo", "--mode", "aaa", "--keylog", "k.txt"},
	} {
		if code, _, stderr := runCLI(args...); code != 2 || !strings.Contains(stderr, "--") {
			t.Errorf("%v: exit %d: %s", args, code, stderr)
		}
	}
	if code, out, _ := runCLI("demo", "--help"); code != 0 || !strings.Contains(out, "--mode tls") || !strings.Contains(out, "-keylog") {
		t.Errorf("demo --help: exit %d\n%s", code, out)
	}
}
