package radius

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/fhkey/fhkey/internal/eap"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2869"
)

// RADIUS attributes of the EAP relay (RFC 2865, RFC 2869, RFC 3579) and
// the Microsoft vendor-specific keys (RFC 2548 §2.4.2, §2.4.3).
const (
	typeState          = rfc2865.State_Type
	typeSessionTimeout = rfc2865.SessionTimeout_Type
	typeFramedMTU      = rfc2865.FramedMTU_Type
	typeEAPMessage     = rfc2869.EAPMessage_Type

	vendorMicrosoft = 311
	msMPPESendKey   = 16
	msMPPERecvKey   = 17
)

// ErrEAP: an Access-Challenge or Access-Accept whose EAP-Message is
// missing or is not the EAP packet it must be (RFC 3579 §2.6.3).
var ErrEAP = errors.New("radius: EAP-Message")

// EAPRelayConfig configures an EAPRelay.
type EAPRelayConfig struct {
	// Servers are the RADIUS servers (EAP servers or proxies), tried in
	// order for the first Access-Request of a session.
	Servers []HomeServer
	// NAS identifies the authenticator in every Access-Request.
	NAS NAS
	// FramedMTU, if not 0, is sent as Framed-MTU: the EAP packet size the
	// link carries (RFC 3579 §2.4), which EAP servers fragment to.
	FramedMTU uint32
	// Timeout, Tries, MaxPending and Logger are the Client's
	// (ClientConfig).
	Timeout    time.Duration
	Tries      int
	MaxPending int
	Logger     *slog.Logger
}

// EAPRelay is the pass-through authenticator's RADIUS side (RFC 3579):
// it carries each EAP Response from a peer to a RADIUS server in an
// Access-Request and returns the EAP packet the server answers with. Its
// transport is the Client's: Identifiers per server socket,
// retransmission of the same packet, failover to the next server,
// Response Authenticator and Message-Authenticator required and checked
// in constant time, replies failing them dropped and counted (Stats).
type EAPRelay struct {
	c   *Client
	mtu uint32
}

// NewEAPRelay opens one UDP socket per server.
func NewEAPRelay(cfg EAPRelayConfig) (*EAPRelay, error) {
	if len(cfg.Servers) == 0 {
		return nil, fmt.Errorf("%w: EAP relay without a server", ErrConfig)
	}
	c, err := newClientChallenge(ClientConfig{Default: cfg.Servers, NAS: cfg.NAS, Timeout: cfg.Timeout, Tries: cfg.Tries,
		MaxPending: cfg.MaxPending, Logger: cfg.Logger}, true)
	if err != nil {
		return nil, err
	}
	return &EAPRelay{c: c, mtu: cfg.FramedMTU}, nil
}

// Close closes the sockets.
func (r *EAPRelay) Close() error { return r.c.Close() }

// Stats returns the transport's counters.
func (r *EAPRelay) Stats() ClientStats { return r.c.Stats() }

// NewSession starts the relay of one EAP conversation for the peer whose
// EAP Identity is userName (sent as User-Name, RFC 3579 §2.1).
func (r *EAPRelay) NewSession(userName string) *EAPSession {
	return &EAPSession{r: r, userName: userName}
}

// EAPOutcome is what a RADIUS server answered.
type EAPOutcome int

// Outcomes.
const (
	EAPContinue EAPOutcome = iota // Access-Challenge: EAP carries the next Request
	EAPAccept                     // Access-Accept: EAP carries EAP-Success
	EAPReject                     // Access-Reject: EAP carries EAP-Failure
)

// EAPResult is the answer to one relayed EAP Response.
type EAPResult struct {
	Outcome EAPOutcome
	// EAP is the EAP packet for the peer: the server's EAP-Message, or
	// the EAP-Success or EAP-Failure the relay makes when an
	// Access-Accept or Access-Reject carries none (RFC 3579 §2.6.3).
	EAP []byte
	// MSK (with HaveMSK) is MS-MPPE-Recv-Key ‖ MS-MPPE-Send-Key of an
	// Access-Accept, decrypted with the shared secret (RFC 2548 §2.4.2,
	// §2.4.3; RFC 5216 §2.3: Recv-Key is MSK[0..31], Send-Key MSK[32..63]).
	MSK     eap.MSK
	HaveMSK bool
	// SessionTimeout is an Access-Accept's Session-Timeout (0 if none).
	SessionTimeout time.Duration
}

