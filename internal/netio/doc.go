// Package netio is how the protocol roles reach the network: a Conn sends
// and receives whole upper-layer messages (ICMPv6 or Mobility Header) with
// their IPv6 addressing. The roles in internal/ar and internal/mn never
// open sockets themselves, so every scenario runs over the in-memory
// network of this package (tests, `fhkey demo`) and over the raw-socket
// transport on Linux alike.
package netio
