package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/cli"
	"github.com/fhkey/fhkey/internal/decode"
	"github.com/fhkey/fhkey/internal/mn"
	"github.com/fhkey/fhkey/internal/pcapread"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/internal/testenv"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/mh"
)

// tcpdump is one tcpdump process capturing in a testbed namespace.
type tcpdump struct {
	cmd  *exec.Cmd
	file string
	done chan struct{} // closed when stderr is drained
	mu   sync.Mutex
	log  []string // stderr lines
}

// startTcpdump captures on iface in node's namespace into a file and
// returns once tcpdump says it is listening.
func startTcpdump(t *testing.T, b *bed, node testbed.Node, iface string, extra ...string) *tcpdump {
	t.Helper()
	bin := testenv.RequireTool(t, "tcpdump")
	file := filepath.Join(b.dir, string(node)+"-"+iface+".pcap")
	// -Z root: Debian's tcpdump drops to user tcpdump, who cannot write
	// into the test's directory. -U: each record written at once;
	// --immediate-mode: each packet handed over at once, not per ring block.
	args := append([]string{"netns", "exec", b.tb.Namespace(node), bin, "-Z", "root", "-U", "--immediate-mode", "-n", "-i", iface, "-w", file}, extra...)
	cmd := exec.Command("ip", args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &tcpdump{cmd: cmd, file: file, done: make(chan struct{})}
	listening := make(chan struct{})
	go func() {
		defer close(d.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			d.mu.Lock()
			d.log = append(d.log, sc.Text())
			d.mu.Unlock()
			if strings.Contains(sc.Text(), "listening on") {
				close(listening)
			}
		}
	}()
	t.Cleanup(func() { d.stop(t) })
	select {
	case <-listening:
	case <-d.done:
		t.Fatalf("tcpdump in %s on %s exited: %v", node, iface, d.stderr())
	case <-time.After(15 * time.Second):
		t.Fatalf("tcpdump in %s on %s not listening after 15 s; stderr so far: %v", node, iface, d.stderr())
	}
	return d
}

func (d *tcpdump) stderr() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.log...)
}

// messages returns the message types in the file so far (a record being
// written ends the reading).
func (d *tcpdump) messages() map[string]int {
	seen := map[string]int{}
	f, err := os.Open(d.file)
	if err != nil {
		return seen
	}
	defer f.Close()
	r, err := pcapread.NewReader(f)
	if err != nil {
		return seen
	}
	dec := &decode.Decoder{}
	for i := 1; ; i++ {
		fr, err := r.Next()
		if err != nil {
			return seen
		}
		if p := dec.Frame(i, fr); p != nil && p.Message != nil {
			seen[fmt.Sprintf("%T", p.Message)]++
		}
	}
}

// waitFor polls the file until it holds every message type of want.
func (d *tcpdump) waitFor(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		seen := d.messages()
		missing := false
		for _, w := range want {
			missing = missing || seen[w] == 0
		}
		if !missing {
			return
		}
		if time.Now().After(deadline) {
			d.stop(t)
			t.Fatalf("%s: after 10 s the capture holds %v, want %v; tcpdump: %v", d.file, seen, want, d.stderr())
		}
		<-tick.C
	}
}

// stop interrupts tcpdump by its PID and waits for it to write its file
// and exit.
func (d *tcpdump) stop(t *testing.T) {
	if d.cmd.ProcessState != nil {
		return
	}
	if err := d.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Errorf("interrupt tcpdump: %v", err)
	}
	<-d.done
	if err := d.cmd.Wait(); err != nil {
		t.Errorf("tcpdump: %v: %v", err, d.stderr())
	}
}

