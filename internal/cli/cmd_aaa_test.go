package cli

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"os"
	"strings"
	"testing"
)

// The worked example of docs/aaa.md.
var aaaExample = []string{"aaa", "derive",
	"--hmk", hex.EncodeToString(seqBytes(0, 64)),
	"--message-id", "42",
	"--mn-nonce", "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
	"--hks-nonce", "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf",
	"--nai", "mn@example.com",
	"--ar", "2001:db8:1::1",
}

func seqBytes(start byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

// TestAAADerive runs the example through the CLI and recomputes T1 of the
// HIK and the HK with crypto/hmac directly (PRF 1 and MAC 1: one block).
func TestAAADerive(t *testing.T) {
	code, stdout, stderr := run(t, "", append(aaaExample, "--json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(stdout), &got); err != nil || len(got) != 2 {
		t.Fatalf("output %q: %v (want exactly hik and hk)", stdout, err)
	}
	hmk := seqBytes(0, 64)
	prf := func(data []byte) string {
		m := hmac.New(sha1.New, hmk)
		m.Write(data)
		return hex.EncodeToString(m.Sum(nil))
	}
	ar := netip.MustParseAddr("2001:db8:1::1").As16()
	seed := append(append(append(append(seqBytes(0xa0, 16), seqBytes(0xb0, 16)...), "mn@example.com"...), ar[:]...), "Handover Key"...)
	want := map[string]string{
		"hik": prf(append([]byte("Handover Integrity Key"), 0x00, 42)),
		"hk":  prf(append(seed, 0x00, 0x00)),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %s, want %s", k, got[k], v)
		}
	}
	if want["hik"] != "0007ab6867b35b6d767d2c9e6b31bfada4fa6e21" || want["hk"] != "1eb27128b42971b9f22b1b9ea30603e31f2941ec" {
		t.Errorf("the second computation disagrees with docs/aaa.md: %v", want)
	}
	doc, err := os.ReadFile("../../docs/aaa.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), strings.TrimSpace(stdout)) {
		t.Errorf("docs/aaa.md lacks the output %s", stdout)
	}

	// The table (--mac 2: two blocks per key).
	code, stdout, stderr = run(t, "", append(aaaExample, "--mac", "2")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, s := range []string{"HIK T1", "0007ab6867b35b6d767d2c9e6b31bfada4fa6e21", "HK T2", "b042a9585a10ffca1fb86b9d (first 12 of 20 octets)",
		"AT 1 (HMAC-SHA256-128)", "HIK Y = 0x002a"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("table lacks %q:\n%s", s, stdout)
		}
	}
	if strings.Contains(stdout, hex.EncodeToString(hmk)) {
		t.Error("the HMK is printed")
	}
}

func TestAAADeriveUsage(t *testing.T) {
	with := func(flag, value string) []string {
		args := append([]string(nil), aaaExample...)
		for i := range args {
			if args[i] == flag {
				args[i+1] = value
				return args
			}
		}
		return append(args, flag, value)
	}
	without := func(flag string) []string {
		var args []string
		for i := 0; i < len(aaaExample); i++ {
			if aaaExample[i] == flag {
				i++
				continue
			}
			args = append(args, aaaExample[i])
		}
		return args
	}
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{without("--hmk"), "--hmk"},
		{with("--hmk", "zz"), "--hmk"},
		{with("--hmk", hex.EncodeToString(seqBytes(0, 63))), "--hmk"},
		{without("--message-id"), "--message-id"},
		{with("--message-id", "256"), "--message-id"},
		{with("--message-id", "-1"), "--message-id"},
		{without("--mn-nonce"), "--mn-nonce"},
		{with("--mn-nonce", "abc"), "--mn-nonce"},
		{with("--hks-nonce", strings.Repeat("00", 254)), "--hks-nonce"},
		{without("--nai"), "--nai"},
		{without("--ar"), "--ar"},
		{with("--ar", "192.0.2.1"), "--ar"},
		{with("--ar", "fe80::1"), "--ar"},
		{with("--ar", "not-an-address"), "--ar"},
		{with("--prf", "3"), "--prf"},
		{with("--prf", "8"), "--prf"},
		{with("--mac", "0"), "--mac"},
		{with("--mac", "16"), "--mac"},
		{append(append([]string(nil), aaaExample...), "extra"), "extra"},
		{[]string{"aaa"}, "derive"},
		{[]string{"aaa", "nope"}, "nope"},
	} {
		code, stdout, stderr := run(t, "", tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.flag) || stdout != "" {
			t.Errorf("%q: exit %d, stderr %q, stdout %q; want 2 naming %s", tc.args, code, stderr, stdout, tc.flag)
		}
	}
	code, stdout, _ := run(t, "", "aaa", "derive", "--help")
	for _, f := range []string{"--hmk", "-message-id", "-mn-nonce", "-hks-nonce", "-nai", "-ar", "-prf", "-mac", "-json", "gprf+", "docs/aaa.md"} {
		if code != 0 || !strings.Contains(stdout, strings.TrimPrefix(f, "-")) {
			t.Errorf("aaa derive --help: exit %d, lacks %s", code, f)
		}
	}
	if code, stdout, _ := run(t, "", "aaa", "--help"); code != 0 || !strings.Contains(stdout, "derive") {
		t.Errorf("aaa --help: exit %d, %q", code, stdout)
	}
}
