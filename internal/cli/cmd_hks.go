package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/daemon"
	"github.com/fhkey/fhkey/internal/hks/subscribers"
	"github.com/fhkey/fhkey/internal/node"
)

const hksUsage = `Usage: fhkey hks -c FILE [--check]
       fhkey hks subscriber add|remove|list [flags]

The Handover Key Server of draft-vidya-mipshop-handover-keys-aaa-04
(docs/aaa.md, "The Handover Key Server"); sample: examples/hks.toml,
systemd unit: examples/fhkey-hks.service.

  -c FILE           run the daemon: answer the access routers' key requests
                    over RADIUS (UDP, listen; port 0: any free port, shown in
                    /status) from the [[client]] addresses, each with its
                    shared secret: check the MN-HKS MAC, the Timestamp and
                    the authorization, derive the handover key and return it
                    salt-encrypted. No privilege needed (1812 is not a
                    privileged port). SIGTERM/SIGINT stop; SIGHUP reloads:
                    log.level and the [[client]] list with its secret files
                    apply at once, other changes are logged and take effect
                    at the next restart. /readyz, /status, /metrics with
                    [http] listen.
  -c FILE --check   validate FILE and the secret files it names, exit 0 or 1
  subscriber add    add a subscriber (NAI, HMK, authorization)
  subscriber remove remove a subscriber and its replay state
  subscriber list   list the subscribers (HMKs only with --show-key)

Keys, metrics, signals: docs/deployment.md; the protocol: docs/aaa.md.
`

func runHKS(ctx context.Context, env *Env, args []string) error {
	if len(args) > 0 && args[0] == "subscriber" {
		return subscriberCommands(ctx, env, hksUsage, args[1:], runHKSSubscriberAdd, runHKSSubscriberRemove, runHKSSubscriberList)
	}
	fs := newFlagSet(env, "hks", "-c FILE [--check] | subscriber add|remove|list", hksUsage)
	file := fs.String("c", "", "configuration `FILE` (TOML, required)")
	check := fs.Bool("check", false, "validate the configuration and the secret files it names, then exit")
	if err := parseFlagsOnly(env, fs, args); err != nil {
		return err
	}
	if err := required("-c FILE", *file); err != nil {
		return err
	}
	if *check {
		return reportCheck(env.Stdout, *file, config.CheckHKS(*file))
	}
	return daemon.Run(ctx, node.HKSOptions(*file, env.Stderr))
}

// storeFlags are the flags that name the subscriber store.
type storeFlags struct {
	store, config *string
}

func addStoreFlags(fs *flag.FlagSet) storeFlags {
	return storeFlags{
		store:  fs.String("store", "", "the subscriber store: `bolt:PATH` or postgres:DSNFILE (DSNFILE mode 0600)"),
		config: fs.String("c", "", "take the store from the [subscribers] section of hks.toml `FILE`"),
	}
}

func (f storeFlags) open(ctx context.Context) (subscribers.Store, error) {
	var (
		st  config.SubscriberStore
		dsn string
	)
	switch kind, arg, _ := strings.Cut(*f.store, ":"); {
	case (*f.store == "") == (*f.config == ""):
		return nil, fmt.Errorf("%w: give exactly one of --store and -c", errUsage)
	case *f.config != "":
		cfg, err := config.LoadHKS(*f.config)
		if err != nil {
			return nil, err
		}
		st = cfg.Subscribers
	case kind == "bolt" && arg != "":
		st = config.SubscriberStore{Type: config.SubscriberStoreBolt, Path: arg}
	case kind == "postgres" && arg != "":
		st = config.SubscriberStore{Type: config.SubscriberStorePostgres, DSNFile: arg}
	default:
		return nil, fmt.Errorf("%w: --store %q: want bolt:PATH or postgres:DSNFILE", errUsage, *f.store)
	}
	if st.Type == config.SubscriberStorePostgres {
		b, err := config.LoadSecret(st.DSNFile)
		if err != nil {
			return nil, err
		}
		dsn = string(b)
		clear(b)
	}
	return node.OpenSubscribers(ctx, st, dsn)
}

// prefixList is a repeatable --ar-prefix flag.
type prefixList []netip.Prefix

func (p *prefixList) String() string { return fmt.Sprint(*p) }
func (p *prefixList) Set(s string) error {
	v, err := netip.ParsePrefix(s)
	if err != nil || !v.Addr().Is6() || v.Masked() != v {
		return fmt.Errorf("%q: want an IPv6 prefix without host bits, e.g. 2001:db8:1::/64", s)
	}
	*p = append(*p, v)
	return nil
}

