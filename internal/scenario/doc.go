// Package scenario holds the pieces of the RFC 5269 walk-through that the
// in-memory demo (`fhkey demo`), the network-namespace demo (`fhkey demo
// --netns`), the end-to-end tests (internal/e2e) and `fhkey bench` share.
//
// On the testbed of internal/testbed every role runs in process on raw
// sockets opened inside its node's network namespace (testbed.Do), which is
// the code path the `fhkey ar` and `fhkey mn` daemons take:
//
//   - StartRouter runs an access router (internal/ar, RFC 5269 §3.2, §3.5,
//     RFC 5568 §6.2.2) with a certification path responder (internal/certdisc,
//     RFC 3971 §6.4), a key store and, on the PAR, the user-space FMIPv6
//     forwarder (internal/forward, RFC 5568 §4);
//   - StartMobile runs a mobile node (internal/mn, RFC 5269 §3.1, §3.3,
//     §3.4) with a certification path solicitor and the tunnel decapsulator;
//   - ListenUDP, SendStream and ListenTunnel make and count the
//     correspondent node's traffic for the previous care-of address;
//   - ForgeFBU builds what an attacker without the handover key can send.
//
// Each Start function takes one node's configuration, so that a later change
// can launch the daemons as processes instead.
package scenario
