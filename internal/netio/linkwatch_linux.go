package netio

import (
	"context"
	"errors"
	"fmt"

	"github.com/vishvananda/netlink/nl"
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
	// One socket for the three groups (the library's Link/Addr/Route
	// subscriptions would open three and decode every message, where a
	// signal is all the caller wants). Its descriptor is served by the
	// runtime's poller, so that Close wakes a pending Receive.
	s, err := nl.Subscribe(unix.NETLINK_ROUTE, unix.RTNLGRP_LINK, unix.RTNLGRP_IPV6_IFADDR, unix.RTNLGRP_IPV6_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netio: link watch: netlink subscribe: %w", err)
	}
	ch := make(chan struct{}, 1)
	go func() {
		<-ctx.Done()
		s.Close()
	}()
	go func() {
		for {
			if _, _, err := s.Receive(); err != nil {
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
