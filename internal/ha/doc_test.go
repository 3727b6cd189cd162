package ha

import (
	"bytes"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fhkey/fhkey/mh"
	"github.com/fhkey/fhkey/mip6tls"
	"github.com/fhkey/fhkey/mip6udp"
)

// TestDocVector: the worked example of docs/ha.md — the Binding
// Acknowledgement the home agent seals for a Binding Update (fixed keys,
// IV a5…a5) — is what the code produces, octet for octet.
func TestDocVector(t *testing.T) {
	h := New(Config{HomePrefix: homePrefix, Rand: bytes.NewReader(bytes.Repeat([]byte{0xa5}, 16))})
	sa, bs := testSA(t, 0x1234, mip6tls.SAScopeAll)
	if err := h.InstallSA(t0, sa, bs); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ha: h}
	f.mn = newFixture(t, mip6tls.SAScopeAll).mn
	bu := marshalBU(t, mh.BindingUpdate{Sequence: 7, Acknowledge: true, HomeRegistration: true, Lifetime: 10 * time.Minute})
	r, err := h.HandleUDP(nil, t0, coa, f.seal(mip6udp.PacketTypeMobilityHeader, 135, bu))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../../docs/ha.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- ha vector -->\n```\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatalf("docs/ha.md has no vector; the BA is\n%x", r.Reply)
	}
	var want []byte
	for _, line := range strings.Split(string(m[1]), "\n") {
		field, _, _ := strings.Cut(line, "  ")
		b, err := hex.DecodeString(strings.ReplaceAll(field, " ", ""))
		if err != nil {
			t.Fatalf("docs/ha.md vector line %q: %v", line, err)
		}
		want = append(want, b...)
	}
	if !bytes.Equal(r.Reply, want) {
		t.Errorf("BA\n%x\ndocs/ha.md\n%x", r.Reply, want)
	}
}
