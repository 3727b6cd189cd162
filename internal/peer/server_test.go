package peer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// serverMode, in a child's environment, makes TestHelperServer act as the
// server StartServer starts: "listen" serves TCP on loopback until SIGTERM,
// "exit" fails at once.
const serverMode = "FHKEY_PEER_SERVER"

func TestHelperServer(t *testing.T) {
	switch os.Getenv(serverMode) {
	case "listen":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGTERM)
		fmt.Printf("ready on %s\n", ln.Addr())
		<-sigs
		os.Exit(0)
	case "unhandled":
		// SIGTERM's default action: death by the signal. Block until
		// then on a signal nobody sends (no timed wait).
		never := make(chan os.Signal, 1)
		signal.Notify(never, syscall.SIGUSR2)
		fmt.Println("ready, SIGTERM not handled")
		<-never
		os.Exit(4)
	case "exit":
		fmt.Println("bad configuration")
		os.Exit(3)
	}
}

func helperServer(mode string) []string {
	return []string{"env", serverMode + "=" + mode, os.Args[0], "-test.run=^TestHelperServer$"}
}

func TestStartServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := StartServer(ctx, "listener", t.TempDir(), OutputContains("ready on "), helperServer("listen")...)
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimSpace(strings.TrimPrefix(s.Output(), "ready on "))
	addr, _, _ = strings.Cut(addr, "\n")
	if err := TCPListening(addr)(s); err != nil {
		t.Fatalf("ready but %s not listening: %v", addr, err)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v\n%s", err, s.Output())
	}
	select {
	case <-s.Done():
	default:
		t.Fatal("Done not closed after Stop")
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if err := TCPListening(addr)(s); err == nil {
		t.Errorf("%s still listening after Stop", addr)
	}
}

func TestStartServerFailures(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := StartServer(ctx, "broken", t.TempDir(), OutputContains("ready on "), helperServer("exit")...)
	if !errors.Is(err, ErrServer) || !strings.Contains(err.Error(), "exited before it was ready") ||
		!strings.Contains(err.Error(), "bad configuration") || !strings.Contains(err.Error(), `no "ready on " in its output yet`) {
		t.Errorf("exiting server: %v", err)
	}

	short, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	_, err = StartServer(short, "never ready", t.TempDir(), OutputContains("never printed"), helperServer("listen")...)
	if !errors.Is(err, ErrServer) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "never printed") {
		t.Errorf("server never ready: %v", err)
	}
	if _, err := StartServer(ctx, "none", t.TempDir(), OutputContains("x")); !errors.Is(err, ErrServer) {
		t.Errorf("no program: %v", err)
	}
}

func TestShared(t *testing.T) {
	starts := 0
	sh := NewShared(func() (*Server, error) {
		starts++
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		return StartServer(ctx, "shared", t.TempDir(), OutputContains("ready on "), helperServer("listen")...)
	})
	a, err := sh.Get()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := sh.Get()
	if a != b || starts != 1 {
		t.Errorf("Get started %d servers", starts)
	}
	if err := sh.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.Done():
	default:
		t.Error("shared server running after Close")
	}
	unused := NewShared(func() (*Server, error) { t.Error("started by Close"); return nil, nil })
	if err := unused.Close(); err != nil {
		t.Error(err)
	}
}

// TestTerminate: Stop accepts a death by its SIGTERM, Terminate (for
// daemons that must handle SIGTERM) only an exit with status 0.
func TestTerminate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := func(mode string) *Server {
		s, err := StartServer(ctx, mode, t.TempDir(), OutputContains("ready"), helperServer(mode)...)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if err := start("listen").Terminate(10 * time.Second); err != nil {
		t.Errorf("clean exit on SIGTERM: %v", err)
	}
	if err := start("unhandled").Stop(); err != nil {
		t.Errorf("Stop, killed by SIGTERM: %v", err)
	}
	if err := start("unhandled").Terminate(10 * time.Second); !errors.Is(err, ErrServer) || !strings.Contains(err.Error(), "terminated") {
		t.Errorf("Terminate, killed by SIGTERM: %v, want an error", err)
	}
	s := start("listen")
	s.Kill()
	select {
	case <-s.Done():
	default:
		t.Error("Done not closed after Kill")
	}
}
