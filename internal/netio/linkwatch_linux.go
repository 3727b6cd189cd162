package netio

import (
	"context"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// WatchLinks reports the changes of links, IPv6 addresses and IPv6 routes
// of the network namespace of the calling thread: a netlink route socket
// joined to RTNLGRP_LINK, RTNLGRP_IPV6_IFADDR and RTNLGRP_IPV6_ROUTE
// (rtnetlink(7)). Each batch of notifications sends on the returned
// channel, which holds one pending signal (bursts coalesce), until ctx
// ends. The mobile node re-examines its interfaces on each signal instead
// of waiting for its next poll: a new link is detected when the kernel
// reports it, not up to a polling interval later.
func WatchLinks(ctx context.Context) (<-chan struct{}, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netio: link watch: netlink socket: %w", err)
	}
	groups := uint32(unix.RTMGRP_LINK | unix.RTMGRP_IPV6_IFADDR | unix.RTMGRP_IPV6_ROUTE)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: groups}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("netio: link watch: bind: %w", err)
	}
	// A non-blocking descriptor gives a File served by the runtime's
	// poller, so that Close wakes a pending Read.
	f := os.NewFile(uintptr(fd), "netlink-route")
	ch := make(chan struct{}, 1)
	go func() {
		<-ctx.Done()
		f.Close()
	}()
	go func() {
		buf := make([]byte, 1<<16)
		for {
			if _, err := f.Read(buf); err != nil {
				// ENOBUFS (notifications lost) means "look again"; any
				// other error ends the watch, and the caller's polling
				// carries on.
				if ctx.Err() != nil || !errors.Is(err, unix.ENOBUFS) {
					return
				}
			}
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	return ch, nil
}
