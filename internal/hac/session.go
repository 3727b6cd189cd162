package hac

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/fhkey/fhkey/mip6tls"
)

// Errors of a session; each maps to the status-code the MN receives
// (statusFor).
var (
	// ErrTooLong: a container's content exceeds Config.MaxContent (400).
	ErrTooLong = errors.New("hac: container too long")
	// ErrTooManyRequests: more requests than Config.MaxExchanges (400).
	ErrTooManyRequests = errors.New("hac: too many requests")
	// ErrNoMethod: no method that both sides offer (501); with
	// ErrUnknownSubscriber, the subscriber may not use the one chosen
	// (401).
	ErrNoMethod = errors.New("hac: no common authentication method")
	// ErrNoCipherSuite: no ciphersuite of the MN's list is the HAC's (501).
	ErrNoCipherSuite = errors.New("hac: no common ciphersuite")
	// ErrEAPRejected: the AAA server rejected the MN (401).
	ErrEAPRejected = errors.New("hac: EAP authentication rejected")
	// ErrEAPProtocol: the MN marked MHAuth-Done while EAP went on, or not
	// when it ended (400).
	ErrEAPProtocol = errors.New("hac: EAP method and MHAuth-Done out of step")
	// ErrAAA: the AAA server did not answer (504).
	ErrAAA = errors.New("hac: AAA server unreachable")
	// ErrHomeAgent: the HA was not told the SA (503; 504 on a timeout).
	ErrHomeAgent = errors.New("hac: home agent not provisioned")
)

// Result is what one session did.
type Result struct {
	Identity mip6tls.MNIdentifier
	Method   mip6tls.AuthMethod // empty before one was chosen
	// Status is the status-code of the final response (0: none sent).
	Status mip6tls.StatusCode
	// SPI is the SA provisioned (0: none).
	SPI mip6tls.SPI
}

// statusFor maps a session error to the status-code of its final response
// (RFC 6618 §5.3 "an appropriate status code", meanings of RFC 2616 §10).
func statusFor(err error) mip6tls.StatusCode {
	switch {
	case errors.Is(err, ErrUnknownSubscriber), errors.Is(err, ErrEAPRejected):
		return mip6tls.StatusUnauthorized
	case errors.Is(err, ErrNoMethod), errors.Is(err, ErrNoCipherSuite):
		return mip6tls.StatusNotImplemented
	case errors.Is(err, ErrTooLong), errors.Is(err, ErrTooManyRequests), errors.Is(err, ErrEAPProtocol):
		return mip6tls.StatusBadRequest
	case errors.Is(err, context.DeadlineExceeded) && (errors.Is(err, ErrHomeAgent) || errors.Is(err, ErrAAA)), errors.Is(err, ErrAAA):
		return mip6tls.StatusGatewayTimeout
	case errors.Is(err, ErrHomeAgent):
		return mip6tls.StatusServiceUnavailable
	}
	return mip6tls.StatusFor(err)
}

func outcomeOf(status mip6tls.StatusCode) string {
	switch status {
	case 0:
		return OutcomeAborted
	case mip6tls.StatusOK:
		return OutcomeOK
	case mip6tls.StatusUnauthorized:
		return OutcomeUnauthorized
	case mip6tls.StatusBadRequest:
		return OutcomeBadRequest
	case mip6tls.StatusNotImplemented:
		return OutcomeUnsupported
	case mip6tls.StatusServiceUnavailable, mip6tls.StatusGatewayTimeout:
		return OutcomeHAFailed
	}
	return OutcomeInternal
}

// session is one MN's exchange on one stream.
type session struct {
	h    *HAC
	ctx  context.Context
	rw   io.ReadWriter
	cb   []byte
	step mip6tls.Lockstep
	res  Result
	// key signs a final error response (nil: the EAP "1"); echo are the
	// parameters it repeats (the nonces of the PSK method, EAP-Failure).
	key  []byte
	echo []mip6tls.Parameter
	buf  []byte
}

// Serve runs one MN's bootstrap on rw, a stream of containers inside a TLS
// connection whose tls-server-end-point binding is cb (the HAC's own
// certificate, mip6tls.ServerEndpointBinding). It returns when the final
// response is written or the exchange cannot go on; the caller closes the
// connection (§5.3: "MUST close the transport connection") and bounds it
// with a deadline. An error other than the MN's is answered with a final
// response carrying its status-code when the request's Identifier is
// known. Result says what happened; the error why it was not a success.
func (h *HAC) Serve(ctx context.Context, rw io.ReadWriter, cb []byte) (Result, error) {
	h.stats.sessions.Add(1)
	s := &session{h: h, ctx: ctx, rw: rw, cb: cb}
	err := s.run()
	method := string(s.res.Method)
	if method == "" {
		method = "none"
	}
	h.stats.count(method, outcomeOf(s.res.Status))
	return s.res, err
}