// EAPSession is one relayed EAP conversation. The first Access-Request
// may fail over between servers; once a server has answered, the session
// stays with it, because the State it sent means something only there.
// Not safe for concurrent use; abandoning it leaves nothing behind at the
// relay (the server expires its own state).
type EAPSession struct {
	r        *EAPRelay
	userName string
	state    []byte
	server   *serverConn
	done     bool
}

// Send relays the peer's EAP Response resp and returns the server's
// answer. A server that does not answer (after Tries transmissions to
// each) gives aaa.ErrNoAnswer.
func (s *EAPSession) Send(ctx context.Context, resp []byte) (EAPResult, error) {
	c := s.r.c
	c.c.requests.Add(1)
	if s.done {
		return EAPResult{}, fmt.Errorf("%w: EAP session already ended", ErrConfig)
	}
	p, err := eap.Parse(resp)
	if err != nil || p.Code != eap.CodeResponse {
		return EAPResult{}, fmt.Errorf("%w: not an EAP Response: %v", ErrEAP, err)
	}
	if c.closed.Load() {
		return EAPResult{}, ErrClosed
	}
	if c.pending.Add(1) > int64(c.cfg.MaxPending) {
		c.pending.Add(-1)
		c.c.tooMany.Add(1)
		return EAPResult{}, fmt.Errorf("%w: %d", ErrTooManyPending, c.cfg.MaxPending)
	}
	defer c.pending.Add(-1)
	servers := c.deflt
	if s.server != nil {
		servers = []*serverConn{s.server}
	}
	var res EAPResult
	sc, err := c.roundTrip(ctx, servers, func(sc *serverConn, id uint8, auth [16]byte) ([]byte, error) {
		return EncodeEAPRequest(id, auth, c.cfg.NAS, s.userName, s.state, resp[:p.Len()], s.r.mtu, sc.hs.Secret)
	}, func(sc *serverConn, reply []byte, auth [16]byte) error {
		var state []byte
		var err error
		res, state, err = DecodeEAPReply(reply, auth, sc.hs.Secret, p.Identifier)
		if err != nil {
			c.c.invalid.Add(1)
			return fmt.Errorf("%w: reply from %v: %w", ErrEAP, sc.hs.Addr, err)
		}
		switch res.Outcome {
		case EAPContinue:
			c.c.challenges.Add(1)
			s.state = state
		case EAPAccept:
			c.c.accepts.Add(1)
		default:
			c.c.rejects.Add(1)
		}
		return nil
	})
	if sc != nil {
		s.server = sc
	}
	if err == nil && res.Outcome != EAPContinue {
		s.done = true
	}
	return res, err
}

// EncodeEAPRequest returns an Access-Request relaying the EAP packet msg
// (RFC 3579 §3.1): Message-Authenticator first, User-Name, the NAS
// attribute, Framed-MTU if mtu > 0, State if the server sent one (RFC
// 2865 §5.24), then msg split over EAP-Message attributes of 253 octets.
func EncodeEAPRequest(id uint8, auth [16]byte, nas NAS, userName string, state, msg []byte, mtu uint32, secret []byte) ([]byte, error) {
	if len(userName) == 0 || len(userName) > maxAttrValue {
		return nil, fmt.Errorf("%w: User-Name of %d octets (1–%d)", ErrAttribute, len(userName), maxAttrValue)
	}
	if len(state) > maxAttrValue {
		return nil, fmt.Errorf("%w: State of %d octets", ErrAttribute, len(state))
	}
	nt, nv, err := nas.attribute()
	if err != nil {
		return nil, err
	}
	p := &radius.Packet{Code: radius.CodeAccessRequest, Identifier: id, Authenticator: auth}
	p.Add(typeMessageAuthenticator, make(radius.Attribute, authenticator))
	p.Add(typeUserName, radius.Attribute(userName))
	p.Add(nt, nv)
	if mtu > 0 {
		p.Add(typeFramedMTU, binary.BigEndian.AppendUint32(nil, mtu))
	}
	if len(state) > 0 {
		p.Add(typeState, radius.Attribute(state))
	}
	for v := msg; len(v) > 0; {
		n := min(len(v), maxAttrValue)
		p.Add(typeEAPMessage, radius.Attribute(v[:n]))
		v = v[n:]
	}
	return marshal(p, nil, secret)
}

