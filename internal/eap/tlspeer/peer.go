package tlspeer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/fhkey/fhkey/internal/eap"
)

// Errors of the peer.
var (
	// ErrFailure: the server sent EAP-Failure.
	ErrFailure = errors.New("tlspeer: EAP-Failure")
	// ErrProtocol: a packet the peer cannot take where it is (an
	// EAP-Success before the method completed, a fragment
	// acknowledgement expected and something else received, ...).
	ErrProtocol = errors.New("tlspeer: unexpected packet")
	// ErrTLS: the TLS handshake failed (the server's certificate did not
	// verify, an alert, ...); wraps crypto/tls's error.
	ErrTLS = errors.New("tlspeer: TLS handshake failed")
	// ErrKeys: the keys could not be exported (TLS 1.2 without extended
	// master secret) or the TLS 1.3 commitment message was wrong.
	ErrKeys = errors.New("tlspeer: no keys")
	// ErrConfig: a Config the peer cannot run with.
	ErrConfig = errors.New("tlspeer: configuration")
)

// Exporter labels and context (RFC 5216 §2.3, RFC 9190 §2.3).
const (
	LabelTLS12     = "client EAP encryption"
	LabelTLS13     = "EXPORTER_EAP_TLS_Key_Material"
	keyMaterialLen = 128
)

// DefaultFragmentSize is the TLS data per EAP-TLS Response by default:
// 1020 octets, so that a Response (EAP header, Type, Flags, TLS Message
// Length: 10 octets) fits 1034 and, relayed, four EAP-Message attributes.
const DefaultFragmentSize = 1020

// Config configures a Peer.
type Config struct {
	// Identity is the EAP Identity Response (an NAI, RFC 7542).
	Identity string
	// TLS is the TLS client configuration: Certificates (the peer's),
	// RootCAs and ServerName (the server's must verify against them),
	// MinVersion and MaxVersion (TLS 1.2 and 1.3). It is cloned;
	// session resumption is turned off.
	TLS *tls.Config
	// FragmentSize is the TLS data per EAP-TLS Response (default
	// DefaultFragmentSize).
	FragmentSize int
	// MaxMessage bounds the TLS message reassembled from the server's
	// fragments (default eap.MaxTLSMessage).
	MaxMessage int
}

// State is where the peer stands.
type State int

// States.
const (
	StateIdle       State = iota // before EAP-TLS Start
	StateTLS                     // handshake running
	StateMethodDone              // keys derived, waiting for EAP-Success
	StateSuccess                 // EAP-Success taken: Keys are valid
	StateFailure                 // EAP-Failure or a failed handshake
)

// Peer is one EAP-TLS peer conversation. It is not safe for concurrent
// use: the caller feeds it one packet at a time.
type Peer struct {
	cfg   Config
	tls   *tls.Config
	state State

	conn   *pipeConn
	tc     *tls.Conn
	cancel context.CancelFunc
	hsErr  error // the TLS goroutine's, once conn.finished
	msk    eap.MSK
	emsk   eap.EMSK
	ver    uint16

	in  eap.Reassembler
	out []eap.TLSMessage // fragments not yet sent

	last     []byte // last Response sent
	lastID   uint8
	lastType eap.Type
}

// New returns a Peer.
func New(cfg Config) (*Peer, error) {
	if cfg.TLS == nil || len(cfg.TLS.Certificates) == 0 && cfg.TLS.GetClientCertificate == nil {
		return nil, fmt.Errorf("%w: a client certificate is needed (EAP-TLS)", ErrConfig)
	}
	if cfg.TLS.ServerName == "" && !cfg.TLS.InsecureSkipVerify {
		return nil, fmt.Errorf("%w: ServerName is needed to verify the server", ErrConfig)
	}
	if cfg.FragmentSize <= 0 {
		cfg.FragmentSize = DefaultFragmentSize
	}
	t := cfg.TLS.Clone()
	t.ClientSessionCache = nil
	t.SessionTicketsDisabled = true
	if t.MinVersion == 0 {
		t.MinVersion = tls.VersionTLS12
	}
	if t.MinVersion < tls.VersionTLS12 {
		return nil, fmt.Errorf("%w: TLS below 1.2", ErrConfig)
	}
	return &Peer{cfg: cfg, tls: t, in: eap.Reassembler{Limit: cfg.MaxMessage}}, nil
}

