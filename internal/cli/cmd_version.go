package cli

import (
	"context"
	"fmt"
	"runtime"
)

func runVersion(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "version", "", "Print the fhkey version and the Go version it was built with.")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "fhkey %s (%s)\n", Version, runtime.Version())
	return nil
}
