package mip6udp

import (
	"bytes"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// docBlock returns the octets of the fenced block after marker in
// docs/mip6udp.md: on each line, the hex words before the first word that
// is not hex (the comments).
func docBlock(t *testing.T, marker string) []byte {
	t.Helper()
	doc, err := os.ReadFile("../docs/mip6udp.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), marker+"\n```\n")
	if !ok {
		t.Fatalf("docs/mip6udp.md has no block after %q", marker)
	}
	block, _, _ := strings.Cut(rest, "```")
	var out []byte
	for _, line := range strings.Split(block, "\n") {
		for _, w := range strings.Fields(line) {
			b, err := hex.DecodeString(w)
			if err != nil {
				break
			}
			out = append(out, b...)
		}
	}
	return out
}

// TestDocExample checks the worked example of docs/mip6udp.md: the
// plaintext before encryption and the sealed packet.
func TestDocExample(t *testing.T) {
	out, in := pair(t, fixedConfig(t, AES128CBCSHA, 0x0abcdef, 0xa5))
	pkt := seal(t, out, PacketTypeMobilityHeader, 135, bindingUpdate)
	if want := docBlock(t, "<!-- example packet -->"); !bytes.Equal(pkt, want) {
		t.Errorf("sealed\n %x\ndocs/mip6udp.md\n %x", pkt, want)
	}
	plain := docBlock(t, "<!-- example plaintext -->")
	if !bytes.HasPrefix(plain, bindingUpdate) || len(plain) != 32 {
		t.Fatalf("example plaintext %x does not start with the Binding Update", plain)
	}
	ct := bytes.Clone(pkt[HeaderLen+16 : HeaderLen+16+32])
	in.enc.crypt(ct, pkt[HeaderLen:HeaderLen+16])
	if !bytes.Equal(ct, plain) {
		t.Errorf("decrypted\n %x\ndocs/mip6udp.md\n %x", ct, plain)
	}
}
