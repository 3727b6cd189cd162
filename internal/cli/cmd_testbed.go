package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/fhkey/fhkey/internal/testbed"
)

const testbedDescription = `Build, move and remove the network-namespace testbed (root only):

  up      create the namespaces <prefix>mn, par, nar, cn (and atk with
          --attacker), their veth links, bridges, addresses and routes
  down    remove every namespace of the prefix (idempotent)
  move    attach the MN to the NAR's link (--to nar, the default) or back
          to the PAR's link (--to par)
  status  show the namespaces, the MN's link and the addresses

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
	fs := newFlagSet(env, "testbed", "up|down|move|status [flags]", testbedDescription)
	prefix := fs.String("prefix", testbed.DefaultPrefix, `namespace name prefix: "fhk-" or "fhk-<letters/digits>-"`)
	attacker := fs.Bool("attacker", false, "up: add the attacker namespace on the NAR's link")
	to := fs.String("to", "nar", "move: the router whose link the MN attaches to (nar or par)")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if err := parseFlags(env, fs, args); err != nil {
			return err
		}
		return fmt.Errorf("%w: a subcommand is required: up, down, move or status", errUsage)
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
		return fmt.Errorf("%w: unknown subcommand %q: want up, down, move or status", errUsage, sub)
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
		fmt.Fprintf(env.Stdout, "testbed %s up in %s: namespaces %s\n", tb.Prefix(), fmtDuration(time.Since(start)), namespaceList(tb))
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
		fmt.Fprintf(env.Stdout, "MN attached to the %s's link in %s\n", strings.ToUpper(string(router)), fmtDuration(time.Since(start)))
		return nil
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
