// Package hac is the Home Agent Controller role of RFC 6618 (TLS-based
// Mobile IPv6 security): one MN's bootstrap exchange (§5.3 lockstep) over
// a stream of §5.1 containers that the node has already wrapped in TLS,
// authenticated by a pre-shared key (§5.8) or by EAP relayed to an AAA
// server (§5.9); the security association it creates (§4.3, §5.6) is
// handed to the home agent through an SAProvisioner before the MN is told.
//
// It opens no socket and reads no clock it is not given: the node
// (internal/node, fhkey hac) accepts TLS connections and calls
// HAC.Serve with each one and its channel binding. Subscribers are behind
// SubscriberStore (Memory, Bolt, FileStore). The connection limits the
// node applies before any TLS are Limits and SourceLimiter (a per-source
// token bucket table on a given clock). PSKs and keys are never logged.
// Conventions where the RFC is silent are in docs/tls.md, "The HAC".
package hac
