//go:build linux

package testbed

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// netnsDir is where iproute2 keeps named network namespaces.
const netnsDir = "/var/run/netns"

// Do runs fn on an OS thread that has entered the named network namespace
// (one made by `ip netns add`), then returns the thread to its namespace.
// Sockets fn opens stay in that namespace for their whole life, whichever
// thread uses them later, so this is how a netio transport is opened for a
// node. Goroutines fn starts do not run in the namespace. If the thread
// cannot be returned, it is left locked so that the runtime discards it.
func Do(netns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("testbed: current network namespace: %w", err)
			return
		}
		defer orig.Close()
		target, err := os.Open(filepath.Join(netnsDir, netns))
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("testbed: network namespace %q: %w", netns, err)
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("testbed: setns %q: %w", netns, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			// Stay locked: the goroutine exits and the runtime ends the thread.
			errc <- errors.Join(ferr, fmt.Errorf("testbed: leaving network namespace %q: %w", netns, err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

func namespaceExists(name string) bool {
	_, err := os.Stat(filepath.Join(netnsDir, name))
	return err == nil
}

// writeSysctl writes v to /proc/sys/<path> in the calling thread's network
// namespace (run it under Do).
func writeSysctl(path, v string) error {
	if err := os.WriteFile(filepath.Join("/proc/sys", path), []byte(v), 0o644); err != nil {
		return fmt.Errorf("testbed: sysctl %s=%s: %w", path, v, err)
	}
	return nil
}
