package peer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrServer is wrapped by the errors of StartServer and Server.Stop.
var ErrServer = errors.New("peer: server")

// serverPoll is how often StartServer checks its readiness condition.
const serverPoll = 10 * time.Millisecond

// serverStopTimeout is how long Stop waits after SIGTERM before SIGKILL.
const serverStopTimeout = 10 * time.Second

// Server is a real program a test talks to — FreeRADIUS, PostgreSQL,
// wpa_supplicant, tcpdump — started from a private directory (its
// configuration, never the system's), waited for on a condition it polls
// with a deadline, and stopped by its PID. Its output (stdout and stderr)
// is kept for failure messages.
type Server struct {
	Name string

	cmd  *exec.Cmd
	out  syncBuffer
	done chan struct{}
	err  error // Wait's, once done is closed
}

// StartServer runs argv in dir and waits until ready(s) returns nil,
// polling every 10 ms, at most until ctx ends. If the program exits first
// or ctx ends, it is stopped and the error says what ready last returned,
// with the program's output.
func StartServer(ctx context.Context, name, dir string, ready func(s *Server) error, argv ...string) (*Server, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("%w: %s: no program", ErrServer, name)
	}
	s := &Server{Name: name, done: make(chan struct{})}
	s.cmd = exec.Command(argv[0], argv[1:]...)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	// Its own process group, so that a stop reaches what it forks.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrServer, name, err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.done) }()
	for {
		last := ready(s)
		if last == nil {
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("%w: %s exited before it was ready (%v); last check: %v\n%s", ErrServer, name, s.err, last, s.Output())
		case <-ctx.Done():
			_ = s.Stop()
			return nil, fmt.Errorf("%w: %s not ready: %w; last check: %v\n%s", ErrServer, name, ctx.Err(), last, s.Output())
		case <-time.After(serverPoll):
		}
	}
}

// Pid is the server's process ID.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Output is what the server has written so far.
func (s *Server) Output() string { return s.out.String() }

// Done is closed when the server has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

// Stop sends SIGTERM to the server's process group and waits for it, for
// at most 10 s before SIGKILL. It returns nil when the server exited on its
// own or by the signal, and is idempotent.
func (s *Server) Stop() error { return s.terminate(serverStopTimeout, false) }

// Terminate is Stop for programs that must handle SIGTERM themselves
// (fhkey's daemons): it waits at most timeout, and any exit status other
// than 0, a death by the signal included, is an error.
func (s *Server) Terminate(timeout time.Duration) error { return s.terminate(timeout, true) }

// Kill ends the server's process group with SIGKILL (no cleanup) and
// waits for it.
func (s *Server) Kill() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = syscall.Kill(-s.Pid(), syscall.SIGKILL)
	<-s.done
}

func (s *Server) terminate(timeout time.Duration, strict bool) error {
	select {
	case <-s.done:
		return s.exitErr(strict)
	default:
	}
	_ = syscall.Kill(-s.Pid(), syscall.SIGTERM)
	select {
	case <-s.done:
		return s.exitErr(strict)
	case <-time.After(timeout):
		s.Kill()
		return fmt.Errorf("%w: %s still running %v after SIGTERM: killed", ErrServer, s.Name, timeout)
	}
}

// exitErr is Wait's error, except (unless strict) an exit by the SIGTERM
// Stop sent.
func (s *Server) exitErr(strict bool) error {
	var ee *exec.ExitError
	if !strict && errors.As(s.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
			return nil
		}
	}
	if s.err != nil {
		return fmt.Errorf("%w: %s: %w", ErrServer, s.Name, s.err)
	}
	return nil
}

// OutputContains is a readiness condition: the server has printed substr
// (a "ready to process requests" line).
func OutputContains(substr string) func(*Server) error {
	return func(s *Server) error {
		if strings.Contains(s.Output(), substr) {
			return nil
		}
		return fmt.Errorf("no %q in its output yet", substr)
	}
}

// TCPListening is a readiness condition: a TCP connection to addr
// succeeds.
func TCPListening(addr string) func(*Server) error {
	return func(*Server) error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	}
}

// Shared is a server started at most once per test binary and shared by
// the tests that need it: the first Get starts it, later calls return the
// same server (or the same error); the package's TestMain calls Close after
// m.Run. This is the slot the interop tests against real peers take:
// each peer's tests live in one package, whose TestMain owns the peer.
type Shared struct {
	start func() (*Server, error)

	once sync.Once
	s    *Server
	err  error
}

// NewShared returns a Shared whose server start starts.
func NewShared(start func() (*Server, error)) *Shared { return &Shared{start: start} }

// Get starts the server on the first call and returns it.
func (sh *Shared) Get() (*Server, error) {
	sh.once.Do(func() { sh.s, sh.err = sh.start() })
	return sh.s, sh.err
}

// Close stops the server if it was started.
func (sh *Shared) Close() error {
	sh.once.Do(func() {}) // no start after Close
	if sh.s == nil {
		return nil
	}
	return sh.s.Stop()
}

// syncBuffer is a bytes.Buffer safe for a program's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
