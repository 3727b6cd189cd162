package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/fhkey/fhkey/internal/samples"
)

func runSamples(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "samples", "--out DIR", `Write the sample captures (classic pcap, raw IPv6) to DIR: every ICMPv6
message and ND option of package ndp and every Mobility Header message and
mobility option of package mh, each inside a message it belongs to, with
SEND signatures, CGAs and BADF authenticators computed from fixed example
keys. Open them in Wireshark, or decode them with 'fhkey decode FILE'.
The draft HKReq/HKResp (no Wireshark dissector) are in a file of their own.`)
	out := fs.String("out", "", "directory to write the pcap files to (created if missing)")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 0 {
		return fmt.Errorf("%w: --out DIR is required and no arguments are taken", errUsage)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	files, err := samples.Write(*out)
	if err != nil {
		return err
	}
	for _, f := range files {
		fmt.Fprintf(env.Stdout, "%s\t%d packets\t%s\n", f.Path, len(f.Packets), f.Description)
	}
	return nil
}