func (s *session) run() error {
	_, m1, err := s.receive()
	if err != nil {
		return s.fail(m1.Identifier, err)
	}
	id, okID := mip6tls.Find[mip6tls.MNIdentifier](m1)
	mnRand, okRand := mip6tls.Find[mip6tls.MNRand](m1)
	offered, okMethods := mip6tls.Find[mip6tls.AuthMethods](m1)
	if !okID || !okRand || !okMethods {
		// §5.3: the first request "MUST always contain at least" them.
		return s.fail(m1.Identifier, fmt.Errorf("%w: %w: MHAuth-Init request lacks mn-id, mn-rand or auth-method", mip6tls.ErrExchange, mip6tls.ErrMissing))
	}
	s.res.Identity = id
	sub, err := s.h.cfg.Subscribers.Get(s.ctx, id)
	if err != nil {
		return s.fail(m1.Identifier, err)
	}
	defer clear(sub.PSK)
	// §5.5.2: the MN lists methods by preference and "The HAC MUST select
	// exactly one": the first the HAC offers; the subscriber must allow it.
	var method mip6tls.AuthMethod
	for _, m := range offered {
		if slices.Contains(s.h.Methods(), m) {
			method = m
			break
		}
	}
	switch {
	case method == "":
		return s.fail(m1.Identifier, fmt.Errorf("%w: MN offers %v", ErrNoMethod, offered))
	case !sub.Allows(method):
		return s.fail(m1.Identifier, fmt.Errorf("%w: %w: %s may not use %s", ErrUnknownSubscriber, ErrNoMethod, id, method))
	}
	s.res.Method = method
	if method == mip6tls.AuthMethodPSK {
		return s.psk(&sub, m1.Identifier, mnRand)
	}
	return s.eap(&sub, m1.Identifier)
}

// receive reads one request and accepts it in the lockstep. On an error
// the returned message has the Identifier to answer (0: none).
func (s *session) receive() ([]byte, mip6tls.Message, error) {
	var hdr [mip6tls.ContainerHeaderLen]byte
	if _, err := io.ReadFull(s.rw, hdr[:]); err != nil {
		return nil, mip6tls.Message{}, err
	}
	id, n, err := mip6tls.ParseContainerHeader(hdr[:])
	if err != nil {
		return nil, mip6tls.Message{}, err
	}
	reply := mip6tls.Message{Identifier: id}
	if n > s.h.cfg.MaxContent {
		return nil, reply, fmt.Errorf("%w: %d octets of content, limit %d", ErrTooLong, n, s.h.cfg.MaxContent)
	}
	if s.step.Exchanges() >= s.h.cfg.MaxExchanges {
		return nil, reply, fmt.Errorf("%w: request %d, limit %d", ErrTooManyRequests, s.step.Exchanges()+1, s.h.cfg.MaxExchanges)
	}
	// The buffer grows to the longest request of the session; parsed
	// messages alias it only until the next receive.
	if cap(s.buf) < mip6tls.ContainerHeaderLen+n {
		s.buf = make([]byte, mip6tls.ContainerHeaderLen+n)
	}
	wire := s.buf[:mip6tls.ContainerHeaderLen+n]
	copy(wire, hdr[:])
	if _, err := io.ReadFull(s.rw, wire[mip6tls.ContainerHeaderLen:]); err != nil {
		// A truncated container: the MN went away, nothing to answer.
		return nil, mip6tls.Message{}, fmt.Errorf("%w: container truncated: %w", mip6tls.ErrParse, err)
	}
	m, err := mip6tls.ParseMessage(wire)
	if err != nil {
		return nil, reply, err
	}
	_, status := mip6tls.Find[mip6tls.StatusCode](m)
	if err := s.step.Request(m.Identifier, status); err != nil {
		return nil, reply, err
	}
	return wire, m, nil
}

// respond writes the response to the outstanding request.
func (s *session) respond(id uint8, wire []byte, final bool) error {
	if _, err := s.step.Response(id, final); err != nil {
		return err
	}
	_, err := s.rw.Write(wire)
	return err
}

// fail answers request id (0: none to answer) with a final response
// carrying the status-code for err, signed with the session's key, and
// returns err.
func (s *session) fail(id uint8, err error) error {
	if id == 0 {
		return err
	}
	status := statusFor(err)
	ps := append(slices.Clone(s.echo), status)
	key := s.key
	if key == nil {
		key = mip6tls.EAPSharedKey(nil)
	}
	wire, werr := mip6tls.SignMessage(mip6tls.Message{Identifier: id, Parameters: ps}, key, mip6tls.SenderHAC, s.cb)
	if werr != nil {
		return errors.Join(err, werr)
	}
	// A request the lockstep refused has no place in it: the answer is
	// written anyway, and the session ends.
	_, _ = s.step.Response(id, true)
	if _, werr := s.rw.Write(wire); werr != nil {
		return errors.Join(err, werr)
	}
	s.res.Status = status
	return err
}
