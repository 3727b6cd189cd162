package cli

import (
	"context"
	"fmt"
)

func runDemo(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "demo", "[flags]", `Run the handover-key walk-through in one process, without root.
Until the RFC 5269 roles land, it prints the packets of the flow.`)
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, "fhkey demo: packet walk-through")
	return nil
}
