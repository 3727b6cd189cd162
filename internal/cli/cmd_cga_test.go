package cli

import (
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fhkey/fhkey/cga"
)

// genJSON runs 'fhkey cga gen --json' and decodes its output.
func genJSON(t *testing.T, args ...string) cgaGenOutput {
	t.Helper()
	code, stdout, stderr := run(t, "", append([]string{"cga", "gen", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("cga gen %q: exit %d: %s", args, code, stderr)
	}
	if stderr != "" {
		t.Errorf("stderr not a terminal, but got %q", stderr)
	}
	var out cgaGenOutput
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("cga gen --json: %v in %q", err, stdout)
	}
	var fields map[string]any
	json.Unmarshal([]byte(stdout), &fields)
	for _, f := range []string{"address", "sec", "params", "modifier", "collision_count", "attempts", "elapsed"} {
		if _, ok := fields[f]; !ok {
			t.Errorf("JSON output lacks %q", f)
		}
	}
	return out
}

func TestCGAGenVerify(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "mn.pem")
	if code, _, stderr := run(t, "", "keygen", "--bits", "1024", "--out", key); code != 0 {
		t.Fatalf("keygen: %s", stderr)
	}
	out := genJSON(t, "--prefix", "2001:db8:1:2::/64", "--key", key, "--sec", "1")
	addr := netip.MustParseAddr(out.Address)
	if out.Sec != 1 || cga.SecOf(addr) != 1 || !netip.MustParsePrefix("2001:db8:1:2::/64").Contains(addr) || out.Attempts == 0 {
		t.Fatalf("output %+v", out)
	}
	params, err := hex.DecodeString(out.Params)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cga.Verify(addr, params); err != nil {
		t.Fatalf("cga.Verify(gen output): %v", err)
	}

	// verify accepts it: hex argument, @FILE with hex, @FILE raw, @- stdin.
	hexFile := filepath.Join(dir, "params.hex")
	rawFile := filepath.Join(dir, "params.bin")
	os.WriteFile(hexFile, []byte(out.Params+"\n"), 0o644)
	os.WriteFile(rawFile, params, 0o644)
	for _, tc := range []struct{ stdin, params string }{
		{"", out.Params}, {"", "@" + hexFile}, {"", "@" + rawFile}, {out.Params, "@-"},
	} {
		code, stdout, stderr := run(t, tc.stdin, "cga", "verify", "--addr", out.Address, "--params", tc.params)
		if code != 0 || stdout != "valid\n" {
			t.Errorf("verify --params %s: exit %d, stdout %q, stderr %q", tc.params, code, stdout, stderr)
		}
	}

	// u/g bits set: still valid (RFC 3972 §5 step 4).
	a := addr.As16()
	a[8] |= 0x03
	if code, _, stderr := run(t, "", "cga", "verify", "--addr", netip.AddrFrom16(a).String(), "--params", out.Params); code != 0 {
		t.Errorf("u/g bits set: exit %d: %s", code, stderr)
	}

	// Tampered copies are rejected with exit 1.
	for _, i := range []int{0, 15, 16, 24, 25, len(params) / 2, len(params) - 1} {
		b := append([]byte(nil), params...)
		b[i] ^= 0x01
		code, stdout, stderr := run(t, "", "cga", "verify", "--addr", out.Address, "--params", hex.EncodeToString(b))
		if code != 1 || stdout != "" || stderr == "" {
			t.Errorf("params octet %d tampered: exit %d, stdout %q, stderr %q", i, code, stdout, stderr)
		}
	}
	for _, tc := range []struct{ addr, params string }{
		{"2001:db8:1:3::1", out.Params},    // other address
		{out.Address, out.Params[:40]},     // truncated
		{out.Address, "zz"},                // not hex
		{out.Address, "@" + dir + "/none"}, // no such file
	} {
		if code, _, _ := run(t, "", "cga", "verify", "--addr", tc.addr, "--params", tc.params); code != 1 {
			t.Errorf("verify --addr %s --params %.20s: exit %d, want 1", tc.addr, tc.params, code)
		}
	}

	// Reusing the modifier for the same prefix reproduces the CGA at once.
	again := genJSON(t, "--prefix", "2001:db8:1:2::", "--key", key, "--sec", "1", "--modifier", out.Modifier)
	if again.Address != out.Address || again.Params != out.Params || again.Attempts != 1 {
		t.Errorf("reuse: %+v, want %+v after 1 attempt", again, out)
	}
}

func TestCGAGenText(t *testing.T) {
	// A PUBLIC KEY PEM is enough to generate; Sec=0 needs no search.
	key, err := filepath.Abs("../../cga/testdata/rsa2048.pub.pem")
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, "", "cga", "gen", "--prefix", "fe80::", "--key", key, "--sec", "0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var addr, params string
	for line := range strings.Lines(stdout) {
		if f := strings.Fields(line); len(f) == 2 {
			switch f[0] {
			case "address":
				addr = f[1]
			case "params":
				params = f[1]
			}
		}
	}
	if code, out, _ := run(t, "", "cga", "verify", "--addr", addr, "--params", params); code != 0 || out != "valid\n" {
		t.Fatalf("verify of text output (%s, %s): exit %d", addr, params, code)
	}
	if cga.SecOf(netip.MustParseAddr(addr)) != 0 {
		t.Errorf("Sec of %s", addr)
	}
}

func TestCGAUsage(t *testing.T) {
	key := filepath.Join(t.TempDir(), "k.pem")
	os.WriteFile(key, []byte("not a key"), 0o600)
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"cga"}, 2},
		{[]string{"cga", "frobnicate"}, 2},
		{[]string{"cga", "gen"}, 2},
		{[]string{"cga", "gen", "--prefix", "2001:db8::/48", "--key", key}, 2},
		{[]string{"cga", "gen", "--prefix", "192.0.2.0", "--key", key}, 2},
		{[]string{"cga", "gen", "--prefix", "2001:db8::/64", "--key", key, "--sec", "8"}, 2},
		{[]string{"cga", "gen", "--prefix", "2001:db8::/64", "--key", key, "--modifier", "00"}, 2},
		{[]string{"cga", "gen", "--prefix", "2001:db8::/64", "--key", key}, 1},           // not a PEM key
		{[]string{"cga", "gen", "--prefix", "2001:db8::/64", "--key", key + ".none"}, 1}, // no such file
		{[]string{"cga", "verify", "--addr", "2001:db8::1"}, 2},
		{[]string{"cga", "verify", "--addr", "nonsense", "--params", "00"}, 2},
		{[]string{"cga", "--help"}, 0},
		{[]string{"cga", "gen", "--help"}, 0},
		{[]string{"cga", "verify", "--help"}, 0},
	} {
		if code, _, _ := run(t, "", tc.args...); code != tc.want {
			t.Errorf("%q: exit %d, want %d", tc.args, code, tc.want)
		}
	}
}
