package send

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGoldenVector pins the signed Neighbor Solicitation that docs/send.md
// shows: PKCS #1 v1.5 is deterministic, so the whole message is fixed by the
// key, the addresses and the options. Regenerate with -update only when the
// inputs change on purpose.
func TestGoldenVector(t *testing.T) {
	var m testMessage
	for _, x := range messages(t, 1024) {
		if x.name == "NS" {
			m = x
		}
	}
	signed, err := Sign(m.msg, m.src, m.dst, m.key)
	if err != nil {
		t.Fatal(err)
	}
	sd, err := SignedData(signed, m.src, m.dst)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# RFC 3971 SEND-signed Neighbor Solicitation, testdata/rsa1024.pem, see docs/send.md\n")
	fmt.Fprintf(&b, "source %s\ndestination %s\n", m.src, m.dst)
	fmt.Fprintf(&b, "wire-checksum %x\nsigned-checksum %x\n", signed[2:4], sd[50:52])
	fmt.Fprintf(&b, "message %s\nsigned-data %s\n", hex.EncodeToString(signed), hex.EncodeToString(sd))
	const path = "testdata/vector-ns-1024.txt"
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, []byte(b.String())) {
		t.Fatalf("golden vector differs from %s:\n%s", path, b.String())
	}
	// And the pinned bytes verify.
	now := testTime
	if _, err := (&Verifier{Now: fixedClock(&now)}).Verify(signed, m.src, m.dst); err != nil {
		t.Fatal(err)
	}
}
