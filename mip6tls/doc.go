// Package mip6tls implements the messages that a mobile node (MN) and its
// home agent controller (HAC) exchange inside the TLS tunnel of RFC 6618
// (TLS-Based Mobile IPv6 Security Framework), Section 5:
//
//   - the request-response message container (§5.1: ParseContainer,
//     MarshalContainer, ParseContainerHeader for stream framing);
//   - the TypeValue headers of the content portion (§5.2, §5.5.7:
//     ParseTVHeaders, MarshalTVHeaders);
//   - the lockstep request-response exchange with Identifiers 1..255
//     (§5.3: Lockstep);
//   - the typed parameters of §5.5 (generic), §5.6 (security association)
//     and §5.7 (Mobile IPv6 bootstrapping) (ParseMessage, MarshalMessage);
//   - the message authenticator of the PSK (§5.8) and EAP (§5.9) methods,
//     bound to the TLS tunnel by the RFC 5929 §4 tls-server-endpoint
//     channel binding (ServerEndpointBinding, ComputeAuthenticator,
//     VerifyMessage, SignMessage).
//
// The conventions the RFC leaves open (what 'msg-octets' is, how the end of
// the content is marked, address spelling, case of names and hex digits)
// are fixed in docs/tls.md. The §6 MN-HA data plane is package mip6udp.
//
// It does no I/O and never logs.
package mip6tls
