package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/cli"
	"github.com/fhkey/fhkey/internal/testbed"
)

// asFhkey, set in a child's environment, makes the test binary run the
// fhkey command line instead of the tests: the daemons are started as
// `ip netns exec NS <test binary> ar -c FILE`, the same program a user
// runs, with the race detector when the tests have it.
const asFhkey = "FHKEY_E2E_AS_FHKEY"

func TestMain(m *testing.M) {
	if os.Getenv(asFhkey) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// lockedBuffer collects a child's output.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// process is one fhkey daemon running in a testbed namespace.
type process struct {
	t    *testing.T
	tb   *testbed.Testbed
	node testbed.Node
	name string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	err  error // Wait's, once done is closed
	http *http.Client
}

// startDaemon runs `ip netns exec <node's namespace> fhkey args...` and
// waits until its /status answers.
func startDaemon(t *testing.T, tb *testbed.Testbed, node testbed.Node, name string, args ...string) *process {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{t: t, tb: tb, node: node, name: name, out: &lockedBuffer{}, done: make(chan struct{}), http: namespaceClient(tb, node)}
	p.cmd = exec.Command("ip", append([]string{"netns", "exec", tb.Namespace(node), exe}, args...)...)
	p.cmd.Env = append(os.Environ(), asFhkey+"=1")
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", p.name, p.out.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := p.get("/status"); err == nil {
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited at start: %v\n%s", name, p.err, p.out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: /status not answering after 20 s\n%s", name, p.out.String())
		}
	}
}

// namespaceClient is an HTTP client whose connections are opened inside
// node's namespace, where the daemons' loopback endpoints are.
func namespaceClient(tb *testbed.Testbed, node testbed.Node) *http.Client {
	return &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var c net.Conn
			err := tb.Do(node, func() error {
				var err error
				c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
				return err
			})
			return c, err
		}}}
}

// get fetches path from the daemon's HTTP endpoint.
func (p *process) get(path string) (string, error) {
	resp, err := p.http.Get("http://127.0.0.1:9750" + path)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: %s", path, resp.Status)
	}
	return string(b), err
}

// metric returns the value of the sample named exactly series (name with
// its labels) in /metrics.
func (p *process) metric(series string) float64 {
	p.t.Helper()
	text, err := p.get("/metrics")
	if err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
	s := bufio.NewScanner(strings.NewReader(text))
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				p.t.Fatalf("%s: %s: %v", p.name, s.Text(), err)
			}
			return f
		}
	}
	p.t.Fatalf("%s: no %s in /metrics:\n%s", p.name, series, text)
	return 0
}

// waitMetric polls series until it equals want (at most 10 s).
func (p *process) waitMetric(series string, want float64) {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v := p.metric(series)
		if v == want {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: %s = %v, want %v\n%s", p.name, series, v, want, p.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// status decodes the "role" part of /status into v (a pointer, zeroed
// first: absent fields must not keep earlier values).
func (p *process) status(v any) {
	p.t.Helper()
	reflect.ValueOf(v).Elem().SetZero()
	text, err := p.get("/status")
	if err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
	var doc struct {
		Role json.RawMessage `json:"role"`
	}
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		p.t.Fatalf("%s: /status: %v\n%s", p.name, err, text)
	}
	if err := json.Unmarshal(doc.Role, v); err != nil {
		p.t.Fatalf("%s: /status role: %v\n%s", p.name, err, text)
	}
}

// kill sends SIGKILL and waits for the process to end.
func (p *process) kill() {
	p.t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		p.t.Fatal(err)
	}
	<-p.done
}

// stop sends SIGTERM and expects a clean exit (status 0) within 10 s.
func (p *process) stop() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	select {
	case <-p.done:
		if p.err != nil {
			p.t.Errorf("%s after SIGTERM: %v\n%s", p.name, p.err, p.out.String())
		}
	case <-time.After(10 * time.Second):
		p.t.Errorf("%s still running 10 s after SIGTERM", p.name)
	}
}
