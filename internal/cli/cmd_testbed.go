package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/fhkey/fhkey/internal/demo"
	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/scenario"
	"github.com/fhkey/fhkey/internal/testbed"
)

const testbedDescription = `Build, move and remove the network-namespace testbed (root only):

  up      create the namespaces <prefix>mn, par, nar, cn (and atk with
          --attacker), their veth links, bridges, addresses and routes
  down    remove every namespace of the prefix (idempotent)
  move    attach the MN to the NAR's link (--to nar, the default) or back
          to the PAR's link (--to par)
  status  show the namespaces, the MN's link and the addresses
  configs put the lab CGAs on the testbed's interfaces and write, in
          --out DIR, the credentials and the configurations of the
          daemons (par.toml, nar.toml, mn.toml) to run them as processes:
            ip netns exec fhk-par fhkey ar -c DIR/par.toml
            ip netns exec fhk-nar fhkey ar -c DIR/nar.toml
            ip netns exec fhk-mn  fhkey mn -c DIR/mn.toml
            fhkey testbed move     (the MN daemon then sends its FBU)
          Each serves /metrics and /status on --http in its namespace.

Topology (docs/netio.md, docs/testbed.md): PAR link 2001:db8:1::/64, NAR
link 2001:db8:2::/64, PAR-NAR 2001:db8:12::/64, CN link 2001:db8:c::/64.
Run a command inside a node with 'ip netns exec fhk-mn ...'.`

// testbedPrefix is the rule testbed.Up and Down enforce (testbed.ErrPrefix),
// checked here so that a bad prefix is a usage error before the root check.
var testbedPrefix = regexp.MustCompile(`^fhk-([a-z0-9]+-)?$`)

// geteuid is os.Geteuid; tests replace it.
var geteuid = os.Geteuid

// errNotRoot is returned by the commands that need root.
var errNotRoot = errors.New("needs root (network namespaces, raw sockets): run it with sudo")

func requireRoot() error {
	if geteuid() != 0 {
		return errNotRoot
	}
	return nil
}

func runTestbed(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "testbed", "up|down|move|status|configs [flags]", testbedDescription)
	prefix := fs.String("prefix", testbed.DefaultPrefix, `namespace name prefix: "fhk-" or "fhk-<letters/digits>-"`)
	attacker := fs.Bool("attacker", false, "up: add the attacker namespace on the NAR's link")
	to := fs.String("to", "nar", "move: the router whose link the MN attaches to (nar or par)")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	out := fs.String("out", "", "configs: the `DIR` to write the credentials and configurations in (required)")
	httpAddr := fs.String("http", scenario.DefaultDaemonHTTP, "configs: the daemons' /metrics and /status address in their namespaces (empty: off)")
	fwdLifetime := fs.Duration("forwarding-lifetime", time.Minute, "configs: the PAR's forwarding lifetime (1s to 65535s)")
	cacheDir := fs.String("cache-dir", "", "configs: lab credentials cache `DIR` (default: the user cache directory, as 'fhkey demo')")
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if err := parseFlags(env, fs, args); err != nil {
			return err
		}
		return fmt.Errorf("%w: a subcommand is required: up, down, move, status or configs", errUsage)
	}
	sub := args[0]
	if err := parseFlags(env, fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	if !testbedPrefix.MatchString(*prefix) {
		return fmt.Errorf("%w: --prefix: %v: %q", errUsage, testbed.ErrPrefix, *prefix)
	}
	var router testbed.Node
	switch sub {
	case "up", "down", "status":
	case "configs":
		if *out == "" {
			return fmt.Errorf("%w: configs: --out DIR is required", errUsage)
		}
		if *fwdLifetime < time.Second || *fwdLifetime > 65535*time.Second || *fwdLifetime%time.Second != 0 {
			return fmt.Errorf("%w: --forwarding-lifetime %v: want whole seconds from 1s to 65535s", errUsage, *fwdLifetime)
		}
	case "move":
		switch *to {
		case "nar":
			router = testbed.NAR
		case "par":
			router = testbed.PAR
		default:
			return fmt.Errorf("%w: --to %q: want nar or par", errUsage, *to)
		}
	default:
		return fmt.Errorf("%w: unknown subcommand %q: want up, down, move, status or configs", errUsage, sub)
	}
	if err := requireRoot(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	switch sub {
	case "up":
		start := time.Now()
		tb, err := testbed.Up(ctx, testbed.Config{Prefix: *prefix, Attacker: *attacker})
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "testbed %s up in %s: namespaces %s\n", tb.Prefix(), demo.FormatDuration(time.Since(start)), namespaceList(tb))
		return nil
	case "down":
		if err := testbed.Down(ctx, *prefix); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "testbed %s down\n", *prefix)
		return nil
	case "move":
		tb, err := openTestbed(ctx, *prefix)
		if err != nil {
			return err
		}
		start := time.Now()
		if err := tb.Attach(ctx, router); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "MN attached to the %s's link in %s\n", strings.ToUpper(string(router)), demo.FormatDuration(time.Since(start)))
		return nil
	case "configs":
		return testbedConfigs(ctx, env, *prefix, *out, *cacheDir, scenario.DaemonOptions{HTTP: *httpAddr, ForwardingLifetime: *fwdLifetime})
	}
	tb, err := openTestbed(ctx, *prefix)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "testbed %s: namespaces %s\nMN attached to the %s's link\n", tb.Prefix(), namespaceList(tb), strings.ToUpper(string(tb.AttachedTo())))
	for _, n := range tb.Nodes() {
		out, err := tb.IP(ctx, n, "-br", "-6", "addr", "show")
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "\n%s:\n", tb.Namespace(n))
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if l != "" && !strings.HasPrefix(l, "lo ") {
				fmt.Fprintf(env.Stdout, "  %s\n", strings.Join(strings.Fields(l), " "))
			}
		}
	}
	return nil
}

