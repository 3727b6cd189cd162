package cga

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"net/netip"
	"os"
	"testing"
	"time"
)

// updateSec2 regenerates testdata/sec2.json with the parallel generator. It
// takes minutes per vector; tests never search at Sec >= 2 otherwise.
//
//	go test -run '^TestSec2Vectors$' -update-sec2 -timeout 0 ./cga
var updateSec2 = flag.Bool("update-sec2", false, "regenerate testdata/sec2.json (slow: Sec=2 searches)")

const sec2File = "testdata/sec2.json"

// sec2Vector is one precomputed Sec=2 CGA.
type sec2Vector struct {
	Key      string `json:"key"` // testdata/rsaKEY.pub.pem
	Prefix   string `json:"prefix"`
	Address  string `json:"address"`
	Params   string `json:"params"`
	Attempts uint64 `json:"attempts"`
	Elapsed  string `json:"elapsed"`
}

func TestSec2Vectors(t *testing.T) {
	if *updateSec2 {
		var vs []sec2Vector
		for _, v := range []struct{ key, prefix string }{{"1024", "2001:db8:0:1::/64"}, {"2048", "fe80::/64"}} {
			g, err := Generate(context.Background(), netip.MustParsePrefix(v.prefix), testKey(t, v.key), 2, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := g.Parameters.Marshal()
			vs = append(vs, sec2Vector{Key: v.key, Prefix: v.prefix, Address: g.Address.String(), Params: hex.EncodeToString(b),
				Attempts: g.Attempts, Elapsed: g.Elapsed.Round(time.Millisecond).String()})
			t.Logf("RSA-%s: %s after %d attempts in %v (%.0f/s)", v.key, g.Address, g.Attempts, g.Elapsed, float64(g.Attempts)/g.Elapsed.Seconds())
		}
		out, _ := json.MarshalIndent(vs, "", "  ")
		if err := os.WriteFile(sec2File, append(out, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(sec2File)
	if err != nil {
		t.Fatal(err)
	}
	var vs []sec2Vector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) < 2 {
		t.Fatalf("%s: %d vectors, want 2", sec2File, len(vs))
	}
	for _, v := range vs {
		t.Run("RSA-"+v.Key, func(t *testing.T) {
			addr := netip.MustParseAddr(v.Address)
			params, err := hex.DecodeString(v.Params)
			if err != nil {
				t.Fatal(err)
			}
			if got := SecOf(addr); got != 2 {
				t.Fatalf("SecOf(%s) = %d, want 2", addr, got)
			}
			if _, err := Verify(addr, params); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			p, err := ParseParameters(params)
			if err != nil {
				t.Fatal(err)
			}
			if string(p.PublicKey) != string(testKey(t, v.Key)) {
				t.Fatal("public key differs from testdata key")
			}
			// Reusing the modifier (RFC 3972 §4) regenerates the same CGA at
			// once, and yields a valid Sec=2 CGA on another prefix.
			g, err := Generate(context.Background(), netip.MustParsePrefix(v.Prefix), p.PublicKey, 2, &GenerateOptions{Modifier: &p.Modifier})
			if err != nil {
				t.Fatal(err)
			}
			if g.Address != addr || g.Attempts != 1 {
				t.Fatalf("reuse: %s after %d attempts, want %s after 1", g.Address, g.Attempts, addr)
			}
			g, err = Generate(context.Background(), netip.MustParsePrefix("2001:db8:ffff:1::/64"), p.PublicKey, 2, &GenerateOptions{Modifier: &p.Modifier})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := g.Parameters.Marshal()
			if _, err := Verify(g.Address, b); err != nil || g.Attempts != 1 {
				t.Fatalf("reuse on new prefix: %d attempts, Verify: %v", g.Attempts, err)
			}
		})
	}
}
