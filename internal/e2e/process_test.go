package e2e

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/cli"
	"github.com/fhkey/fhkey/internal/scenario"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/internal/testenv"
)

// TestMain lets the tests start this binary as fhkey (testenv.Main): the
// daemons run as `ip netns exec NS <test binary> ar -c FILE`.
func TestMain(m *testing.M) {
	testenv.Main(m, func(ctx context.Context, args []string) int {
		return cli.Run(ctx, args, os.Stdin, os.Stdout, os.Stderr)
	})
}

// process is a scenario.Daemon whose failures fail the test.
type process struct {
	*scenario.Daemon
	t *testing.T
}

// startDaemon runs `ip netns exec <node's namespace> fhkey args...` and
// waits until it is ready (/readyz answers 200 at
// scenario.DefaultDaemonHTTP); its log is printed if the test fails.
func startDaemon(t *testing.T, tb *testbed.Testbed, node testbed.Node, name string, args ...string) *process {
	t.Helper()
	return startDaemonAt(t, tb, node, name, scenario.DefaultDaemonHTTP, args...)
}

// startDaemonAt is startDaemon for a daemon whose [http] listens on
// httpAddr (a second daemon in the same namespace).
func startDaemonAt(t *testing.T, tb *testbed.Testbed, node testbed.Node, name, httpAddr string, args ...string) *process {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d, err := scenario.StartDaemon(ctx, tb, node, name, httpAddr, append([]string{exe}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Kill()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, d.Output())
		}
	})
	return &process{Daemon: d, t: t}
}

func (p *process) metric(series string) float64 {
	p.t.Helper()
	v, err := p.Metric(series)
	if err != nil {
		p.t.Fatal(err)
	}
	return v
}

// waitMetric polls series until it equals want (at most 10 s).
func (p *process) waitMetric(series string, want float64) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.WaitMetric(ctx, series, want); err != nil {
		p.t.Fatal(err)
	}
}

func (p *process) status(v any) {
	p.t.Helper()
	if err := p.Status(v); err != nil {
		p.t.Fatal(err)
	}
}

func (p *process) kill() { p.Kill() }

// stop sends SIGTERM and expects a clean exit (status 0) within 10 s.
func (p *process) stop() {
	p.t.Helper()
	if err := p.Stop(10 * time.Second); err != nil {
		p.t.Error(err)
	}
}
