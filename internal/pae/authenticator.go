package pae

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fhkey/fhkey/internal/eap"
)

// MAC is a supplicant's (or the authenticator's) Ethernet address.
type MAC [6]byte

// String formats m as net.HardwareAddr does.
func (m MAC) String() string { return net.HardwareAddr(m[:]).String() }

// Frame is one EAPOL PDU to send to Dst.
type Frame struct {
	Dst MAC
	PDU []byte
}

// Stats are the authenticator's counters (read by /metrics).
type Stats struct {
	Sessions        int    // sessions in progress (gauge)
	Authorized      int    // MAC addresses authenticated and not logged off (gauge)
	QuietMACs       int    // MAC addresses in their quiet period after a rejection (gauge)
	Started         uint64 // sessions created
	Accepted        uint64 // Access-Accept with an MSK stored
	AcceptedNoMSK   uint64 // Access-Accept without MS-MPPE keys: EAP-Failure sent
	Rejected        uint64 // Access-Reject
	BackendErrors   uint64 // no answer from any server, or a bad one
	StoreErrors     uint64 // the MSK could not be stored: EAP-Failure sent
	Retransmissions uint64 // EAP-Requests sent again to a silent supplicant
	Expired         uint64 // sessions abandoned (timeout or retransmissions exhausted)
	Evicted         uint64 // sessions evicted to make room for a new one
	Refused         uint64 // new sessions refused: table full of sessions waiting for the server
	RateLimited     uint64 // frames dropped by the per-supplicant or the creation rate
	Logoffs         uint64 // EAPOL-Logoff taken
	Malformed       uint64 // EAPOL or EAP that does not parse
	Unexpected      uint64 // well-formed but not expected now (wrong Identifier, no session, busy)
	Reauthenticated uint64 // re-authentications that stored a new MSK (IEEE 802.1X-2004 §8.2.4)
	ReauthFailed    uint64 // re-authentications that ended otherwise: the old MSK stays until it expires
	Quiet           uint64 // EAPOL-Starts and EAP-Responses dropped during their MAC's quiet period (IEEE 802.1X-2004 §8.2.4.1.2)
	QuietEvicted    uint64 // quiet periods cut short to bound the table (maxQuiet)
	QuietRestarts   uint64 // authentications the authenticator started at the end of a quiet period (802.1X-2004 HELD → RESTART)
	Restored        uint64 // authorizations of an earlier run taken by Restore (an AR restart)
}

type counters struct {
	started, accepted, acceptedNoMSK, rejected, backendErrors, storeErrors,
	retransmissions, expired, evicted, refused, rateLimited, logoffs,
	malformed, unexpected, reauthOK, reauthFailed, quiet, quietEvicted, quietRestarts, restored atomic.Uint64
}

// Authenticator is the 802.1X authenticator role (package doc). Handle
// and Tick are safe for concurrent use; Handle blocks while the backend
// answers, and meanwhile the session takes no other frame.
type Authenticator struct {
	cfg Config
	c   counters

	mu         sync.Mutex
	sessions   map[MAC]*session
	authorized map[MAC]authorization // of each authenticated MAC (Logoff deletes its MSK)
	quiet      map[MAC]time.Time     // end of each rejected MAC's quiet period (quiet.go)
	creation   tokens
	nextID     uint8
}

// New returns an Authenticator; cfg needs a Backend and a Store.
func New(cfg Config) (*Authenticator, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Authenticator{cfg: c, sessions: make(map[MAC]*session), authorized: make(map[MAC]authorization), quiet: make(map[MAC]time.Time)}, nil
}

// Stats returns a snapshot of the counters.
func (a *Authenticator) Stats() Stats {
	a.mu.Lock()
	s := Stats{Sessions: len(a.sessions), Authorized: len(a.authorized), QuietMACs: len(a.quiet)}
	a.mu.Unlock()
	c := &a.c
	s.Started, s.Accepted, s.AcceptedNoMSK = c.started.Load(), c.accepted.Load(), c.acceptedNoMSK.Load()
	s.Rejected, s.BackendErrors, s.StoreErrors = c.rejected.Load(), c.backendErrors.Load(), c.storeErrors.Load()
	s.Retransmissions, s.Expired, s.Evicted = c.retransmissions.Load(), c.expired.Load(), c.evicted.Load()
	s.Refused, s.RateLimited, s.Logoffs = c.refused.Load(), c.rateLimited.Load(), c.logoffs.Load()
	s.Malformed, s.Unexpected = c.malformed.Load(), c.unexpected.Load()
	s.Reauthenticated, s.ReauthFailed = c.reauthOK.Load(), c.reauthFailed.Load()
	s.Quiet, s.QuietEvicted, s.QuietRestarts, s.Restored = c.quiet.Load(), c.quietEvicted.Load(), c.quietRestarts.Load(), c.restored.Load()
	return s
}

// Handle takes one EAPOL PDU from src and returns the frames to send
// (none, or one). Nothing is created for a frame that is not an
// EAPOL-Start or an EAP-Response/Identity (IEEE 802.1X-2010 §8.4: the
// authenticator may start on either), and nothing changes for a frame
// that does not parse.
func (a *Authenticator) Handle(ctx context.Context, src MAC, pdu []byte) []Frame {
	p, err := eap.ParseEAPOL(pdu)
	if err != nil {
		a.c.malformed.Add(1)
		return nil
	}
	now := a.cfg.Now()
	switch p.Type {
	case eap.EAPOLStart:
		return a.start(src, now)
	case eap.EAPOLLogoff:
		a.logoff(src, now)
		return nil
	case eap.EAPOLEAPPacket:
		pkt, err := p.EAP()
		if err != nil {
			a.c.malformed.Add(1)
			return nil
		}
		if pkt.Code != eap.CodeResponse {
			// RFC 3748 §4.2: Success and Failure go to the peer only.
			a.c.unexpected.Add(1)
			return nil
		}
		return a.response(ctx, src, pkt, p.Body[:pkt.Len()], now)
	}
	// EAPOL-Key, MKA, announcements: not for this authenticator.
	a.c.unexpected.Add(1)
	return nil
}

// logoff ends src's session and, if src was authenticated, forgets its
// MSK (IEEE 802.1X-2010 §8.4: "EAPOL-Logoff ... the Supplicant ... no
// longer wishes to be authenticated").
func (a *Authenticator) logoff(src MAC, now time.Time) {
	a.mu.Lock()
	s := a.sessions[src]
	if s != nil && (s.busy || !s.rate.allow(a.cfg.PerSupplicant, now)) {
		a.mu.Unlock()
		a.c.unexpected.Add(1)
		return
	}
	if s != nil {
		delete(a.sessions, src)
	}
	auth, ok := a.authorized[src]
	nai := auth.nai
	delete(a.authorized, src)
	a.mu.Unlock()
	if s == nil && !ok {
		a.c.unexpected.Add(1)
		return
	}
	a.c.logoffs.Add(1)
	if ok {
		if err := a.cfg.Store.Delete(nai); err != nil {
			a.c.storeErrors.Add(1)
		}
		a.cfg.Logger.Info("pae: logoff", "mac", src.String(), "nai", nai)
	}
}
