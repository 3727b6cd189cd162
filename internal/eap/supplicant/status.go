package supplicant

import (
	"net"
	"time"
)

// State names where the supplicant stands, after 802.1X-2004 §8.2.11's
// supplicant PAE states.
type State string

// States.
const (
	StateIdle           State = "idle"
	StateHeld           State = "held"
	StateConnecting     State = "connecting"
	StateAuthenticating State = "authenticating"
	StateAuthenticated  State = "authenticated"
	StateFailed         State = "failed"
	StateLoggedOff      State = "logged-off"
)

// Status is what the supplicant shows (the mobile node's /status): never
// the MSK.
type Status struct {
	State State `json:"state"`
	// Identity is the NAI sent in Identity Responses.
	Identity string `json:"identity"`
	// Authenticator is the MAC address of the last authenticator.
	Authenticator string `json:"authenticator,omitempty"`
	// At is when the last authentication ended (Success or failure).
	At         time.Time `json:"at,omitzero"`
	TLSVersion uint16    `json:"tls_version,omitempty"`
	// Error is why the last authentication failed.
	Error string `json:"error,omitempty"`
	// Authentications counts the successful ones.
	Authentications int `json:"authentications"`
}

// Status returns the supplicant's status.
func (s *Supplicant) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

func (s *Supplicant) setState(st State, auth net.HardwareAddr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status.State = st
	if auth != nil {
		s.status.Authenticator = auth.String()
	}
}
