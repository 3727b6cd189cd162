package scenario

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fhkey/fhkey/internal/testbed"
)

// ErrDaemon is wrapped by the errors of Daemon.
var ErrDaemon = errors.New("scenario: daemon")

// Daemon is an fhkey daemon (`fhkey ar`, `fhkey mn`) running as a process
// in a testbed namespace, started the way a user starts it:
// `ip netns exec NAMESPACE fhkey ar -c FILE`. Its /metrics and /status are
// read over connections opened inside the namespace.
type Daemon struct {
	Name string
	Node testbed.Node

	cmd  *exec.Cmd
	out  lockedBuffer
	done chan struct{}
	err  error // Wait's, once done is closed
	http *http.Client
	base string
}

// StartDaemon runs argv (the fhkey executable and its arguments) in node's
// namespace with `ip netns exec` and waits, at most until ctx ends, for
// the daemon to be ready: its HTTP endpoint at httpAddr (the [http] listen
// address of its configuration) answering /readyz with 200. On failure the
// error says what /readyz last answered and carries the daemon's output.
func StartDaemon(ctx context.Context, tb *testbed.Testbed, node testbed.Node, name, httpAddr string, argv ...string) (*Daemon, error) {
	if len(argv) == 0 || httpAddr == "" {
		return nil, fmt.Errorf("%w: %s: an executable and an HTTP address are needed", ErrDaemon, name)
	}
	d := &Daemon{Name: name, Node: node, done: make(chan struct{}), http: namespaceClient(tb, node), base: "http://" + httpAddr}
	d.cmd = exec.Command("ip", append([]string{"netns", "exec", tb.Namespace(node)}, argv...)...)
	d.cmd.Stdout, d.cmd.Stderr = &d.out, &d.out
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrDaemon, name, err)
	}
	go func() { d.err = d.cmd.Wait(); close(d.done) }()
	if err := d.WaitReady(ctx); err != nil {
		d.Kill()
		return nil, err
	}
	return d, nil
}

// WaitReady polls /readyz until it answers 200, the daemon exits or ctx
// ends; the error then says what /readyz last answered.
func (d *Daemon) WaitReady(ctx context.Context) error {
	var last string
	for {
		body, err := d.Get("/readyz")
		if err == nil {
			return nil
		}
		last = fmt.Sprintf("%v %q", err, body)
		select {
		case <-d.done:
			return fmt.Errorf("%w: %s exited before it was ready (%v); /readyz last: %s\n%s", ErrDaemon, d.Name, d.err, last, d.Output())
		case <-ctx.Done():
			return fmt.Errorf("%w: %s not ready: %w; /readyz last: %s\n%s", ErrDaemon, d.Name, ctx.Err(), last, d.Output())
		case <-time.After(20 * time.Millisecond):
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

// Pid is the daemon's process ID (`ip netns exec` execs it in place).
func (d *Daemon) Pid() int { return d.cmd.Process.Pid }

// Output is what the daemon has written to stdout and stderr (its log).
func (d *Daemon) Output() string { return d.out.String() }

// Get fetches path from the daemon's HTTP endpoint.
func (d *Daemon) Get(path string) (string, error) {
	resp, err := d.http.Get(d.base + path)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrDaemon, d.Name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%w: %s: %s: %s", ErrDaemon, d.Name, path, resp.Status)
	}
	return string(b), err
}

// Metric returns the value of the sample named exactly series (the metric
// name with its labels, as printed) in /metrics.
func (d *Daemon) Metric(series string) (float64, error) {
	text, err := d.Get("/metrics")
	if err != nil {
		return 0, err
	}
	s := bufio.NewScanner(strings.NewReader(text))
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0, fmt.Errorf("%w: %s: %q: %w", ErrDaemon, d.Name, s.Text(), err)
			}
			return f, nil
		}
	}
	return 0, fmt.Errorf("%w: %s: no %s in /metrics", ErrDaemon, d.Name, series)
}

// WaitMetric polls series until it equals want or ctx ends.
func (d *Daemon) WaitMetric(ctx context.Context, series string, want float64) error {
	for {
		v, err := d.Metric(series)
		if err == nil && v == want {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %s: %s = %v (%v), want %v", ErrDaemon, d.Name, series, v, err, want)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Status decodes the "role" document of /status into v, a pointer, zeroed
// first (fields absent from the document must not keep earlier values).
func (d *Daemon) Status(v any) error {
	text, err := d.Get("/status")
	if err != nil {
		return err
	}
	var doc struct {
		Role json.RawMessage `json:"role"`
	}
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		return fmt.Errorf("%w: %s: /status: %w", ErrDaemon, d.Name, err)
	}
	reflect.ValueOf(v).Elem().SetZero()
	if err := json.Unmarshal(doc.Role, v); err != nil {
		return fmt.Errorf("%w: %s: /status role: %w", ErrDaemon, d.Name, err)
	}
	return nil
}

// Kill ends the daemon with SIGKILL (no cleanup) and waits for it.
func (d *Daemon) Kill() {
	select {
	case <-d.done:
		return
	default:
	}
	_ = d.cmd.Process.Kill()
	<-d.done
}

// Stop sends SIGTERM and waits at most timeout for the daemon to exit; an
// exit status other than 0 is an error.
func (d *Daemon) Stop(timeout time.Duration) error {
	select {
	case <-d.done:
		return d.exitErr()
	default:
	}
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrDaemon, d.Name, err)
	}
	select {
	case <-d.done:
		return d.exitErr()
	case <-time.After(timeout):
		d.Kill()
		return fmt.Errorf("%w: %s still running %v after SIGTERM: killed", ErrDaemon, d.Name, timeout)
	}
}

func (d *Daemon) exitErr() error {
	if d.err != nil {
		return fmt.Errorf("%w: %s: %w", ErrDaemon, d.Name, d.err)
	}
	return nil
}

// lockedBuffer collects a daemon's output.
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