// DecodeEAPReply decodes a reply that verifyReply accepted (Access-
// Challenge, -Accept or -Reject) to an Access-Request with Request
// Authenticator reqAuth relaying an EAP Response with Identifier eapID.
// It returns the result and the State to echo.
func DecodeEAPReply(b []byte, reqAuth [16]byte, secret []byte, eapID uint8) (EAPResult, []byte, error) {
	n, err := checkHeader(b)
	if err != nil {
		return EAPResult{}, nil, err
	}
	b = b[:n]
	attrs, err := parseAttributes(b[headerLen:])
	if err != nil {
		return EAPResult{}, nil, err
	}
	var (
		res         EAPResult
		msg, state  []byte
		haveState   bool
		send, recv  []byte
		haveTimeout bool
	)
	defer func() { clear(send); clear(recv) }()
	for _, a := range attrs {
		switch {
		case a.vendor:
		case a.std == typeEAPMessage:
			msg = append(msg, a.value...)
		case a.std == typeState:
			if haveState {
				return EAPResult{}, nil, repeated("State")
			}
			state, haveState = append([]byte(nil), a.value...), true
		case a.std == typeSessionTimeout:
			if haveTimeout || len(a.value) != 4 {
				return EAPResult{}, nil, fmt.Errorf("%w: Session-Timeout: repeated or not 4 octets", ErrAttribute)
			}
			res.SessionTimeout, haveTimeout = time.Duration(binary.BigEndian.Uint32(a.value))*time.Second, true
		case a.std == typeVendorSpecific && len(a.value) > 4 && binary.BigEndian.Uint32(a.value) == vendorMicrosoft:
			if err := microsoftKeys(a.value[4:], secret, reqAuth, &send, &recv); err != nil {
				return EAPResult{}, nil, err
			}
		}
	}
	var want eap.Code
	switch radius.Code(b[0]) {
	case radius.CodeAccessChallenge:
		res.Outcome, want = EAPContinue, eap.CodeRequest
		if msg == nil {
			return EAPResult{}, nil, fmt.Errorf("%w: Access-Challenge without EAP-Message", ErrEAP)
		}
	case radius.CodeAccessAccept:
		res.Outcome, want = EAPAccept, eap.CodeSuccess
	case radius.CodeAccessReject:
		res.Outcome, want = EAPReject, eap.CodeFailure
	default:
		return EAPResult{}, nil, fmt.Errorf("%w: %s", ErrMalformed, radius.Code(b[0]))
	}
	if msg == nil {
		// RFC 3579 §2.6.3 leaves it to the NAS to make the EAP-Success or
		// EAP-Failure, with the Response's Identifier (RFC 3748 §4.2).
		res.EAP, _ = eap.Packet{Code: want, Identifier: eapID}.Marshal()
	} else {
		p, err := eap.Parse(msg)
		if err != nil {
			return EAPResult{}, nil, fmt.Errorf("%w: %w", ErrEAP, err)
		}
		if p.Code != want || p.Len() != len(msg) {
			return EAPResult{}, nil, fmt.Errorf("%w: EAP %s of %d octets in %d in a %s", ErrEAP, p.Code, p.Len(), len(msg), radius.Code(b[0]))
		}
		res.EAP = msg
	}
	if res.Outcome == EAPAccept && send != nil && recv != nil {
		if len(recv) != 32 || len(send) != 32 {
			return EAPResult{}, nil, fmt.Errorf("%w: MS-MPPE-Recv-Key of %d and MS-MPPE-Send-Key of %d octets, want 32 each", ErrAttribute, len(recv), len(send))
		}
		copy(res.MSK[:32], recv)
		copy(res.MSK[32:], send)
		res.HaveMSK = true
	}
	return res, state, nil
}

// microsoftKeys opens the sub-attributes of a Microsoft Vendor-Specific
// attribute (RFC 2548 §2) and decrypts MS-MPPE-Send-Key and -Recv-Key.
func microsoftKeys(v, secret []byte, reqAuth [16]byte, send, recv *[]byte) error {
	for len(v) > 0 {
		if len(v) < 2 || v[1] < 2 || int(v[1]) > len(v) {
			return fmt.Errorf("%w: Vendor-Specific (Microsoft): sub-attribute length", ErrMalformed)
		}
		t, val := v[0], v[2:v[1]]
		v = v[v[1]:]
		var dst *[]byte
		var name string
		switch t {
		case msMPPESendKey:
			dst, name = send, "MS-MPPE-Send-Key"
		case msMPPERecvKey:
			dst, name = recv, "MS-MPPE-Recv-Key"
		default:
			continue
		}
		if *dst != nil {
			return repeated(name)
		}
		k, err := decryptSalted(name, val, secret, reqAuth)
		if err != nil {
			return err
		}
		*dst = k
	}
	return nil
}
