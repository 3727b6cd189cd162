package node

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// addAddress adds addr/128 to the interface named dev without duplicate
// address detection (RTM_NEWADDR with IFA_F_NODAD; an existing address is
// not an error).
func addAddress(dev string, addr netip.Addr) error {
	return changeAddress(unix.RTM_NEWADDR, dev, addr)
}

// deleteAddress removes addr/128 from the interface named dev (RTM_DELADDR;
// an address that is not there is not an error).
func deleteAddress(dev string, addr netip.Addr) error {
	return changeAddress(unix.RTM_DELADDR, dev, addr)
}

// changeAddress sends one RTM_NEWADDR or RTM_DELADDR for addr/128 on dev
// and reads the acknowledgment.
func changeAddress(op uint16, dev string, addr netip.Addr) error {
	ifi, err := net.InterfaceByName(dev)
	if err != nil {
		return err
	}
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	a := addr.As16()
	const hdr, ifa, rta = unix.SizeofNlMsghdr, unix.SizeofIfAddrmsg, 4 + 16
	b := make([]byte, hdr+ifa+rta+8)
	ne := nativeEndian
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], op)
	flags := uint16(unix.NLM_F_REQUEST | unix.NLM_F_ACK)
	if op == unix.RTM_NEWADDR {
		flags |= unix.NLM_F_CREATE | unix.NLM_F_REPLACE
	}
	ne.PutUint16(b[6:], flags)
	ne.PutUint32(b[8:], 1)
	b[hdr] = unix.AF_INET6
	b[hdr+1] = 128
	b[hdr+2] = unix.IFA_F_NODAD
	b[hdr+3] = unix.RT_SCOPE_UNIVERSE
	ne.PutUint32(b[hdr+4:], uint32(ifi.Index))
	o := hdr + ifa
	ne.PutUint16(b[o:], rta)
	ne.PutUint16(b[o+2:], unix.IFA_LOCAL)
	copy(b[o+4:], a[:])
	o += rta
	ne.PutUint16(b[o:], 8)
	ne.PutUint16(b[o+2:], unix.IFA_FLAGS)
	ne.PutUint32(b[o+4:], unix.IFA_F_NODAD)
	if err := unix.Sendto(fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	buf := make([]byte, 4096)
	nr, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	if nr >= hdr+4 && ne.Uint16(buf[4:]) == unix.NLMSG_ERROR {
		errno := unix.Errno(-int32(ne.Uint32(buf[hdr:])))
		switch {
		case errno == 0, op == unix.RTM_NEWADDR && errno == unix.EEXIST, op == unix.RTM_DELADDR && errno == unix.EADDRNOTAVAIL:
		case op == unix.RTM_NEWADDR:
			return fmt.Errorf("netlink: add %s to %s: %w", addr, dev, errno)
		default:
			return fmt.Errorf("netlink: delete %s from %s: %w", addr, dev, errno)
		}
	}
	return nil
}

// nativeEndian is the byte order of netlink headers.
var nativeEndian = binary.NativeEndian

// routeVia reports whether dst can be reached through the interface named
// iface: a UDP socket bound to the device (SO_BINDTODEVICE) is connected to
// dst, which makes the kernel look the route up with that outgoing
// interface; no route through it fails with ENETUNREACH. Nothing is sent.
func routeVia(iface string, dst netip.Addr) bool {
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, iface)
		}); err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.Dial("udp6", netip.AddrPortFrom(dst, 9).String())
	if err != nil {
		return false
	}
	conn.Close()
	return true
}
