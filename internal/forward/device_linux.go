package forward

// OpenDevice creates the TUN device name ("" → "fhkfw%d") with MTU mtu
// (0: DefaultTunnelMTU), up and without IPv6 address generation, in the
// network namespace of the calling thread.
func OpenDevice(name string, mtu int) (*Device, error) {
	if mtu == 0 {
		mtu = DefaultTunnelMTU
	}
	h, err := openHandle()
	if err != nil {
		return nil, err
	}
	f, name, ifindex, err := openTUNDevice(h, name, mtu)
	if err != nil {
		h.Close()
		return nil, err
	}
	return &Device{dev: f, name: name, routes: &routeSocket{h: h, ifindex: ifindex, ifname: name}}, nil
}
