// Package mip6sa turns the MN-HA security association that a Home Agent
// Controller provisions (RFC 6618 §4.3, §5.6, package mip6tls) into the two
// directions one side of it uses on the §6 UDP data plane (package
// mip6udp): the mobile node seals with the mn-to-ha keys and opens with the
// ha-to-mn keys, the home agent the other way round.
//
// RFC 6618 §4.3: "There is only one SPI for both binding management
// messaging and possible user data protection. The same SPI is used for
// both directions between the MN and the HA." So both directions of a Pair
// carry the SA's one SPI; what differs per direction is the key pair
// (§5.6.2) and the Sequence Number counter and replay window, each of which
// starts at 0 (§4.3).
package mip6sa
