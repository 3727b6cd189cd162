// Package cli implements the fhkey command line: one subcommand per file,
// dispatched from the table below. Run is what cmd/fhkey calls; tests call it
// directly with their own streams.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Env is what a subcommand gets: its streams. Nothing else is global.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// command is one subcommand. run receives the arguments after the command name.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

// commands lists every subcommand. Add one line per command; the
// implementation lives in cmd_<name>.go.
var commands = []command{
	{"demo", "run the handover-key walk-through (no root needed)", runDemo},
	{"keygen", "generate an RSA key pair (PEM) for CGAs and SEND", runKeygen},
	{"cga", "generate (gen) and verify (verify) CGAs, RFC 3972", runCGA},
	{"pki", "create and check a SEND lab PKI (trust anchor, router certificates)", runPKI},
	{"decode", "decode ICMPv6 ND/FMIPv6 and Mobility Header packets (pcap or hex)", runDecode},
	{"samples", "write sample pcaps of every message and option type", runSamples},
	{"testbed", "build, move and remove the network-namespace testbed (root)", runTestbed},
	{"bench", "measure FBU round trip, forwarding, FBU throughput, flood resistance on the testbed (root)", runBench},
	{"ar", "run the access router daemon: handover keys, FBU/FBack, forwarding (-c FILE, --check)", runAR},
	{"mn", "run the mobile node daemon: keys, handover detection, FBU (-c FILE, --check)", runMN},
	{"mip6", "run the RFC 6618 mobile node: TLS bootstrap with the HAC, protected BU, UDP tunnel to the HA (-c FILE, --check)", runMIP6},
	{"aaa", "shared-key (AAA) handover keys: derive the HIK and HK (gprf+)", runAAA},
	{"msk", "MSK-derived FBU key (EAP): derive the FHK (prf+, RFC 7296 §2.13)", runMSK},
	{"hac", "Home Agent Controller (RFC 6618): TLS bootstrap of MN-HA SAs, check hac.toml, manage subscribers", runHAC},
	{"hks", "Handover Key Server (AAA mode): check hks.toml, manage subscribers (subscriber add|remove|list)", runHKS},
	{"ha", "run the RFC 6618 home agent: SAs from the HAC, BU/BA and data over UDP 7872 (-c FILE, --check)", runHA},
	{"version", "print the fhkey version", runVersion},
}

// Version is set at build time with -ldflags "-X github.com/fhkey/fhkey/internal/cli.Version=...".
var Version = "dev"

// errUsage marks a usage error: the message is printed and the exit code is 2.
var errUsage = errors.New("usage")

// exitError carries an explicit exit code (1 unless set).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// Run executes fhkey with args (without the program name) and returns the
// process exit code: 0 success, 1 failure, 2 usage error.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	env := &Env{Stdin: stdin, Stdout: stdout, Stderr: stderr}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || args[0] == "help" {
		if len(args) > 1 && args[0] == "help" {
			return Run(ctx, []string{args[1], "--help"}, stdin, stdout, stderr)
		}
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, env, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			fmt.Fprintf(stderr, "fhkey %s: %v\n", c.name, err)
			return 2
		default:
			fmt.Fprintf(stderr, "fhkey %s: %v\n", c.name, err)
			var ee *exitError
			if errors.As(err, &ee) && ee.code != 0 {
				return ee.code
			}
			return 1
		}
	}
	fmt.Fprintf(stderr, "fhkey: unknown command %q (run 'fhkey --help')\n", args[0])
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "fhkey — secure Mobile IPv6 fast-handover keys (RFC 5269, RFC 5568 and friends)\n\n")
	fmt.Fprintf(w, "Usage: fhkey COMMAND [flags]\n\nCommands:\n")
	cs := append([]command(nil), commands...)
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'fhkey COMMAND --help' for the flags of a command.\n")
}

// newFlagSet returns a FlagSet whose --help output goes to env.Stdout and
// starts with the command's synopsis and description.
func newFlagSet(env *Env, name, synopsis, description string) *flag.FlagSet {
	fs := flag.NewFlagSet("fhkey "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: fhkey %s %s\n\n%s\n", name, synopsis, strings.TrimSpace(description))
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintf(out, "\nFlags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args; --help prints the usage to stdout and returns flag.ErrHelp.
func parseFlags(env *Env, fs *flag.FlagSet, args []string) error {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "--help" || a == "-help" {
			fs.SetOutput(env.Stdout)
			fs.Usage()
			return flag.ErrHelp
		}
	}
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}

// runSubcommand runs the subcommand args[0] of a command whose usage text
// is usage: help prints usage to stdout (flag.ErrHelp); a missing or
// unknown subcommand prints it to stderr and is a usage error.
func runSubcommand(env *Env, usage string, args []string, subs map[string]func(args []string) error) error {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		names := make([]string, 0, len(subs))
		for n := range subs {
			names = append(names, n)
		}
		sort.Strings(names)
		return fmt.Errorf("%w: missing subcommand %s", errUsage, strings.Join(names, ", "))
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(env.Stdout, usage)
		return flag.ErrHelp
	}
	if run, ok := subs[args[0]]; ok {
		return run(args[1:])
	}
	fmt.Fprint(env.Stderr, usage)
	return fmt.Errorf("%w: unknown subcommand %q", errUsage, args[0])
}
