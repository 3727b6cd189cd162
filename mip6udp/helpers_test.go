package mip6udp

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden packets in testdata/golden")

// vectorCase is one case of a testdata vector file: name = value lines,
// cases separated by blank lines, # comments.
type vectorCase map[string][]byte

// readVectors parses a testdata vector file. Values are hex, "ascii" or
// BYTE*COUNT (hex byte, decimal count); an empty value is empty.
func readVectors(t testing.TB, name string) []vectorCase {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []vectorCase
	cur := vectorCase{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") {
			continue
		}
		if line == "" {
			if len(cur) > 0 {
				cases = append(cases, cur)
				cur = vectorCase{}
			}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: bad line %q", name, line)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k == "case" {
			cur[k] = []byte(v)
			continue
		}
		cur[k] = vectorValue(t, v)
	}
	if len(cur) > 0 {
		cases = append(cases, cur)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

func vectorValue(t testing.TB, v string) []byte {
	t.Helper()
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return []byte(v[1 : len(v)-1])
	}
	if b, n, ok := strings.Cut(v, "*"); ok {
		count, err := strconv.Atoi(n)
		if err != nil {
			t.Fatalf("bad count in %q", v)
		}
		return bytes.Repeat(mustHex(t, b), count)
	}
	return mustHex(t, v)
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("hex %q: %v", s, err)
	}
	return b
}

// fixedConfig is an SA of suite with fixed keys: the encryption key is
// 0x01, 0x02, …; the integrity key 0x41, 0x42, …; IVs come from iv,
// repeated.
func fixedConfig(t testing.TB, suite CipherSuite, spi SPI, iv byte) Config {
	t.Helper()
	s, err := LookupSuite(suite)
	if err != nil {
		t.Fatal(err)
	}
	c := Config{SPI: spi, Suite: suite, Rand: constReader(iv)}
	for i := range s.EncryptionKeyLen {
		c.EncryptionKey = append(c.EncryptionKey, byte(i+1))
	}
	for i := range s.IntegrityKeyLen {
		c.IntegrityKey = append(c.IntegrityKey, byte(0x41+i))
	}
	return c
}

// constReader returns an endless stream of one byte: a fixed IV.
type constReader byte

func (r constReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// pair returns the two ends of one SA direction.
func pair(t testing.TB, c Config) (*Outbound, *Inbound) {
	t.Helper()
	out, err := NewOutbound(c)
	if err != nil {
		t.Fatal(err)
	}
	in, err := NewInbound(c)
	if err != nil {
		t.Fatal(err)
	}
	return out, in
}

// seal seals one packet or fails the test.
func seal(t testing.TB, o *Outbound, pt PacketType, nh uint8, payload []byte) []byte {
	t.Helper()
	b, err := o.Seal(nil, pt, nh, payload)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }
