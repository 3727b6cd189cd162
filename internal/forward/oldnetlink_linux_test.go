package forward

// Temporary: main's hand-built rtnetlink route socket, copied to benchmark
// it against the library in the same run. Removed once the figures are taken.

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// oldRouteSocket installs and removes PCoA/128 routes on one interface through
// an rtnetlink socket. The socket belongs to the namespace in which it was
// opened, so the routes land there whatever thread later calls it (an exec
// of ip(8) would run in the namespace of whichever thread forks it).
type oldRouteSocket struct {
	mu      sync.Mutex
	fd      int
	seq     uint32
	ifindex int
	ifname  string
}

func openOldRouteSocket(ifindex int, ifname string) (*oldRouteSocket, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("forward: rtnetlink socket: %w", err)
	}
	tv := unix.Timeval{Sec: 5}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("forward: rtnetlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("forward: rtnetlink bind: %w", err)
	}
	return &oldRouteSocket{fd: fd, ifindex: ifindex, ifname: ifname}, nil
}

// addRoute is "ip -6 route replace PCOA/128 dev IFNAME".
func (r *oldRouteSocket) addRoute(pcoa netip.Addr) error {
	err := r.request(unix.RTM_NEWROUTE, unix.NLM_F_CREATE|unix.NLM_F_REPLACE, pcoa)
	if err != nil {
		return fmt.Errorf("forward: route replace %v/128 dev %s: %w", pcoa, r.ifname, err)
	}
	return nil
}

// delRoute is "ip -6 route del PCOA/128 dev IFNAME"; an absent route is not
// an error.
func (r *oldRouteSocket) delRoute(pcoa netip.Addr) error {
	err := r.request(unix.RTM_DELROUTE, 0, pcoa)
	if err != nil && err != unix.ESRCH && err != unix.ENOENT {
		return fmt.Errorf("forward: route del %v/128 dev %s: %w", pcoa, r.ifname, err)
	}
	return nil
}

func (r *oldRouteSocket) Close() error { return unix.Close(r.fd) }

// request sends one route message and waits for its acknowledgement.
func (r *oldRouteSocket) request(typ uint16, flags uint16, dst netip.Addr) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	seq := r.seq
	ne := binary.NativeEndian
	b := make([]byte, 0, unix.SizeofNlMsghdr+unix.SizeofRtMsg+2*unix.SizeofRtAttr+16+4)
	b = ne.AppendUint32(b, 0) // nlmsg_len, set below
	b = ne.AppendUint16(b, typ)
	b = ne.AppendUint16(b, unix.NLM_F_REQUEST|unix.NLM_F_ACK|flags)
	b = ne.AppendUint32(b, seq)
	b = ne.AppendUint32(b, 0) // nlmsg_pid: the kernel
	b = append(b,
		unix.AF_INET6,          // rtm_family
		128,                    // rtm_dst_len
		0,                      // rtm_src_len
		0,                      // rtm_tos
		unix.RT_TABLE_MAIN,     // rtm_table
		unix.RTPROT_STATIC,     // rtm_protocol
		unix.RT_SCOPE_UNIVERSE, // rtm_scope
		unix.RTN_UNICAST,       // rtm_type
	)
	b = ne.AppendUint32(b, 0) // rtm_flags
	a := dst.As16()
	b = ne.AppendUint16(b, unix.SizeofRtAttr+16)
	b = ne.AppendUint16(b, unix.RTA_DST)
	b = append(b, a[:]...)
	b = ne.AppendUint16(b, unix.SizeofRtAttr+4)
	b = ne.AppendUint16(b, unix.RTA_OIF)
	b = ne.AppendUint32(b, uint32(r.ifindex))
	ne.PutUint32(b[0:4], uint32(len(b)))
	if err := unix.Sendto(r.fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, 4096)
	for {
		n, _, err := unix.Recvfrom(r.fd, buf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.Header.Seq != seq || m.Header.Type != unix.NLMSG_ERROR {
				continue
			}
			if len(m.Data) < 4 {
				return unix.EBADMSG
			}
			if e := int32(ne.Uint32(m.Data[:4])); e != 0 {
				return unix.Errno(-e)
			}
			return nil
		}
	}
}

func init() {
	routeImpls = append(routeImpls, struct {
		name string
		open func(ifindex int, name string) (routerCloser, error)
	}{"hand-built", func(ifindex int, name string) (routerCloser, error) { return openOldRouteSocket(ifindex, name) }})
}
