package forward

import (
	"net/netip"
	"time"
)

// Device is a bare TUN device with host routes, for a node that moves
// packets between the local stack and something other than an IPv6-in-IPv6
// tunnel (the home agent of `fhkey ha`, whose tunnel is RFC 6618's UDP
// encapsulation, docs/ha.md): Read returns a packet routed to the device,
// Write injects one into the local stack, AddRoute/DeleteRoute install and
// remove ADDR/128 dev NAME. Opened with OpenDevice (Linux only).
type Device struct {
	dev    packetDevice
	name   string
	routes routerCloser
}

// Name is the device's name.
func (d *Device) Name() string { return d.name }

// Read reads one packet (blocking until SetReadDeadline's deadline).
func (d *Device) Read(b []byte) (int, error) { return d.dev.Read(b) }

// Write injects one IP packet into the local stack.
func (d *Device) Write(b []byte) (int, error) { return d.dev.Write(b) }

// SetReadDeadline bounds Read.
func (d *Device) SetReadDeadline(t time.Time) error { return d.dev.SetReadDeadline(t) }

// AddRoute is "ip -6 route replace ADDR/128 dev NAME".
func (d *Device) AddRoute(a netip.Addr) error { return d.routes.addRoute(a) }

// DeleteRoute is "ip -6 route del ADDR/128 dev NAME"; an absent route is
// not an error.
func (d *Device) DeleteRoute(a netip.Addr) error { return d.routes.delRoute(a) }

// Close removes the device (and with it its routes).
func (d *Device) Close() error {
	d.routes.Close()
	return d.dev.Close()
}