// TestTcpdumpCaptureDecodes runs the RFC 5269 flow on the testbed with
// tcpdump capturing on the MN's veth to the PAR (Ethernet) and on every
// interface in the MN's namespace (Linux cooked SLL) and the PAR's (SLL2),
// then decodes the files with 'fhkey decode --verify --keys': the SEND
// messages verify, every Mobility Header checksum is good, the FBU's and
// FBack's BADF verify with the PAR's keys.
func TestTcpdumpCaptureDecodes(t *testing.T) {
	t.Parallel()
	b := newBed(t, "c", false)
	caps := map[string]*tcpdump{
		"MN par0 (Ethernet)": startTcpdump(t, b, testbed.MN, testbed.IfaceMNToPAR),
		"MN any (SLL)":       startTcpdump(t, b, testbed.MN, "any", "-y", "LINUX_SLL"),
		"PAR any (SLL2)":     startTcpdump(t, b, testbed.PAR, "any", "-y", "LINUX_SLL2"),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	par := b.par(nil)
	b.nar()
	m := b.mobile()
	if ev, err := m.RequestKey(ctx, par.Address()); err != nil || ev.Kind != mn.KeyProvisioned {
		t.Fatalf("RequestKey: %v %v", ev.Kind, err)
	}
	if err := m.Move(ctx); err != nil {
		t.Fatal(err)
	}
	if fb, err := m.FastHandover(ctx, par.Address()); err != nil || fb.Status != mh.FastStatusAccepted {
		t.Fatalf("FastHandover: %d %v", fb.Status, err)
	}
	send := []string{"*ndp.RouterSolicitationForProxyAdvertisement", "*ndp.ProxyRouterAdvertisement"}
	fmip := []string{"mh.FastBindingUpdate", "mh.FastBindingAcknowledgment"}
	caps["MN par0 (Ethernet)"].waitFor(t, send...)
	caps["MN any (SLL)"].waitFor(t, append(send, fmip...)...)
	caps["PAR any (SLL2)"].waitFor(t, append(send, fmip...)...)
	for _, c := range caps {
		c.stop(t)
	}
	var recs []keystore.Record
	if err := par.Store.Range(func(r *keystore.Record) bool { recs = append(recs, *r); return true }); err != nil {
		t.Fatal(err)
	}
	kb, err := decode.MarshalKeys(recs)
	if err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(b.dir, "keys.json")
	if err := os.WriteFile(keys, kb, 0o600); err != nil {
		t.Fatal(err)
	}

	seen := map[string]int{}
	for name, c := range caps {
		var out, errOut bytes.Buffer
		code := cli.Run(ctx, []string{"decode", "--verify", "--keys", keys, "--json", c.file}, nil, &out, &errOut)
		if code != 0 {
			t.Errorf("%s: decode exit %d: %s\n%s", name, code, errOut.String(), out.String())
		}
		for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			var p struct {
				Link    struct{ Type int }
				Message struct{ Type string }
				Verify  *decode.Verification
				Summary *decode.Summary
			}
			if err := json.Unmarshal([]byte(l), &p); err != nil {
				t.Fatalf("%s: %v: %s", name, err, l)
			}
			if p.Summary != nil {
				if p.Summary.Decoded == 0 || p.Summary.Malformed != 0 || p.Summary.Invalid != 0 {
					t.Errorf("%s: summary %+v", name, p.Summary)
				}
				continue
			}
			v := p.Verify
			switch p.Message.Type {
			case "RouterSolicitationForProxyAdvertisement", "ProxyRouterAdvertisement":
				if v.CGA != decode.Valid || v.Signature != decode.Valid {
					t.Errorf("%s: %s: %+v", name, p.Message.Type, v)
				}
				seen[name+" SEND"]++
			case "FastBindingUpdate", "FastBindingAcknowledgment":
				if v.MHChecksum != decode.Good || v.BADF != decode.Valid {
					t.Errorf("%s: %s: %+v", name, p.Message.Type, v)
				}
				seen[name+" FMIPv6"]++
			}
			seen[name+" link type "+map[int]string{1: "1", 113: "113", 276: "276"}[p.Link.Type]]++
		}
	}
	for _, want := range []string{"MN par0 (Ethernet) SEND", "MN par0 (Ethernet) link type 1", "MN any (SLL) SEND", "MN any (SLL) FMIPv6",
		"MN any (SLL) link type 113", "PAR any (SLL2) SEND", "PAR any (SLL2) FMIPv6", "PAR any (SLL2) link type 276"} {
		if seen[want] == 0 {
			t.Errorf("no %s packet decoded; seen %v", want, seen)
		}
	}
}
