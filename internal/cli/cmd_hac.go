package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/daemon"
	"github.com/fhkey/fhkey/internal/hac"
	"github.com/fhkey/fhkey/internal/node"
	"github.com/fhkey/fhkey/mip6tls"
)

const hacUsage = `Usage: fhkey hac -c FILE [--check] [--keylog FILE]
       fhkey hac subscriber add|remove|list [flags]

The Home Agent Controller of RFC 6618 (TLS-based Mobile IPv6 security;
docs/tls.md, "fhkey hac"); sample: examples/hac.toml.

  -c FILE           run the daemon: accept the mobile nodes' TLS 1.2/1.3
                    connections on listen (renegotiation refused), run the
                    RFC 6618 §5 exchange with the PSK or EAP method (EAP
                    relayed to the [[radius]] servers), create the MN-HA
                    security association, hand it to the home agent over
                    the mutual-TLS channel of [home_agent] and only then to
                    the MN. Connections are bounded before TLS ([limits]).
                    SIGTERM/SIGINT stop; SIGHUP reloads: the certificate
                    and key, the subscriber file, the channel's client
                    certificate, tls_min_version, the timeouts, [limits]
                    and log.level (new connections; a failed reload
                    changes nothing; other changes at the next restart).
                    /readyz, /status, /metrics with [http] listen.
  -c FILE --check   validate FILE and the certificate, key and secret files
                    it names, exit 0 or 1
  --keylog FILE     append the TLS secrets of every MN connection to FILE
                    (SSLKEYLOGFILE format, mode 0600) so that Wireshark can
                    decrypt the bootstrap; for debugging only
  subscriber add    add a subscriber (identity, methods, PSK, home address);
                    also while the daemon runs: SIGHUP it to apply
  subscriber remove remove a subscriber (the same)
  subscriber list   list the subscribers (PSKs only with --show-key)
`

func runHAC(ctx context.Context, env *Env, args []string) error {
	if len(args) > 0 && args[0] == "subscriber" {
		return subscriberCommands(ctx, env, hacUsage, args[1:], runHACSubscriberAdd, runHACSubscriberRemove, runHACSubscriberList)
	}
	fs := newFlagSet(env, "hac", "-c FILE [--check] [--keylog FILE] | subscriber add|remove|list", hacUsage)
	file := fs.String("c", "", "configuration `FILE` (TOML, required)")
	check := fs.Bool("check", false, "validate the configuration and the files it names, then exit")
	keylog := fs.String("keylog", "", "append the TLS secrets to `FILE` (SSLKEYLOGFILE format)")
	if err := parseFlagsOnly(env, fs, args); err != nil {
		return err
	}
	if err := required("-c FILE", *file); err != nil {
		return err
	}
	if *check {
		return reportCheck(env.Stdout, *file, config.CheckHAC(*file))
	}
	return daemon.Run(ctx, node.HACOptions(*file, *keylog, env.Stderr))
}

// subscriberCommands dispatches "subscriber add|remove|list" of a daemon
// command.
func subscriberCommands(ctx context.Context, env *Env, usage string, args []string, add, remove, list func(context.Context, *Env, []string) error) error {
	return runSubcommand(env, usage, args, map[string]func([]string) error{
		"add":    func(args []string) error { return add(ctx, env, args) },
		"remove": func(args []string) error { return remove(ctx, env, args) },
		"list":   func(args []string) error { return list(ctx, env, args) },
	})
}

// openHACStore opens the subscriber file of --store PATH or of hac.toml.
func openHACStore(store, file string) (*hac.Bolt, error) {
	if (store == "") == (file == "") {
		return nil, fmt.Errorf("%w: give exactly one of --store and -c", errUsage)
	}
	if file != "" {
		cfg, err := config.LoadHAC(file)
		if err != nil {
			return nil, err
		}
		store = cfg.SubscribersPath
	}
	return hac.OpenBolt(store, time.Second)
}

