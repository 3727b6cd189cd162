package testenv

import (
	"context"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
)

// AsCommand, set to "1" in a child's environment, makes a test binary run
// as the command instead of its tests (Main). Tests that start daemons the
// way a user does (`ip netns exec NS fhkey ar -c FILE`) use their own
// binary, which then carries the race detector when the tests do.
const AsCommand = "FHKEY_TEST_AS_COMMAND"

// Main is TestMain for such packages: run as a child, it runs command
// with the arguments after the program name (SIGINT and SIGTERM cancel
// its context) and exits with its code; otherwise it sets AsCommand for
// every child and runs the tests. A child started by the testing package
// itself (a fuzzing worker: its arguments are -test.* flags) runs the
// tests as usual.
func Main(m *testing.M, command func(ctx context.Context, args []string) int) {
	if os.Getenv(AsCommand) == "1" && !testProcess(os.Args[1:]) {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := command(ctx, os.Args[1:])
		stop()
		os.Exit(code)
	}
	os.Setenv(AsCommand, "1")
	os.Exit(m.Run())
}

// testProcess reports whether args are those of a test binary run by the
// testing package (go test, fuzzing workers): flags of the form -test.*,
// where a command starts with its name.
func testProcess(args []string) bool {
	return len(args) == 0 || strings.HasPrefix(args[0], "-test.")
}
