package testenv

import "github.com/fhkey/fhkey/internal/peer"

// The real peers a test starts (internal/peer, shared with `fhkey bench`).
type (
	// Server is peer.Server.
	Server = peer.Server
	// Shared is peer.Shared.
	Shared = peer.Shared
)

// ErrServer and the functions of internal/peer, for the tests.
var (
	ErrServer      = peer.ErrServer
	StartServer    = peer.StartServer
	NewShared      = peer.NewShared
	OutputContains = peer.OutputContains
	TCPListening   = peer.TCPListening
)
