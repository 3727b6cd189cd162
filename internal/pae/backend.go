package pae

import (
	"context"

	"github.com/fhkey/fhkey/internal/radius"
)

// Backend is the authentication server side of the pass-through
// authenticator (RFC 3748 §2.4): radius.EAPRelay through RADIUS, a fake
// in tests.
type Backend interface {
	// NewSession starts the relay of one EAP conversation for the peer
	// whose EAP Identity is userName.
	NewSession(userName string) BackendSession
}

// BackendSession relays one EAP conversation: each EAP Response of the
// supplicant in, the server's answer out (radius.EAPSession.Send).
type BackendSession interface {
	Send(ctx context.Context, resp []byte) (radius.EAPResult, error)
}

// RADIUS returns the Backend relaying to the RADIUS servers of r.
func RADIUS(r *radius.EAPRelay) Backend { return radiusBackend{r} }

type radiusBackend struct{ r *radius.EAPRelay }

func (b radiusBackend) NewSession(userName string) BackendSession { return b.r.NewSession(userName) }