// Version is the TLS version negotiated (0 before the handshake ends).
func (p *Peer) Version() uint16 { return p.ver }

// Keys returns the MSK and EMSK once EAP-Success was taken.
func (p *Peer) Keys() (eap.MSK, eap.EMSK, bool) {
	if p.state != StateSuccess {
		return eap.MSK{}, eap.EMSK{}, false
	}
	return p.msk, p.emsk, true
}

// MethodDone returns the MSK once the method has completed and its last
// Response is out (no fragment left to send), before EAP-Success: RFC 6618
// §5.9 keys that last Response, carried in Request/MHAuth-Done, with the
// MSK.
func (p *Peer) MethodDone() (eap.MSK, bool) {
	if p.state != StateMethodDone || len(p.out) > 0 {
		return eap.MSK{}, false
	}
	return p.msk, true
}

// Close stops the TLS client and wipes the keys.
func (p *Peer) Close() {
	p.stopTLS()
	p.msk.Wipe()
	p.emsk.Wipe()
}

func (p *Peer) stopTLS() {
	if p.conn != nil {
		p.conn.Close()
		p.cancel()
		p.conn.idle() // the goroutine has returned
		p.conn, p.tc = nil, nil
	}
	p.in.Reset()
	p.out = nil
}

// Handle takes one received EAP packet and returns the Response to send,
// or nil with EAP-Success (error nil once the method completed) and
// EAP-Failure (ErrFailure). A Request repeating the last one's Identifier
// and Type gets the same Response again (RFC 3748 §4.1).
func (p *Peer) Handle(b []byte) ([]byte, error) {
	pkt, err := eap.Parse(b)
	if err != nil {
		return nil, err
	}
	switch pkt.Code {
	case eap.CodeSuccess:
		if p.state != StateMethodDone {
			return nil, fmt.Errorf("%w: EAP-Success in state %d", ErrProtocol, p.state)
		}
		p.state = StateSuccess
		p.stopTLS()
		return nil, nil
	case eap.CodeFailure:
		p.state = StateFailure
		p.stopTLS()
		p.msk.Wipe()
		p.emsk.Wipe()
		return nil, ErrFailure
	case eap.CodeResponse:
		return nil, fmt.Errorf("%w: EAP Response at the peer", ErrProtocol)
	}
	if p.last != nil && pkt.Identifier == p.lastID && pkt.Type == p.lastType {
		return p.last, nil
	}
	var resp eap.Packet
	switch pkt.Type {
	case eap.TypeIdentity:
		p.stopTLS()
		p.state = StateIdle
		resp = eap.Packet{Type: eap.TypeIdentity, Data: []byte(p.cfg.Identity)}
	case eap.TypeNotification:
		resp = eap.Packet{Type: eap.TypeNotification}
	case eap.TypeTLS:
		data, err := p.handleTLS(pkt.Data)
		if err != nil {
			return nil, err
		}
		resp = eap.Packet{Type: eap.TypeTLS, Data: data}
	default:
		// RFC 3748 §5.3.1: a Nak proposing the method we do.
		resp = eap.Packet{Type: eap.TypeNak, Data: []byte{byte(eap.TypeTLS)}}
	}
	resp.Code, resp.Identifier = eap.CodeResponse, pkt.Identifier
	w, err := resp.Marshal()
	if err != nil {
		return nil, err
	}
	p.last, p.lastID, p.lastType = w, pkt.Identifier, pkt.Type
	return w, nil
}

// handleTLS takes the Type-Data of an EAP-TLS Request and returns the
// Response's.
func (p *Peer) handleTLS(data []byte) ([]byte, error) {
	m, err := eap.ParseTLS(data)
	if err != nil {
		return nil, err
	}
	if m.Flags&eap.FlagStart != 0 {
		p.stopTLS()
		p.start()
		return p.flight()
	}
	switch {
	case p.state == StateFailure:
		// A failed handshake's alert went out; acknowledge until the
		// server's EAP-Failure.
		return eap.TLSMessage{}.Marshal(), nil
	case p.state != StateTLS && p.state != StateMethodDone:
		return nil, fmt.Errorf("%w: EAP-TLS Request before Start", ErrProtocol)
	case len(p.out) > 0:
		// RFC 5216 §3.1: the server acknowledges each fragment.
		if !m.IsAck() {
			return nil, fmt.Errorf("%w: fragment acknowledgement expected", ErrProtocol)
		}
		return p.next(), nil
	}
	msg, err := p.in.Add(m)
	if err != nil {
		return nil, err
	}
	if msg == nil {
		return eap.TLSMessage{}.Marshal(), nil // acknowledge the fragment
	}
	if p.state == StateMethodDone {
		return nil, fmt.Errorf("%w: TLS data after the method completed", ErrProtocol)
	}
	p.conn.feed(msg)
	return p.flight()
}

// start runs a TLS client on a fresh pipe: the handshake, with TLS 1.3
// the commitment message, then the key export.
func (p *Peer) start() {
	ctx, cancel := context.WithCancel(context.Background())
	p.conn, p.cancel, p.hsErr, p.ver = newPipeConn(), cancel, nil, 0
	p.tc = tls.Client(p.conn, p.tls)
	p.state = StateTLS
	conn, tc := p.conn, p.tc
	go func() {
		err := run(ctx, tc, &p.msk, &p.emsk)
		conn.mu.Lock()
		p.hsErr = err
		if err == nil {
			p.ver = tc.ConnectionState().Version
		}
		conn.mu.Unlock()
		conn.finish()
	}()
}

// run is the TLS goroutine's work.
func run(ctx context.Context, tc *tls.Conn, msk *eap.MSK, emsk *eap.EMSK) error {
	if err := tc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("%w: %w", ErrTLS, err)
	}
	st := tc.ConnectionState()
	label, context := LabelTLS12, []byte(nil)
	if st.Version == tls.VersionTLS13 {
		// RFC 9190 §2.1.1: "the EAP-TLS server commits to not send any
		// more handshake messages by sending a Commitment Message (a TLS
		// record with the application data 0x00)".
		var b [2]byte
		n, err := tc.Read(b[:])
		if err != nil {
			return fmt.Errorf("%w: TLS 1.3 commitment message: %w", ErrKeys, err)
		}
		if n != 1 || b[0] != 0 {
			return fmt.Errorf("%w: TLS 1.3 commitment message of %d octets, first %#x", ErrKeys, n, b[0])
		}
		label, context = LabelTLS13, []byte{byte(eap.TypeTLS)}
	}
	km, err := st.ExportKeyingMaterial(label, context, keyMaterialLen)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrKeys, err)
	}
	copy(msk[:], km[:64])
	copy(emsk[:], km[64:])
	clear(km)
	return nil
}

// flight waits for the TLS client to need input or finish and returns the
// first fragment of what it wrote (an acknowledgement if nothing).
func (p *Peer) flight() ([]byte, error) {
	out, finished := p.conn.idle()
	if finished {
		p.conn.mu.Lock()
		err := p.hsErr
		p.conn.mu.Unlock()
		if err != nil {
			p.state = StateFailure
			p.msk.Wipe()
			p.emsk.Wipe()
			if len(out) == 0 {
				return nil, err
			}
			// RFC 5216 §2.1.3: the peer sends its alert; the server
			// answers with EAP-Failure.
		} else {
			p.state = StateMethodDone
		}
	}
	p.out = eap.Fragment(out, p.cfg.FragmentSize)
	return p.next(), nil
}

func (p *Peer) next() []byte {
	m := p.out[0]
	p.out = p.out[1:]
	return m.Marshal()
}
