package mip6mn

import (
	"errors"
	"fmt"
)

// Errors of the role. Each error it returns wraps one of them, and the
// cause (an mip6udp, mh or netio error) with it.
var (
	// ErrParse: a received packet or payload is malformed.
	ErrParse = errors.New("mip6mn: malformed packet")
	// ErrAuth: a received packet failed the SA's checks (unknown SPI, ICV,
	// replay window, scope) — mip6udp.ErrAuth is wrapped as well.
	ErrAuth = errors.New("mip6mn: packet rejected by the security association")
	// ErrUnexpected: a well-formed, authentic message the current state
	// does not expect (a Binding Acknowledgement whose Sequence Number
	// matches no Binding Update in flight, a message of another type).
	ErrUnexpected = errors.New("mip6mn: unexpected message")
	// ErrNotRegistered: user data while no binding is in place.
	ErrNotRegistered = errors.New("mip6mn: no binding at the home agent")
	// ErrAddress: a packet whose home address is not the mobile node's,
	// or an address the role cannot use (a care-of or home address that is
	// not IPv6 unicast).
	ErrAddress = errors.New("mip6mn: wrong address")
	// ErrSecurityAssociation: no usable SA (expired, refused by
	// mip6sa.New, or the Bootstrapper failed).
	ErrSecurityAssociation = errors.New("mip6mn: no usable security association")
	// ErrScope: user data the SA scope forbids sending (mip6-sas 0 and
	// plaintext data not allowed by the configuration).
	ErrScope = errors.New("mip6mn: user data outside the SA scope")
	// ErrConfig: the Config cannot make a role.
	ErrConfig = errors.New("mip6mn: bad configuration")
)

func wrap(category, cause error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if cause == nil {
		return fmt.Errorf("%w: %s", category, msg)
	}
	return fmt.Errorf("%w: %s: %w", category, msg, cause)
}