func runHKSSubscriberAdd(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "hks subscriber add", "--nai NAI [--hmk-file FILE] [--ar-prefix P]... [--disabled] [--max-lifetime D] [--replace] [--show-key] (--store S | -c FILE)", `
Add a subscriber of the Handover Key Server: its NAI (the MN ID of its
HKReqs), its Handover Master Key and its authorization (docs/aaa.md). The
HMK is read from --hmk-file (hex digits or raw octets, at least 64 octets,
mode 0600) or generated (64 random octets); it is never printed unless
--show-key (then as hex on stdout, to provision the mobile node).
Without --ar-prefix the subscriber is authorized at every AR.`)
	sf := addStoreFlags(fs)
	nai := fs.String("nai", "", "the subscriber's `NAI`, e.g. mn@example.com (required)")
	hmkFile := fs.String("hmk-file", "", "read the HMK from `FILE` instead of generating one")
	var prefixes prefixList
	fs.Var(&prefixes, "ar-prefix", "authorize the subscriber only at ARs in `PREFIX` (repeatable)")
	disabled := fs.Bool("disabled", false, "store the subscriber disabled (every request ADMINISTRATIVELY_PROHIBITED)")
	maxLifetime := fs.Duration("max-lifetime", 0, "cap the lifetime of the subscriber's HKs at `D` (whole seconds; 0: the server's)")
	replace := fs.Bool("replace", false, "replace an existing subscriber of that NAI (its replay state is kept)")
	showKey := fs.Bool("show-key", false, "print the HMK (hex) on stdout")
	if err := parseFlagsOnly(env, fs, args); err != nil {
		return err
	}
	if err := required("--nai", *nai); err != nil {
		return err
	}
	var hmk []byte
	if *hmkFile != "" {
		var err error
		if hmk, err = config.LoadHMK(*hmkFile); err != nil {
			return err
		}
	} else {
		hmk = make([]byte, 64)
		if _, err := rand.Read(hmk); err != nil {
			return err
		}
	}
	defer clear(hmk)
	s := &subscribers.Subscriber{NAI: *nai, HMK: hmk, Enabled: !*disabled, ARPrefixes: prefixes, MaxLifetime: *maxLifetime}
	if err := s.Validate(); err != nil {
		return err
	}
	store, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	if !*replace {
		switch _, err := store.Get(ctx, *nai); {
		case err == nil:
			return fmt.Errorf("subscriber %q exists (--replace to replace it)", *nai)
		case !errors.Is(err, subscribers.ErrUnknownSubscriber):
			return err
		}
	}
	if err := store.Put(ctx, s); err != nil {
		return err
	}
	if *showKey {
		fmt.Fprintf(env.Stdout, "%s\n", hex.EncodeToString(hmk))
	}
	return nil
}

func runHKSSubscriberRemove(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "hks subscriber remove", "--nai NAI (--store S | -c FILE)", `
Remove a subscriber of the Handover Key Server and its replay state.`)
	sf := addStoreFlags(fs)
	nai := fs.String("nai", "", "the subscriber's `NAI` (required)")
	if err := parseFlagsOnly(env, fs, args); err != nil {
		return err
	}
	if err := required("--nai", *nai); err != nil {
		return err
	}
	store, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	return store.Delete(ctx, *nai)
}

// hksSubscriberJSON is one subscriber of 'fhkey hks subscriber list --json'.
type hksSubscriberJSON struct {
	NAI           string   `json:"nai"`
	Enabled       bool     `json:"enabled"`
	ARPrefixes    []string `json:"ar_prefixes"`
	MaxLifetime   int64    `json:"max_lifetime_s"`
	LastTimestamp string   `json:"last_timestamp,omitempty"`
	HMK           string   `json:"hmk,omitempty"`
}

func runHKSSubscriberList(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "hks subscriber list", "[--show-key] [--json] (--store S | -c FILE)", `
List the subscribers of the Handover Key Server ordered by NAI: whether
enabled, the AR prefixes they are authorized at (any when none), the HK
lifetime cap and the last accepted Timestamp. HMKs only with --show-key.`)
	sf := addStoreFlags(fs)
	showKey := fs.Bool("show-key", false, "also print each HMK (hex)")
	asJSON := fs.Bool("json", false, "print a JSON array")
	if err := parseFlagsOnly(env, fs, args); err != nil {
		return err
	}
	store, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	subs, err := store.List(ctx, *showKey)
	if err != nil {
		return err
	}
	out := make([]hksSubscriberJSON, 0, len(subs))
	for i := range subs {
		s := &subs[i]
		o := hksSubscriberJSON{NAI: s.NAI, Enabled: s.Enabled, ARPrefixes: []string{}, MaxLifetime: int64(s.MaxLifetime / time.Second)}
		for _, p := range s.ARPrefixes {
			o.ARPrefixes = append(o.ARPrefixes, p.String())
		}
		if ts, ok, err := store.LastTimestamp(ctx, s.NAI); err == nil && ok {
			o.LastTimestamp = ts.Time().Format(time.RFC3339Nano)
		}
		if *showKey {
			o.HMK = hex.EncodeToString(s.HMK)
			s.Zero()
		}
		out = append(out, o)
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	header := "NAI\tENABLED\tAR PREFIXES\tMAX LIFETIME\tLAST TIMESTAMP"
	if *showKey {
		header += "\tHMK"
	}
	fmt.Fprintln(tw, header)
	for _, o := range out {
		prefixes, lifetime, last := "any", "-", o.LastTimestamp
		if len(o.ARPrefixes) > 0 {
			prefixes = strings.Join(o.ARPrefixes, ",")
		}
		if o.MaxLifetime > 0 {
			lifetime = (time.Duration(o.MaxLifetime) * time.Second).String()
		}
		if last == "" {
			last = "-"
		}
		line := fmt.Sprintf("%s\t%v\t%s\t%s\t%s", o.NAI, o.Enabled, prefixes, lifetime, last)
		if *showKey {
			line += "\t" + o.HMK
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// parseFlagsOnly parses args, which must hold flags only.
func parseFlagsOnly(env *Env, fs *flag.FlagSet, args []string) error {
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
}

// required is a usage error when the flag's value is empty.
func required(flag, v string) error {
	if v == "" {
		return fmt.Errorf("%w: %s is required", errUsage, flag)
	}
	return nil
}
