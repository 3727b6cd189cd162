package scenario

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/peer"
	"github.com/fhkey/fhkey/internal/testenv"
)

// TestBenchHKS runs `fhkey bench hks` small (loopback, no root), so that
// the bench path cannot rot: FreeRADIUS answers its PAP requests (signed
// and unsigned, three runs each), the HKS its key requests (the draft's
// HMAC-SHA1 and the HMAC-SHA256 extension, three runs each), radclient
// gets every request accepted, FreeRADIUS proxies key requests to the HKS
// and the latencies are measured.
func TestBenchHKS(t *testing.T) {
	testenv.RequireTool(t, "freeradius")
	testenv.RequireTool(t, "radclient")
	var log strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := BenchHKS(ctx, HKSBenchConfig{Requests: 400, Parallel: 32, LatencySamples: 20, Dir: t.TempDir(), Log: &log})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if res.HKS.Accepted != 400 || res.PAP.Accepted != 400 || res.UnsignedPAP.Accepted != 400 || len(res.Runs) != 12 || res.HKSSHA256PerS <= 0 ||
		res.HKSPerS <= 0 || res.FreeRADIUSPAPPerS <= 0 || res.FreeRADIUSUnsignedPAPPerS <= 0 ||
		res.ProxyLatency.Samples != 20 || res.ProxyLatency.Median <= 0 || res.DirectLatency.Median <= 0 {
		t.Errorf("result %+v", res)
	}
	servers := map[string]int{}
	for _, r := range res.Runs {
		servers[r.Server]++
		// The load is timed inside radclient's run, the requests and
		// answers counted whole (400 of each; other packages' tests may
		// add datagrams of their own). Whether the sampler resolves the
		// window depends on scheduling, so a run not timed (0) must fall
		// back to the wall-time rate; TestLoadWindow checks the timing.
		if r.LoadSeconds < 0 || r.LoadSeconds > r.Seconds || r.PerS < r.PerSWall || r.UDPInDatagrams < 800 ||
			(r.LoadSeconds == 0 && r.PerS != r.PerSWall) {
			t.Errorf("run %+v: load not timed within radclient's run", r)
		}
	}
	if len(servers) != 4 || servers["hks"] != 3 || servers["hks-sha256"] != 3 {
		t.Errorf("runs per server %v", servers)
	}
	t.Log(res)
}

// TestSignedPAPBaseline checks the two PAP baselines of bench hks on the
// real FreeRADIUS: the signed user's Access-Accept carries a
// Message-Authenticator radclient verifies (as FreeRADIUS >= 3.2.5 sends),
// the unsigned user's carries no attribute.
func TestSignedPAPBaseline(t *testing.T) {
	testenv.RequireTool(t, "freeradius")
	testenv.RequireTool(t, "radclient")
	dir := t.TempDir()
	addr, err := freeUDPPort()
	if err != nil {
		t.Fatal(err)
	}
	fr := &peer.FreeRADIUS{Dir: dir, Listen: addr,
		Clients:  []peer.FreeRADIUSClient{{Name: "bench", Prefix: netip.PrefixFrom(loopback, 32), Secret: "bench-secret"}},
		PAPUsers: map[string]string{"bench": "pw", "bench-signed": "pw"}, SignedPAPUsers: []string{"bench-signed"}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := fr.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	for user, want := range map[string]string{"bench": "length 20\n", "bench-signed": "length 38\n\tMessage-Authenticator = 0x"} {
		file := filepath.Join(dir, user+".request")
		if err := os.WriteFile(file, []byte("Message-Authenticator = 0x00\nUser-Name = \""+user+"\"\nUser-Password = \"pw\"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.CommandContext(ctx, "radclient", "-x", "-f", file, addr.String(), "auth", "bench-secret").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Received Access-Accept") || !strings.Contains(string(out), want) {
			t.Errorf("%s: %v, want an Access-Accept with %q:\n%s\nFreeRADIUS: %s", user, err, want, out, s.Output())
		}
	}
}

// TestLoadWindow feeds watchLoad's sample logic a run of 10 requests (20
// datagrams) sampled at known times: the window runs from the first
// sample counting 8 of them to the first counting all, and a run whose
// start and end fall on one sample is reported as not timed.
func TestLoadWindow(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	w := &loadWindow{in0: 500, total: 20, stop: make(chan struct{}), done: make(chan struct{})}
	for i, s := range []struct {
		in   int64
		ms   int
		done bool
	}{{500, 0, false}, {507, 1, false}, {508, 2, false}, {515, 3, false}, {519, 4, false}, {520, 7, true}} {
		if got := w.observe(s.in, at(s.ms)); got != s.done {
			t.Fatalf("sample %d (%d at %d ms): done %v, want %v", i, s.in, s.ms, got, s.done)
		}
	}
	close(w.done)
	if got := w.seconds(); got != 0.005 {
		t.Errorf("seconds %v, want 0.005 (2 ms to 7 ms)", got)
	}

	// The sampler starved: one sample sees nothing, the next everything.
	w = &loadWindow{in0: 500, total: 20, stop: make(chan struct{}), done: make(chan struct{})}
	if w.observe(503, at(0)) || !w.observe(530, at(40)) {
		t.Fatal("starved run: want done on the second sample")
	}
	close(w.done)
	if got := w.seconds(); got != 0 {
		t.Errorf("starved run: seconds %v, want 0 (not timed)", got)
	}
	r := benchRun("hks", RadclientSummary{Accepted: 400, Seconds: 0.05, LoadSeconds: 0})
	if r.PerS != r.PerSWall || r.PerSWall != 8000 {
		t.Errorf("not timed run: per_s %v, per_s_wall %v, want both 8000", r.PerS, r.PerSWall)
	}
}
