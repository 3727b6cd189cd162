package testbed

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// CommandError is a failed external command with what it wrote to stderr.
type CommandError struct {
	Args   []string
	Stderr string
	Err    error
}

func (e *CommandError) Error() string {
	return fmt.Sprintf("testbed: %s: %v: %s", strings.Join(e.Args, " "), e.Err, strings.TrimSpace(e.Stderr))
}

func (e *CommandError) Unwrap() error { return e.Err }

// runIP runs ip with args and returns its stdout.
func runIP(ctx context.Context, args ...string) (string, error) {
	path, err := exec.LookPath("ip")
	if err != nil {
		return "", &CommandError{Args: append([]string{"ip"}, args...), Err: err}
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), &CommandError{Args: append([]string{"ip"}, args...), Stderr: stderr.String(), Err: err}
	}
	return stdout.String(), nil
}
