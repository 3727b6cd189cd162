package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/fhkey/fhkey/internal/demo"
	"github.com/fhkey/fhkey/mip6tls"
)

// runDemoTLS runs `fhkey demo --mode tls` and prints its outcome: the
// walk-through's steps (or --json), the pcap, key log and show-keys files.
func runDemoTLS(ctx context.Context, env *Env, jsonOut bool, pcapFile, keyLogFile, showKeys string) error {
	var out io.Writer = env.Stdout
	if jsonOut {
		out = nil
	}
	pcapOut, pcapW, err := createDemoPcap(pcapFile)
	if err != nil {
		return err
	}
	var keyLog io.Writer
	if keyLogFile != "" {
		f, err := os.OpenFile(keyLogFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		keyLog = f
	}
	d := demo.New(out, pcapW)
	runErr := d.RunTLS(ctx, keyLog)
	var shown *mip6tls.ShownSA
	if showKeys != "" && runErr == nil {
		if k := d.TLSKeys(); k != nil {
			b, err := json.MarshalIndent(map[string]any{"sa": k}, "", "  ")
			if err == nil {
				err = writePrivateFile(showKeys, append(b, '\n'), true)
			}
			clear(b)
			if runErr = err; err == nil {
				shown = k
			}
		}
	}
	var closeErr error
	if pcapOut != nil {
		closeErr = pcapOut.Close()
	}
	s := d.FinishTLS(runErr, pcapFile, closeErr)
	if shown != nil { // --show-keys: the file's "sa" in the summary too
		s.Keys, s.SA = showKeys, shown
	}
	if jsonOut {
		if err := printDemoJSON(env, &s); err != nil {
			return err
		}
	} else {
		yes := map[bool]string{true: "yes", false: "NO"}
		o := s.Outcome
		fmt.Fprintf(env.Stdout, "\nbootstrapped: %s   BU acknowledged: %s   data through the HA: %s   tampered rejected: %s   replay rejected: %s\n",
			yes[o.Bootstrapped], yes[o.BindingAcknowledged], yes[o.DataThroughHA], yes[o.TamperedRejected], yes[o.ReplayRejected])
		if pcapFile != "" && s.OK {
			hint := fmt.Sprintf("%d packets written to %s (tshark -r %s -d tcp.port==%d,tls", s.Packets, pcapFile, pcapFile, s.TLSPort)
			if keyLogFile != "" {
				hint += " -o tls.keylog_file:" + keyLogFile
			}
			fmt.Fprintln(env.Stdout, hint+")")
		}
	}
	if !s.OK {
		return &exitError{code: 1, err: errors.New(s.Error)}
	}
	return nil
}