// openTestbed opens the testbed of prefix, with its attacker namespace when
// there is one.
func openTestbed(ctx context.Context, prefix string) (*testbed.Testbed, error) {
	tb, err := testbed.Open(ctx, testbed.Config{Prefix: prefix, Attacker: true})
	if err == nil || !errors.Is(err, testbed.ErrNotUp) {
		return tb, err
	}
	tb, err = testbed.Open(ctx, testbed.Config{Prefix: prefix})
	if errors.Is(err, testbed.ErrNotUp) {
		return nil, fmt.Errorf("%w (run 'fhkey testbed up --prefix %s' first)", err, prefix)
	}
	return tb, err
}

func namespaceList(tb *testbed.Testbed) string {
	var ns []string
	for _, n := range tb.Nodes() {
		ns = append(ns, tb.Namespace(n))
	}
	return strings.Join(ns, " ")
}

// testbedConfigs assigns the lab CGAs on the testbed of prefix and writes
// the daemons' files in dir (scenario.WriteDaemonFiles).
func testbedConfigs(ctx context.Context, env *Env, prefix, dir, cacheDir string, o scenario.DaemonOptions) error {
	tb, err := openTestbed(ctx, prefix)
	if err != nil {
		return err
	}
	if cacheDir == "" {
		if cacheDir, err = lab.DefaultDir(); err != nil {
			return err
		}
	}
	creds, err := lab.Load(ctx, cacheDir, nil)
	if err != nil {
		return err
	}
	if err := scenario.AssignCGAs(ctx, tb, creds); err != nil {
		return err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	f, err := scenario.WriteDaemonFiles(abs, creds, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "CGAs assigned: PAR %s, NAR %s, MN %s (%s), %s (%s)\n", creds.PAR.CGA.Address, creds.NAR.CGA.Address,
		creds.MN.PCoA.Address, testbed.IfaceMNToPAR, creds.MN.NCoA.Address, testbed.IfaceMNToNAR)
	fmt.Fprintf(env.Stdout, "credentials and configurations written in %s; run, each in its own terminal:\n", f.Dir)
	fmt.Fprintf(env.Stdout, "  ip netns exec %s fhkey ar -c %s\n", tb.Namespace(testbed.PAR), f.PAR)
	fmt.Fprintf(env.Stdout, "  ip netns exec %s fhkey ar -c %s\n", tb.Namespace(testbed.NAR), f.NAR)
	fmt.Fprintf(env.Stdout, "  ip netns exec %s fhkey mn -c %s\n", tb.Namespace(testbed.MN), f.MN)
	fmt.Fprintf(env.Stdout, "then 'fhkey testbed move --prefix %s': the MN daemon sends its FBU to the PAR", prefix)
	if o.HTTP != "" {
		fmt.Fprintf(env.Stdout, "; metrics: ip netns exec %s curl -s http://%s/metrics", tb.Namespace(testbed.PAR), o.HTTP)
	}
	fmt.Fprintln(env.Stdout)
	return nil
}
