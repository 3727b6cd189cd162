// Command fhkey provisions and uses Mobile IPv6 fast-handover keys
// (RFC 5269, RFC 5568, draft-vidya-mipshop-handover-keys-aaa, RFC 6618).
// All logic lives in internal/cli so that it can be tested.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/fhkey/fhkey/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
