package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/fhkey/fhkey/internal/demo"
	"github.com/fhkey/fhkey/internal/testbed"
)

// runDemoNetns runs `fhkey demo --netns` and prints its outcome.
func runDemoNetns(ctx context.Context, env *Env, jsonOut bool, o demo.NetnsOptions) error {
	if err := requireRoot(); err != nil {
		return err
	}
	if !testbedPrefix.MatchString(o.Prefix) {
		return fmt.Errorf("%w: --prefix: %v: %q", errUsage, testbed.ErrPrefix, o.Prefix)
	}
	var out io.Writer = env.Stdout
	if jsonOut {
		out = nil
	}
	sum, _ := demo.New(out, nil).RunNetns(ctx, o)
	oc := sum.Outcome
	if jsonOut {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(&sum); err != nil {
			return err
		}
	} else {
		yes := map[bool]string{true: "yes", false: "NO"}
		fmt.Fprintf(env.Stdout, "\nkey provisioned: %s   FBU accepted: %s   stream redirected: %s (%d/%d)\nforged FBU rejected: %s   attacker received nothing: %s\n",
			yes[oc.KeyProvisioned], yes[oc.FBUAccepted], yes[oc.StreamRedirected], sum.Packets.Redirected.Received, sum.Packets.Redirected.Sent,
			yes[oc.ForgedFBURejected], yes[oc.AttackerGotNothing])
		if o.Keep {
			fmt.Fprintf(env.Stdout, "testbed %s kept: 'fhkey testbed status --prefix %s', 'fhkey testbed down --prefix %s'\n", o.Prefix, o.Prefix, o.Prefix)
		}
	}
	if !sum.OK {
		return &exitError{code: 1, err: errors.New(sum.Error)}
	}
	return nil
}
