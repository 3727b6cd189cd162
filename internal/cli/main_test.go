package cli

import (
	"context"
	"os"
	"testing"

	"github.com/fhkey/fhkey/internal/testenv"
)

// TestMain lets tests start this binary as fhkey (testenv.Main): `demo
// --netns` runs the daemons as `ip netns exec NS <this binary> ar ...`.
func TestMain(m *testing.M) {
	testenv.Main(m, func(ctx context.Context, args []string) int {
		return Run(ctx, args, os.Stdin, os.Stdout, os.Stderr)
	})
}
