package supplicant

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/fhkey/fhkey/internal/eap"
	"github.com/fhkey/fhkey/internal/eap/tlspeer"
)

// Errors of Authenticate. Each wraps the cause where there is one.
var (
	// ErrNoAuthenticator: MaxStart EAPOL-Starts went unanswered.
	ErrNoAuthenticator = errors.New("supplicant: no authenticator answered")
	// ErrTimeout: the authenticator went silent (authWhile ran out after
	// the last Start) or the exchange lasted beyond MaxDuration.
	ErrTimeout = errors.New("supplicant: authentication timed out")
	// ErrFailure: EAP-Failure, or the method failed (wraps the tlspeer
	// error: tlspeer.ErrFailure, ErrTLS, ErrKeys, eap.ErrFragment, ...).
	ErrFailure = errors.New("supplicant: authentication failed")
	// ErrConfig: a Config the supplicant cannot run with.
	ErrConfig = errors.New("supplicant: configuration")
)

// Timer defaults. IEEE 802.1X-2004 §8.2.11.1.2 has startPeriod 30 s,
// heldPeriod 60 s, authPeriod 30 s and maxStart 3 for a port that is
// plugged in once; a mobile node authenticates on every link it enters,
// during a handover, so fhkey starts faster and holds less (docs/eap.md).
const (
	DefaultStartPeriod = time.Second
	DefaultMaxStart    = 3
	DefaultAuthPeriod  = 5 * time.Second
	DefaultHeldPeriod  = 10 * time.Second
	DefaultMaxDuration = 30 * time.Second
	// DefaultEAPOLVersion is the Protocol Version of the PDUs sent: 2
	// (802.1X-2004), what authenticators of 2004 and 2010 both take.
	DefaultEAPOLVersion = eap.EAPOLVersion2004
)

// maxFrame is the receive buffer: an EAPOL PDU in one Ethernet frame.
const maxFrame = 1500

// Link carries EAPOL PDUs (the octets after the Ethernet header) with the
// peer's MAC address: netio.EAPOLConn on a daemon.
type Link interface {
	ReadFrom(b []byte) (n int, src net.HardwareAddr, err error)
	WriteTo(pdu []byte, dst net.HardwareAddr) error
	SetReadDeadline(t time.Time) error
}

// Config configures a Supplicant. Zero durations and counts take the
// defaults.
type Config struct {
	// Peer is the EAP-TLS peer's: Identity (the NAI answered to
	// Identity Requests) and TLS (client certificate, RootCAs,
	// ServerName, versions).
	Peer tlspeer.Config
	// StartPeriod is between EAPOL-Starts (startWhen), MaxStart how many
	// are sent before ErrNoAuthenticator.
	StartPeriod time.Duration
	MaxStart    int
	// AuthPeriod is how long the supplicant waits for the authenticator's
	// next EAP packet (authWhile).
	AuthPeriod time.Duration
	// HeldPeriod is how long after a failure the next Authenticate waits
	// (heldWhile).
	HeldPeriod time.Duration
	// MaxDuration bounds one Authenticate from its first Start, so that
	// an authenticator that never concludes cannot hold the node.
	MaxDuration time.Duration
	// EAPOLVersion is the Protocol Version of the PDUs sent.
	EAPOLVersion eap.EAPOLVersion
}

// Result is a successful authentication.
type Result struct {
	// MSK is the EAP-TLS MSK (RFC 5216 §2.3, RFC 9190 §2.3). The caller
	// wipes it when done.
	MSK eap.MSK
	// Authenticator is the authenticator's MAC address.
	Authenticator net.HardwareAddr
	// At is when EAP-Success arrived.
	At time.Time
	// TLSVersion is the TLS version negotiated.
	TLSVersion uint16
}

// String redacts the MSK.
func (r Result) String() string {
	return fmt.Sprintf("authenticated by %s at %s (MSK redacted)", r.Authenticator, r.At.Format(time.RFC3339Nano))
}

// Supplicant authenticates one port, again on every Authenticate. It is
// safe for concurrent use, but Authenticate calls run one at a time.
type Supplicant struct {
	cfg Config

	run sync.Mutex // one Authenticate at a time

	mu        sync.Mutex
	heldUntil time.Time
	auth      net.HardwareAddr // of the last authentication, for Logoff
	status    Status
}

