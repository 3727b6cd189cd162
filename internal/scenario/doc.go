// Package scenario holds the pieces of the RFC 5269 walk-through that the
// in-memory demo (`fhkey demo`), the network-namespace demo (`fhkey demo
// --netns`), the end-to-end tests (internal/e2e) and `fhkey bench` share.
//
// On the testbed of internal/testbed every role runs in process on raw
// sockets opened inside its node's network namespace (testbed.Do), built by
// internal/node exactly as the `fhkey ar` and `fhkey mn` daemons build
// theirs:
//
//   - StartRouter runs an access router (node.OpenRouter: internal/ar, RFC
//     5269 §3.2, §3.5, RFC 5568 §6.2.2, with a certification path responder,
//     a key store and, on the PAR, the user-space FMIPv6 forwarder);
//   - StartMobile runs a mobile node (node.OpenMobile: internal/mn, RFC 5269
//     §3.1, §3.3, §3.4, with a certification path solicitor and the tunnel
//     decapsulator) that Move and Return take between the two links;
//   - StartDaemon runs `fhkey ar` or `fhkey mn` as a process in a namespace
//     and reads its /readyz, /status and /metrics; WriteDaemonFiles writes
//     their configurations for the testbed;
//   - Bench runs the measurements of `fhkey bench` (FBURTT, Forwarding,
//     FBUThroughput, Flood);
//   - ListenUDP, SendStream and ListenTunnel make and count the
//     correspondent node's traffic for the previous care-of address;
//   - ForgeFBU builds what an attacker without the handover key can send.
package scenario