func runHACSubscriberAdd(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "hac subscriber add", "--id NAI [--methods psk,eap] [--psk-file FILE] [--hoa A] [--hnp P] [--dns A] [--replace] [--show-key] (--store PATH | -c FILE)", `
Add a subscriber of the Home Agent Controller: its identity (the mn-id of
RFC 6618 §5.5.1), the methods it may use, its PSK for psk (read from
--psk-file, mode 0600, whose octets are the PSK, or generated: 64
hexadecimal digits from 32 random octets; printed only with --show-key,
as the line to write into the mobile node's psk_file) and its home address, home network
prefix and DNS server (§5.7).`)
	storePath := fs.String("store", "", "the subscriber file `PATH` (bbolt)")
	file := fs.String("c", "", "take the subscriber file from hac.toml `FILE`")
	id := fs.String("id", "", "the subscriber's `NAI`, e.g. mn@example.com (required)")
	methods := fs.String("methods", "psk", "allowed `METHODS`: psk, eap or psk,eap")
	pskFile := fs.String("psk-file", "", "read the PSK from `FILE` instead of generating one")
	hoa := fs.String("hoa", "", "home `ADDRESS`")
	hnp := fs.String("hnp", "", "home network `PREFIX`")
	dns := fs.String("dns", "", "DNS server `ADDRESS`")
	replace := fs.Bool("replace", false, "replace an existing subscriber")
	showKey := fs.Bool("show-key", false, "print the PSK on stdout: the line of the MN's psk_file")
	if err := parseFlagsOnly(env, fs, args); err != nil {
		return err
	}
	if err := required("--id", *id); err != nil {
		return err
	}
	s := hac.Subscriber{Identity: mip6tls.MNIdentifier(*id)}
	for _, m := range strings.Split(*methods, ",") {
		s.Methods = append(s.Methods, mip6tls.AuthMethod(strings.TrimSpace(m)))
	}
	var err error
	for _, a := range []struct {
		flag, v string
		to      *netip.Addr
	}{{"--hoa", *hoa, &s.HomeAddress}, {"--dns", *dns, &s.DNS}} {
		if a.v != "" {
			if *a.to, err = netip.ParseAddr(a.v); err != nil {
				return fmt.Errorf("%w: %s %q: %w", errUsage, a.flag, a.v, err)
			}
		}
	}
	if *hnp != "" {
		if s.HomePrefix, err = netip.ParsePrefix(*hnp); err != nil {
			return fmt.Errorf("%w: --hnp %q: %w", errUsage, *hnp, err)
		}
	}
	if s.Allows(mip6tls.AuthMethodPSK) {
		if *pskFile != "" {
			if s.PSK, err = config.LoadSecret(*pskFile); err != nil {
				return err
			}
		} else {
			// A generated PSK is 64 hexadecimal digits, used as they
			// are: the line --show-key prints is the MN's psk_file,
			// whose octets (white space trimmed) are the PSK
			// (config.LoadSecret).
			raw := make([]byte, 32)
			if _, err := rand.Read(raw); err != nil {
				return err
			}
			s.PSK = []byte(hex.EncodeToString(raw))
			clear(raw)
		}
		defer clear(s.PSK)
	}
	if err := s.Check(); err != nil {
		return err
	}
	store, err := openHACStore(*storePath, *file)
	if err != nil {
		return err
	}
	defer store.Close()
	if !*replace {
		switch _, err := store.Get(ctx, s.Identity); {
		case err == nil:
			return fmt.Errorf("subscriber %q exists (--replace to replace it)", *id)
		case !errors.Is(err, hac.ErrUnknownSubscriber):
			return err
		}
	}
	if err := store.Put(ctx, s); err != nil {
		return err
	}
	if *showKey && len(s.PSK) > 0 {
		fmt.Fprintf(env.Stdout, "%s\n", pskText(s.PSK))
	}
	return nil
}

func runHACSubscriberRemove(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "hac subscriber remove", "--id NAI (--store PATH | -c FILE)", `
Remove a subscriber of the Home Agent Controller.`)
	storePath := fs.String("store", "", "the subscriber file `PATH` (bbolt)")
	file := fs.String("c", "", "take the subscriber file from hac.toml `FILE`")
	id := fs.String("id", "", "the subscriber's `NAI` (required)")
	if err := parseFlagsOnly(env, fs, args); err != nil {
		return err
	}
	if err := required("--id", *id); err != nil {
		return err
	}
	store, err := openHACStore(*storePath, *file)
	if err != nil {
		return err
	}
	defer store.Close()
	return store.Remove(ctx, mip6tls.MNIdentifier(*id))
}

func runHACSubscriberList(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "hac subscriber list", "[--show-key] (--store PATH | -c FILE)", `
List the subscribers of the Home Agent Controller ordered by identity:
methods, home address, prefix, DNS; PSKs only with --show-key.`)
	storePath := fs.String("store", "", "the subscriber file `PATH` (bbolt)")
	file := fs.String("c", "", "take the subscriber file from hac.toml `FILE`")
	showKey := fs.Bool("show-key", false, "also print each PSK (hex)")
	if err := parseFlagsOnly(env, fs, args); err != nil {
		return err
	}
	store, err := openHACStore(*storePath, *file)
	if err != nil {
		return err
	}
	defer store.Close()
	subs, err := store.List(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	header := "ID\tMETHODS\tHOME ADDRESS\tPREFIX\tDNS"
	if *showKey {
		header += "\tPSK"
	}
	fmt.Fprintln(tw, header)
	orDash := func(s string) string {
		if s == "invalid IP" || s == "invalid Prefix" || s == "" {
			return "-"
		}
		return s
	}
	for _, s := range subs {
		ms := make([]string, len(s.Methods))
		for i, m := range s.Methods {
			ms[i] = string(m)
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s", s.Identity, strings.Join(ms, ","), orDash(s.HomeAddress.String()), orDash(s.HomePrefix.String()), orDash(s.DNS.String()))
		if *showKey {
			line += "\t" + orDash(pskText(s.PSK))
		}
		clear(s.PSK)
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// pskText is a PSK as a psk_file holds it: its octets when they are all
// printable and not white space (a generated PSK, or a file's line), else
// "0x" and hexadecimal (a --psk-file with other octets: that file is the
// MN's psk_file).
func pskText(psk []byte) string {
	for _, b := range psk {
		if b < 0x21 || b > 0x7e {
			return "0x" + hex.EncodeToString(psk)
		}
	}
	return string(psk)
}
