// Package mip6mn is the mobile node's side of RFC 6618 §6: the role that,
// given an MN-HA security association (internal/mip6sa, provisioned by a
// Home Agent Controller over TLS, package mip6tls), registers the mobile
// node's care-of address with its home agent and tunnels its home-address
// traffic over the UDP data plane of package mip6udp.
//
// The role opens no socket and reads no clock it is not given: a Config
// supplies Now and Send, and a Bootstrapper for fresh SAs. What it does:
//
//   - builds the home registration Binding Update of RFC 6275 §11.7.1,
//     carried as RFC 6618 §6.3 says (PType 8, Next Header = the first
//     encapsulated header): a Destination Options header with the Home
//     Address option, then the Mobility Header with the Alternate Care-of
//     Address option, sealed with the SA (BindingUpdatePayload);
//   - retransmits it with the exponential back-off of RFC 6275 §11.8
//     (InitialBindackTimeoutFirstReg, INITIAL_BINDACK_TIMEOUT, doubling to
//     MAX_BINDACK_TIMEOUT) until a matching Binding Acknowledgement;
//   - processes the Binding Acknowledgement (RFC 6275 §11.7.3): opened with
//     the SA, Sequence Number matched, status, granted lifetime, and
//     refreshes the binding before it ends;
//   - re-registers at once when the care-of address changes (§11.7.1);
//   - asks its Bootstrapper for a new SA before mip6-sa-validity-end
//     (RFC 6618 §3: "The MN MUST re-contact the HAC before the SA validity
//     time ends") and re-registers with it;
//   - encapsulates IPv6 packets from the home address to the home agent
//     (§6.4: PType 1 sealed, or PType 0 when mip6-sas is 0 and plaintext
//     data is allowed) and returns the inner packets the home agent sends;
//   - counts every packet it drops, per reason (Counters).
//
// docs/mip6mn.md describes the format, the timers and the margins.
package mip6mn
