package scenario

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/fhkey/fhkey/internal/peer"
	"github.com/fhkey/fhkey/internal/testbed"
)

// ErrDaemon is wrapped by the errors of Daemon.
var ErrDaemon = errors.New("scenario: daemon")

// Daemon is an fhkey daemon (`fhkey ar`, `fhkey mn`) running as a process
// in a testbed namespace, started the way a user starts it:
// `ip netns exec NAMESPACE fhkey ar -c FILE`. Its /metrics and /status are
// read over connections opened inside the namespace.
type Daemon struct {
	*peer.Server // the `ip netns exec` process: Name, Pid, Output, Kill
	Node         testbed.Node

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
	d := &Daemon{Node: node, http: namespaceClient(tb, node), base: "http://" + httpAddr}
	ready := func(*peer.Server) error { _, err := d.get(name, "/readyz"); return err }
	srv, err := peer.StartServer(ctx, name, "", ready, append([]string{"ip", "netns", "exec", tb.Namespace(node)}, argv...)...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDaemon, err)
	}
	d.Server = srv
	return d, nil
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

// Get fetches path from the daemon's HTTP endpoint.
func (d *Daemon) Get(path string) (string, error) { return d.get(d.Name, path) }

// get is Get, naming the daemon name in errors (before Server is set).
func (d *Daemon) get(name, path string) (string, error) {
	resp, err := d.http.Get(d.base + path)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrDaemon, name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%w: %s: %s: %s %q", ErrDaemon, name, path, resp.Status, b)
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

// Stop sends SIGTERM and waits at most timeout for the daemon to exit; an
// exit status other than 0 is an error.
func (d *Daemon) Stop(timeout time.Duration) error {
	if err := d.Terminate(timeout); err != nil {
		return fmt.Errorf("%w: %w", ErrDaemon, err)
	}
	return nil
}
