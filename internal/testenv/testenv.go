// Package testenv decides whether tests that need outside resources (root,
// network namespaces, tshark, FreeRADIUS, ...) run. Outside CI a missing
// resource skips the test with the reason; with CI=true it fails the test,
// because a silent skip in CI hides a defect.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run under CI (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable skips t outside CI and fails it in CI.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("required in CI but unavailable: "+format, args...)
	}
	t.Skipf("unavailable: "+format, args...)
}

// RequireTool returns the path of the executable name, or stops t as
// Unavailable does.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, "%s not found in PATH (run 'make check' as root to install it)", name)
	}
	return p
}

// RequireRoot stops t as Unavailable does unless the process runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Unavailable(t, "needs root (network namespaces, raw sockets)")
	}
}
