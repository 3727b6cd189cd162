package cli

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
)

// The worked example of docs/msk.md.
var mskExample = []string{"msk", "derive",
	"--msk", hex.EncodeToString(seqBytes(0, 64)),
	"--nai", "mn@example.com",
	"--par", "2001:db8:1::1",
}

// TestMSKDerive runs the example through the CLI for both ATs and
// recomputes T1 with crypto/hmac over S written out.
func TestMSKDerive(t *testing.T) {
	for at, want := range map[string]string{
		"0": "883400b9a31fd483ff379eb0517827760a023655",
		"1": "980b2485c9f71f746f9cb98338d0c527c80d36a0abd832c5ee5ccfeb0ed7b6ed",
	} {
		code, stdout, stderr := run(t, "", append(mskExample, "--at", at, "--json")...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var got map[string]string
		if err := json.Unmarshal([]byte(stdout), &got); err != nil || len(got) != 1 || got["fhk"] != want {
			t.Errorf("AT %s: %q, %v; want fhk %s", at, stdout, err, want)
		}
		l := byte(20)
		if at == "1" {
			l = 32
		}
		par := netip.MustParseAddr("2001:db8:1::1").As16()
		s := append(append(append([]byte("FMIPv6 FBU Key\x00mn@example.com"), par[:]...), 0, l), 0x01)
		m := hmac.New(sha256.New, seqBytes(0, 64))
		m.Write(s)
		if ref := hex.EncodeToString(m.Sum(nil)[:l]); ref != want {
			t.Errorf("AT %s: crypto/hmac gives %s", at, ref)
		}
		code, stdout, _ = run(t, "", append(mskExample, "--at", at)...)
		rows := map[string]string{}
		for _, line := range strings.Split(stdout, "\n") {
			if f := strings.Fields(line); len(f) >= 2 {
				rows[f[0]] = f[1]
			}
		}
		if code != 0 || rows["FHK"] != want || rows["S"] != hex.EncodeToString(s[:len(s)-1]) || !strings.HasPrefix(rows["T1"], want) ||
			!strings.Contains(stdout, "SPI 0x4648000"+at) {
			t.Errorf("AT %s table: exit %d, %q", at, code, stdout)
		}
	}
}

func TestMSKDeriveUsage(t *testing.T) {
	msk := hex.EncodeToString(seqBytes(0, 64))
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"--nai", "a", "--par", "2001:db8::1", "--at", "0"}, "--msk"},
		{[]string{"--msk", msk[:126], "--nai", "a", "--par", "2001:db8::1", "--at", "0"}, "--msk"},
		{[]string{"--msk", "zz", "--nai", "a", "--par", "2001:db8::1", "--at", "0"}, "--msk"},
		{[]string{"--msk", msk, "--par", "2001:db8::1", "--at", "0"}, "--nai"},
		{[]string{"--msk", msk, "--nai", strings.Repeat("a", 255), "--par", "2001:db8::1", "--at", "0"}, "--nai"},
		{[]string{"--msk", msk, "--nai", "a", "--at", "0"}, "--par"},
		{[]string{"--msk", msk, "--nai", "a", "--par", "fe80::1", "--at", "0"}, "--par"},
		{[]string{"--msk", msk, "--nai", "a", "--par", "192.0.2.1", "--at", "0"}, "--par"},
		{[]string{"--msk", msk, "--nai", "a", "--par", "nope", "--at", "0"}, "--par"},
		{[]string{"--msk", msk, "--nai", "a", "--par", "2001:db8::1"}, "--at"},
		{[]string{"--msk", msk, "--nai", "a", "--par", "2001:db8::1", "--at", "2"}, "--at"},
		{[]string{"--msk", msk, "--nai", "a", "--par", "2001:db8::1", "--at", "x"}, "--at"},
		{[]string{"--msk", msk, "--nai", "a", "--par", "2001:db8::1", "--at", "0", "extra"}, "extra"},
		{[]string{"--bogus"}, "bogus"},
	} {
		code, _, stderr := run(t, "", append([]string{"msk", "derive"}, tc.args...)...)
		if code != 2 || !strings.Contains(stderr, tc.flag) {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming %s", tc.args, code, stderr, tc.flag)
		}
	}
	code, stdout, _ := run(t, "", "msk", "derive", "--help")
	for _, w := range []string{"--msk", "--nai", "--par", "--at", "--json", "prf+", "RFC 5295 §3.2", "0x46480000"} {
		if code != 0 || !strings.Contains(stdout, w) {
			t.Errorf("--help: exit %d, lacks %q", code, w)
		}
	}
	if code, _, stderr := run(t, "", "msk"); code != 2 || !strings.Contains(stderr, "derive") {
		t.Errorf("no subcommand: exit %d, %q", code, stderr)
	}
}
