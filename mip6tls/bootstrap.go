package mip6tls

import (
	"net/netip"
	"strconv"
)

// RFC 6618 §5.7: Mobile IPv6 bootstrapping parameters. Each exists for
// IPv6 and IPv4; the address family of the value picks the TV-header name.

// DefaultServicePort is the IANA port "mipv6tls" that the MN uses when the
// HAC sends no mip6-port (RFC 6618 §5.7.2, §8.3).
const DefaultServicePort = 7872

// HomeAgentAddress is RFC 6618 §5.7.1:
//
//	mip6-haa-ip6 = "mip6-haa-ip6" ":" ip6-addr CRLF
//	mip6-haa-ip4 = "mip6-haa-ip4" ":" ip4-addr CRLF
type HomeAgentAddress struct{ Addr netip.Addr }

// Name returns "mip6-haa-ip4" for an IPv4 address, else "mip6-haa-ip6".
func (h HomeAgentAddress) Name() string { return byFamily(h.Addr, "mip6-haa-ip4", "mip6-haa-ip6") }

func (h HomeAgentAddress) appendValue(b []byte) ([]byte, error) { return appendAddr(b, h.Addr) }

// ServicePort is RFC 6618 §5.7.2, the UDP port of the HA:
// mip6-port = "mip6-port" ":" 1*5DIGIT CRLF. Port 0 is refused (no UDP
// service listens there).
type ServicePort uint16

// Name returns "mip6-port".
func (ServicePort) Name() string { return "mip6-port" }

func (p ServicePort) appendValue(b []byte) ([]byte, error) {
	if p == 0 {
		return nil, wrapCause(ErrValue, "mip6-port 0")
	}
	return strconv.AppendUint(b, uint64(p), 10), nil
}

func parseServicePort(v []byte) (Parameter, error) {
	n, err := parseDecimal(v, 5, 1, 65535)
	return ServicePort(n), err
}

// HomeAddress is RFC 6618 §5.7.3:
//
//	mip6-ip6-hoa = "mip6-ip6-hoa" ":" ip6-addr CRLF
//	mip6-ip4-hoa = "mip6-ip4-hoa" ":" ip4-addr CRLF
type HomeAddress struct{ Addr netip.Addr }

// Name returns "mip6-ip4-hoa" for an IPv4 address, else "mip6-ip6-hoa".
func (h HomeAddress) Name() string { return byFamily(h.Addr, "mip6-ip4-hoa", "mip6-ip6-hoa") }

func (h HomeAddress) appendValue(b []byte) ([]byte, error) { return appendAddr(b, h.Addr) }

// HomeNetworkPrefix is RFC 6618 §5.7.3:
//
//	mip6-ip6-hnp = "mip6-ip6-hnp" ":" ip6-prefix CRLF
//	mip6-ip4-hnp = "mip6-ip4-hnp" ":" ip4-subnet CRLF
type HomeNetworkPrefix struct{ Prefix netip.Prefix }

// Name returns "mip6-ip4-hnp" for an IPv4 prefix, else "mip6-ip6-hnp".
func (h HomeNetworkPrefix) Name() string {
	return byFamily(h.Prefix.Addr(), "mip6-ip4-hnp", "mip6-ip6-hnp")
}

func (h HomeNetworkPrefix) appendValue(b []byte) ([]byte, error) { return appendPrefix(b, h.Prefix) }

// DNSServer is RFC 6618 §5.7.4:
//
//	dns-ip6 = "dns-ip6" ":" ip6-addr CRLF
//	dns-ip4 = "dns-ip4" ":" ip4-addr CRLF
type DNSServer struct{ Addr netip.Addr }

// Name returns "dns-ip4" for an IPv4 address, else "dns-ip6".
func (d DNSServer) Name() string { return byFamily(d.Addr, "dns-ip4", "dns-ip6") }

func (d DNSServer) appendValue(b []byte) ([]byte, error) { return appendAddr(b, d.Addr) }

// byFamily returns v4 for an IPv4 address, else v6: the names are
// constants, so that Name allocates nothing.
func byFamily(a netip.Addr, v4, v6 string) string {
	if a.Is4() {
		return v4
	}
	return v6
}
