package forward

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/fhkey/fhkey/internal/inet"
)

func openTUN(cfg *TUNConfig) (dev packetDevice, name string, routes routerCloser, sender tunnelSender, err error) {
	h, err := openHandle()
	if err != nil {
		return nil, "", nil, nil, err
	}
	f, name, ifindex, err := openTUNDevice(h, cfg.Name, cfg.MTU)
	if err != nil {
		h.Close()
		return nil, "", nil, nil, err
	}
	s, err := openRawSender()
	if err != nil {
		h.Close()
		f.Close()
		return nil, "", nil, nil, err
	}
	return f, name, &routeSocket{h: h, ifindex: ifindex, ifname: name}, s, nil
}

func openDecapsulator(cfg *DecapsulatorConfig) (packetDevice, string, tunnelConn, error) {
	h, err := openHandle()
	if err != nil {
		return nil, "", nil, err
	}
	f, name, _, err := openTUNDevice(h, cfg.Name, cfg.MTU)
	h.Close()
	if err != nil {
		return nil, "", nil, err
	}
	// A raw socket for protocol 41 receives a copy of every IPv6-in-IPv6
	// packet delivered to this node, starting after the tunnel header and
	// its extension headers (IPv6 raw sockets never include the IPv6
	// header, RFC 3542 §3). Having a raw socket consume it also keeps the
	// kernel from answering "unrecognized Next Header" when no tunnel
	// module handles protocol 41.
	laddr := &net.IPAddr{IP: net.IPv6unspecified}
	if cfg.Local.IsValid() {
		laddr = &net.IPAddr{IP: cfg.Local.AsSlice(), Zone: cfg.Local.Zone()}
	}
	c, err := net.ListenIP(fmt.Sprintf("ip6:%d", inet.ProtocolIPv6), laddr)
	if err != nil {
		f.Close()
		return nil, "", nil, fmt.Errorf("forward: decapsulator: raw socket for protocol 41: %w", err)
	}
	return f, name, ipConn{c}, nil
}

// ipConn adapts *net.IPConn to tunnelConn.
type ipConn struct{ *net.IPConn }

func (c ipConn) readFrom(b []byte) (int, netip.Addr, error) {
	n, a, err := c.ReadFromIP(b)
	if err != nil {
		return 0, netip.Addr{}, err
	}
	src, _ := netip.AddrFromSlice(a.IP)
	return n, src, nil
}

// openTUNDevice creates a TUN device without packet information
// (IFF_TUN|IFF_NO_PI), sets its MTU and brings it up through h. The
// descriptor is non-blocking, so that the returned *os.File uses the
// runtime poller and honours read deadlines; closing it deletes the device
// and its routes.
//
// The device is created with the TUNSETIFF ioctl, not the library's
// netlink.LinkAdd(&netlink.Tuntap{...}): that also issues TUNSETOWNER and
// TUNSETGROUP, reports errors without wrapping the errno, truncates a long
// name silently, and returns the descriptor only for a multi-queue device.
func openTUNDevice(h *netlink.Handle, name string, mtu int) (*os.File, string, int, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, "", 0, fmt.Errorf("forward: open /dev/net/tun: %w", err)
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return nil, "", 0, fmt.Errorf("%w: TUN name %q: %w", ErrInvalid, name, err)
	}
	ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return nil, "", 0, fmt.Errorf("forward: TUNSETIFF %q: %w", name, err)
	}
	name = ifr.Name()
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, "", 0, fmt.Errorf("forward: %s: set non-blocking: %w", name, err)
	}
	f := os.NewFile(uintptr(fd), "/dev/net/tun:"+name)
	ifindex, err := configureLink(h, name, mtu)
	if err != nil {
		f.Close()
		return nil, "", 0, err
	}
	return f, name, ifindex, nil
}

// addrGenModeNone is IN6_ADDR_GEN_MODE_NONE (linux/if_link.h).
const addrGenModeNone = 1

// configureLink turns IPv6 address generation off on the interface, sets
// its MTU, brings it up ("ip link set NAME addrgenmode none mtu MTU up")
// and returns its index.
func configureLink(h *netlink.Handle, name string, mtu int) (int, error) {
	link, err := h.LinkByName(name)
	if err != nil {
		return 0, fmt.Errorf("forward: %s: %w", name, err)
	}
	// No IPv6 link-local address on the device, so the stack sends no MLD
	// reports into it that the forwarder would read and drop. Set before
	// the device goes up. Best effort: it fails where IPv6 is disabled.
	_ = h.LinkSetIP6AddrGenMode(link, addrGenModeNone)
	if err := h.LinkSetMTU(link, mtu); err != nil {
		return 0, fmt.Errorf("forward: %s: set MTU %d: %w", name, mtu, err)
	}
	if err := h.LinkSetUp(link); err != nil {
		return 0, fmt.Errorf("forward: %s: set up: %w", name, err)
	}
	return link.Attrs().Index, nil
}

// rawSender sends complete IPv6 packets: on Linux a raw IPv6 socket of
// protocol IPPROTO_RAW (255) has IPV6_HDRINCL set by the kernel, so the
// buffer given to sendto starts with our IPv6 header and is sent as is
// (the kernel routes it by the sendto address and does not fragment it:
// a tunnel packet larger than the path MTU fails with EMSGSIZE).
type rawSender struct{ fd int }

func openRawSender() (*rawSender, error) {
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
	if err != nil {
		return nil, fmt.Errorf("forward: raw IPv6 socket (IPPROTO_RAW): %w", err)
	}
	return &rawSender{fd: fd}, nil
}

func (s *rawSender) send(pkt []byte, exit netip.Addr) error {
	sa := unix.SockaddrInet6{Addr: exit.As16()}
	for {
		err := unix.Sendto(s.fd, pkt, 0, &sa)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("forward: send tunnel packet to %v: %w", exit, err)
		}
		return nil
	}
}

func (s *rawSender) Close() error { return unix.Close(s.fd) }
