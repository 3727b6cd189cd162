package forward

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"

	"github.com/fhkey/fhkey/internal/inet"
)

func openTUN(cfg *TUNConfig) (dev packetDevice, name string, routes routerCloser, sender tunnelSender, err error) {
	f, name, ifindex, err := openTUNDevice(cfg.Name, cfg.MTU)
	if err != nil {
		return nil, "", nil, nil, err
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	rt, err := openRouteSocket(ifindex, name)
	if err != nil {
		return nil, "", nil, nil, err
	}
	s, err := openRawSender()
	if err != nil {
		rt.Close()
		return nil, "", nil, nil, err
	}
	return f, name, rt, s, nil
}

func openDecapsulator(cfg *DecapsulatorConfig) (packetDevice, string, tunnelConn, error) {
	f, name, _, err := openTUNDevice(cfg.Name, cfg.MTU)
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
// (IFF_TUN|IFF_NO_PI), sets its MTU and brings it up. The descriptor is
// non-blocking, so that the returned *os.File uses the runtime poller and
// honours read deadlines; closing it deletes the device and its routes.
func openTUNDevice(name string, mtu int) (*os.File, string, int, error) {
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
	ifindex, err := configureLink(name, mtu)
	if err != nil {
		f.Close()
		return nil, "", 0, err
	}
	return f, name, ifindex, nil
}

// configureLink sets the MTU of the interface, brings it up and returns its
// index, with interface ioctls on a datagram socket of this namespace.
func configureLink(name string, mtu int) (int, error) {
	s, err := unix.Socket(unix.AF_INET6, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("forward: %s: ioctl socket: %w", name, err)
	}
	defer unix.Close(s)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, fmt.Errorf("forward: %s: %w", name, err)
	}
	// No IPv6 link-local address on the device (IN6_ADDR_GEN_MODE_NONE),
	// so the stack sends no MLD reports into it that the forwarder would
	// read and drop. Best effort: /proc/sys may be read-only or absent.
	_ = os.WriteFile("/proc/sys/net/ipv6/conf/"+name+"/addr_gen_mode", []byte("1"), 0)
	ifr.SetUint32(uint32(mtu))
	if err := unix.IoctlIfreq(s, unix.SIOCSIFMTU, ifr); err != nil {
		return 0, fmt.Errorf("forward: %s: set MTU %d: %w", name, mtu, err)
	}
	if err := unix.IoctlIfreq(s, unix.SIOCGIFFLAGS, ifr); err != nil {
		return 0, fmt.Errorf("forward: %s: get flags: %w", name, err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(s, unix.SIOCSIFFLAGS, ifr); err != nil {
		return 0, fmt.Errorf("forward: %s: set up: %w", name, err)
	}
	if err := unix.IoctlIfreq(s, unix.SIOCGIFINDEX, ifr); err != nil {
		return 0, fmt.Errorf("forward: %s: get index: %w", name, err)
	}
	return int(ifr.Uint32()), nil
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
