// Package node is the node layer of the fhkey daemons: it builds a running
// daemon from its parsed configuration — the role (internal/ar,
// internal/mn), its sockets (internal/netio), key store (keystore),
// forwarder or decapsulator (internal/forward), link watching, metrics and
// the runtime (internal/daemon: HTTP, signals, reload) — and is what both
// the commands (internal/cli) and the network-namespace scenarios and
// end-to-end tests (internal/scenario, internal/e2e) start.
//
//   - OpenRouter builds an access router from a RouterSpec (RFC 5269 §3.2,
//     §3.5; RFC 3971 §6.4 certification path responder; RFC 5568 §4
//     forwarding); AROptions is the `fhkey ar` daemon around it, with the
//     settings it applies live on SIGHUP (ar.Router.Update).
//   - OpenMobile builds a mobile node from a MobileSpec (RFC 5269 §3.1,
//     §3.3, §3.4); MNOptions is the `fhkey mn` daemon around it, which keeps
//     keys for the current link, watches the links and hands over back and
//     forth (RFC 5568 §5.6, §6.2.3).
//
// A new daemon or mode adds its role package and a file (or files) here
// with its Open function and Options; the command only dispatches to it
// (docs/architecture.md).
package node