// New returns a Supplicant; the peer configuration is checked as
// tlspeer.New does.
func New(cfg Config) (*Supplicant, error) {
	if p, err := tlspeer.New(cfg.Peer); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	} else {
		p.Close()
	}
	if cfg.Peer.Identity == "" {
		return nil, fmt.Errorf("%w: an Identity is needed", ErrConfig)
	}
	if cfg.StartPeriod < 0 || cfg.MaxStart < 0 || cfg.AuthPeriod < 0 || cfg.HeldPeriod < 0 || cfg.MaxDuration < 0 {
		return nil, fmt.Errorf("%w: negative timer or count", ErrConfig)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.StartPeriod, DefaultStartPeriod)
	def(&cfg.AuthPeriod, DefaultAuthPeriod)
	def(&cfg.HeldPeriod, DefaultHeldPeriod)
	def(&cfg.MaxDuration, DefaultMaxDuration)
	if cfg.MaxStart == 0 {
		cfg.MaxStart = DefaultMaxStart
	}
	if cfg.EAPOLVersion == 0 {
		cfg.EAPOLVersion = DefaultEAPOLVersion
	}
	if _, err := (eap.EAPOL{Version: cfg.EAPOLVersion}).Marshal(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return &Supplicant{cfg: cfg, status: Status{State: StateIdle, Identity: cfg.Peer.Identity}}, nil
}

// Authenticate runs one authentication on link: it waits out the held
// period of an earlier failure, sends EAPOL-Start, answers the
// authenticator until EAP-Success (the Result) or EAP-Failure
// (ErrFailure), and gives up with ErrNoAuthenticator, ErrTimeout or ctx's
// error. Nothing is kept from a failed run but the held period.
func (s *Supplicant) Authenticate(ctx context.Context, link Link) (Result, error) {
	s.run.Lock()
	defer s.run.Unlock()
	s.mu.Lock()
	held := time.Until(s.heldUntil)
	s.mu.Unlock()
	if held > 0 {
		s.setState(StateHeld, nil)
		t := time.NewTimer(held)
		select {
		case <-ctx.Done():
			t.Stop()
			return Result{}, ctx.Err()
		case <-t.C:
		}
	}
	return s.authenticate(ctx, link, nil, nil)
}

// authenticate runs one exchange (Authenticate's doc); first, if not
// nil, is the authenticator auth's EAP-Request/Identity that starts it
// instead of an EAPOL-Start. It is called with s.run held.
func (s *Supplicant) authenticate(ctx context.Context, link Link, auth net.HardwareAddr, first []byte) (Result, error) {
	peer, err := tlspeer.New(s.cfg.Peer)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	defer peer.Close()
	sess := &session{peer: peer, version: s.cfg.EAPOLVersion}
	res, err := s.exchange(ctx, link, sess, auth, first)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status.Authenticator = ""
	if sess.auth != nil {
		s.auth = sess.auth
		s.status.Authenticator = sess.auth.String()
	}
	if err != nil {
		s.status.State, s.status.Error, s.status.At = StateFailed, err.Error(), time.Now().UTC()
		if errors.Is(err, ErrFailure) {
			// 802.1X-2004 §8.2.11: HELD, heldWhile = heldPeriod.
			s.heldUntil = time.Now().Add(s.cfg.HeldPeriod)
		}
		return Result{}, err
	}
	s.status.State, s.status.Error, s.status.At, s.status.TLSVersion = StateAuthenticated, "", res.At.UTC(), res.TLSVersion
	s.status.Authentications++
	return res, nil
}

