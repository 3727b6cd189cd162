//go:build linux

package scenario

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/fhkey/fhkey/internal/testbed"
)

// ListenTunnel opens a raw IPv6 socket of protocol 41 (IPv6-in-IPv6) in
// node's namespace and counts every tunnel packet addressed to the node.
func ListenTunnel(tb *testbed.Testbed, node testbed.Node) (*TunnelSink, error) {
	t := &TunnelSink{fd: -1, done: make(chan struct{})}
	if err := tb.Do(node, func() error {
		fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 41)
		if err != nil {
			return sinkError("socket", err)
		}
		// A receive timeout lets the reader notice Close.
		tv := unix.NsecToTimeval((100 * time.Millisecond).Nanoseconds())
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
			unix.Close(fd)
			return sinkError("SO_RCVTIMEO", err)
		}
		t.fd = fd
		return nil
	}); err != nil {
		return nil, err
	}
	stop := make(chan struct{})
	t.stop = stop
	go func() {
		defer close(t.done)
		buf := make([]byte, 2048)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if n, _, err := unix.Recvfrom(t.fd, buf, 0); err == nil && n > 0 {
				t.mu.Lock()
				t.count++
				t.mu.Unlock()
			}
		}
	}()
	return t, nil
}

// Close closes the socket.
func (t *TunnelSink) Close() error {
	close(t.stop)
	<-t.done
	return unix.Close(t.fd)
}