// exchange is CONNECTING and AUTHENTICATING until an outcome.
// With first (a re-authentication) it takes that frame from auth as if
// just received instead of sending an EAPOL-Start.
func (s *Supplicant) exchange(ctx context.Context, link Link, sess *session, auth net.HardwareAddr, first []byte) (Result, error) {
	stop := context.AfterFunc(ctx, func() { _ = link.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	end := time.Now().Add(s.cfg.MaxDuration)
	starts := 0
	var timer time.Time // startWhen or authWhile, whichever runs
	start := func() error {
		if starts == s.cfg.MaxStart {
			if sess.auth == nil {
				return fmt.Errorf("%w: %d EAPOL-Starts sent, %s apart", ErrNoAuthenticator, starts, s.cfg.StartPeriod)
			}
			return fmt.Errorf("%w: %s silent for %s after %d EAPOL-Starts", ErrTimeout, sess.auth, s.cfg.AuthPeriod, starts)
		}
		starts++
		s.setState(StateConnecting, nil)
		pdu, _ := eap.EAPOL{Version: s.cfg.EAPOLVersion, Type: eap.EAPOLStart}.Marshal()
		timer = time.Now().Add(s.cfg.StartPeriod)
		// 802.1X-2010 §11.1.1: to the PAE group address.
		return s.write(link, pdu, net.HardwareAddr(eap.PAEGroupAddress[:]))
	}
	buf := make([]byte, maxFrame)
	if first == nil {
		if err := start(); err != nil {
			return Result{}, err
		}
	} else {
		timer = time.Now().Add(s.cfg.AuthPeriod)
	}
	for {
		if first != nil {
			n, src := copy(buf, first), auth
			first = nil
			if res, done, err := s.take(link, sess, buf[:n], src, &timer); done {
				return res, err
			}
			continue
		}
		deadline := timer
		if end.Before(deadline) {
			deadline = end
		}
		if err := link.SetReadDeadline(deadline); err != nil {
			return Result{}, fmt.Errorf("supplicant: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		n, src, err := link.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return Result{}, ctx.Err()
			}
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				return Result{}, fmt.Errorf("supplicant: %w", err)
			}
			now := time.Now()
			switch {
			case !now.Before(end):
				return Result{}, fmt.Errorf("%w: no outcome within %s", ErrTimeout, s.cfg.MaxDuration)
			case !now.Before(timer):
				// startWhen or authWhile ran out: CONNECTING.
				if err := start(); err != nil {
					return Result{}, err
				}
			}
			continue
		}
		if res, done, err := s.take(link, sess, buf[:n], src, &timer); done {
			return res, err
		}
	}
}

// take processes the PDU received from src: the reply sent, authWhile
// (*timer) restarted; done with the outcome once there is one.
func (s *Supplicant) take(link Link, sess *session, pdu []byte, src net.HardwareAddr, timer *time.Time) (Result, bool, error) {
	a := sess.handle(pdu, src)
	if !a.taken {
		return Result{}, false, nil
	}
	*timer = time.Now().Add(s.cfg.AuthPeriod)
	s.setState(StateAuthenticating, sess.auth)
	if a.reply != nil {
		if err := s.write(link, a.reply, sess.auth); err != nil {
			return Result{}, true, err
		}
	}
	switch a.outcome {
	case failed:
		return Result{}, true, fmt.Errorf("%w: %w", ErrFailure, a.err)
	case succeeded:
		msk, _, ok := sess.peer.Keys()
		if !ok {
			return Result{}, true, fmt.Errorf("%w: EAP-Success without keys", ErrFailure)
		}
		return Result{MSK: msk, Authenticator: sess.auth, At: time.Now(), TLSVersion: sess.peer.Version()}, true, nil
	}
	return Result{}, false, nil
}

func (s *Supplicant) write(link Link, pdu []byte, dst net.HardwareAddr) error {
	if err := link.WriteTo(pdu, dst); err != nil {
		return fmt.Errorf("supplicant: send to %s: %w", dst, err)
	}
	return nil
}

// Logoff sends EAPOL-Logoff (802.1X-2004 §8.2.11: LOGOFF) to the
// authenticator of the last authentication, or to the PAE group address
// if there was none, and forgets the authentication.
func (s *Supplicant) Logoff(link Link) error {
	s.mu.Lock()
	dst := s.auth
	s.auth = nil
	s.status.State, s.status.Authenticator = StateLoggedOff, ""
	s.mu.Unlock()
	if dst == nil {
		dst = net.HardwareAddr(eap.PAEGroupAddress[:])
	}
	pdu, _ := eap.EAPOL{Version: s.cfg.EAPOLVersion, Type: eap.EAPOLLogoff}.Marshal()
	return s.write(link, pdu, dst)
}
