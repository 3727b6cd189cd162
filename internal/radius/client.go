package radius

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fhkey/fhkey/internal/aaa"
)

// HomeServer is a RADIUS server the Client sends requests to (an HKS, or
// a proxy in front of HKSes) and the secret it shares with it.
type HomeServer struct {
	Addr   netip.AddrPort
	Secret []byte
}

// ClientConfig configures a Client.
type ClientConfig struct {
	// Realms maps an NAI realm (the part after the last '@', compared
	// without regard to case) to its home servers, tried in order.
	Realms map[string][]HomeServer
	// Default, if set, serves realms not in Realms (and NAIs without one).
	Default []HomeServer
	// NAS identifies the AR in every request.
	NAS NAS
	// Timeout is how long one transmission waits for its answer (default
	// 1 s); Tries how many transmissions go to one server before the next
	// is tried (default 3).
	Timeout time.Duration
	Tries   int
	// MaxPending bounds the requests waiting for an answer (default and
	// at most 256 per home server: its socket's Identifier space); beyond
	// it RequestKey fails at once with ErrTooManyPending.
	MaxPending int
	// Logger gets one debug line per dropped reply. Default: discard.
	Logger *slog.Logger
}

// ClientStats are the Client's counters (monotonic), for /metrics.
type ClientStats struct {
	Requests        uint64 // RequestKey calls
	Transmissions   uint64 // Access-Requests sent, first ones included
	Retransmissions uint64 // of which: retransmissions
	Failovers       uint64 // moves to the next home server
	Accepts         uint64 // Access-Accepts taken
	Rejects         uint64 // Access-Rejects taken (refusals and discards)
	Challenges      uint64 // Access-Challenges taken (EAP relay)
	Timeouts        uint64 // RequestKey calls ended with aaa.ErrNoAnswer
	InvalidReplies  uint64 // authenticated replies whose attributes do not decode
	UnknownRealm    uint64 // RequestKey calls with ErrUnknownRealm
	TooManyPending  uint64 // RequestKey calls with ErrTooManyPending
	SendErrors      uint64
	// Replies dropped:
	DroppedMalformed   uint64 // too short, bad length or code
	DroppedIdentifier  uint64 // no request pending with that Identifier
	DroppedAuth        uint64 // Response Authenticator wrong
	DroppedMessageAuth uint64 // Message-Authenticator missing or wrong
	DroppedDuplicate   uint64 // an answer to a request already answered or given up (late)
}

type clientCounters struct {
	requests, transmissions, retransmissions, failovers, accepts, rejects, challenges, timeouts, invalid,
	unknownRealm, tooMany, sendErrors, malformed, identifier, auth, messageAuth, duplicate atomic.Uint64
}

// Client is the AR's side: an aaa.KeyServer over RADIUS.
type Client struct {
	cfg     ClientConfig
	log     *slog.Logger
	realms  map[string][]*serverConn
	deflt   []*serverConn
	conns   []*serverConn
	pending atomic.Int64
	c       clientCounters
	closed  atomic.Bool
	done    chan struct{} // closed by Close
	// challenge: Access-Challenge is a reply (the EAP relay's client).
	challenge bool
	wg        sync.WaitGroup
}

var _ aaa.KeyServer = (*Client)(nil)

// serverConn is the socket to one home server and its Identifiers.
type serverConn struct {
	hs   HomeServer
	conn *net.UDPConn

	mu      sync.Mutex
	next    uint8
	pending [256]*exchange
	done    [256]*[16]byte // Request Authenticator of the last finished exchange per Identifier
}

// exchange is one request waiting for its answer on a serverConn.
type exchange struct {
	auth  [16]byte
	reply chan []byte // buffered 1: the verified reply
}

// NewClient opens one UDP socket per home server and returns the Client.
func NewClient(cfg ClientConfig) (*Client, error) { return newClientChallenge(cfg, false) }

// newClientChallenge is NewClient; challenge makes Access-Challenge a reply.
func newClientChallenge(cfg ClientConfig, challenge bool) (*Client, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Second
	}
	if cfg.Tries <= 0 {
		cfg.Tries = 3
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 256
	}
	if _, _, err := cfg.NAS.attribute(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{cfg: cfg, log: log, realms: map[string][]*serverConn{}, done: make(chan struct{}), challenge: challenge}
	byAddr := map[netip.AddrPort]*serverConn{}
	open := func(list []HomeServer) ([]*serverConn, error) {
		var out []*serverConn
		for _, hs := range list {
			if !hs.Addr.IsValid() || len(hs.Secret) == 0 {
				return nil, fmt.Errorf("%w: home server %v: address and a non-empty secret needed", ErrConfig, hs.Addr)
			}
			sc := byAddr[hs.Addr]
			if sc == nil {
				conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(hs.Addr))
				if err != nil {
					return nil, fmt.Errorf("radius: home server %v: %w", hs.Addr, err)
				}
				sc = &serverConn{hs: HomeServer{Addr: hs.Addr, Secret: append([]byte(nil), hs.Secret...)}, conn: conn}
				var r [1]byte
				_, _ = rand.Read(r[:])
				sc.next = r[0]
				byAddr[hs.Addr] = sc
				c.conns = append(c.conns, sc)
			} else if !equalSecret(sc.hs.Secret, hs.Secret) {
				return nil, fmt.Errorf("%w: home server %v listed with two secrets", ErrConfig, hs.Addr)
			}
			out = append(out, sc)
		}
		return out, nil
	}
	fail := func(err error) (*Client, error) {
		for _, sc := range c.conns {
			sc.conn.Close()
		}
		return nil, err
	}
	for realm, list := range cfg.Realms {
		if len(list) == 0 {
			return fail(fmt.Errorf("%w: realm %q has no home server", ErrConfig, realm))
		}
		scs, err := open(list)
		if err != nil {
			return fail(err)
		}
		c.realms[strings.ToLower(realm)] = scs
	}
	scs, err := open(cfg.Default)
	if err != nil {
		return fail(err)
	}
	c.deflt = scs
	for _, sc := range c.conns {
		c.wg.Go(func() { c.read(sc) })
	}
	return c, nil
}

func equalSecret(a, b []byte) bool { return len(a) == len(b) && string(a) == string(b) }

// Close closes the sockets; pending RequestKey calls end with ErrNoAnswer.
func (c *Client) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	close(c.done)
	for _, sc := range c.conns {
		sc.conn.Close()
	}
	c.wg.Wait()
	return nil
}

// Stats returns a snapshot of the counters.
func (c *Client) Stats() ClientStats {
	k := &c.c
	return ClientStats{
		Requests: k.requests.Load(), Transmissions: k.transmissions.Load(), Retransmissions: k.retransmissions.Load(),
		Failovers: k.failovers.Load(), Accepts: k.accepts.Load(), Rejects: k.rejects.Load(), Challenges: k.challenges.Load(),
		Timeouts: k.timeouts.Load(), InvalidReplies: k.invalid.Load(), UnknownRealm: k.unknownRealm.Load(),
		TooManyPending: k.tooMany.Load(), SendErrors: k.sendErrors.Load(),
		DroppedMalformed: k.malformed.Load(), DroppedIdentifier: k.identifier.Load(), DroppedAuth: k.auth.Load(),
		DroppedMessageAuth: k.messageAuth.Load(), DroppedDuplicate: k.duplicate.Load(),
	}
}

// Realm returns the realm of an NAI: what follows its last '@' (RFC 7542
// §2.2), lower-cased; "" if none.
func Realm(nai string) string {
	i := strings.LastIndexByte(nai, '@')
	if i < 0 {
		return ""
	}
	return strings.ToLower(nai[i+1:])
}

// RequestKey sends req to the home servers of its NAI's realm in turn and
// returns the first authenticated answer (aaa.KeyServer).
func (c *Client) RequestKey(ctx context.Context, req aaa.KeyRequest) (aaa.KeyResponse, error) {
	c.c.requests.Add(1)
	if c.closed.Load() {
		return aaa.KeyResponse{}, ErrClosed
	}
	servers, ok := c.realms[Realm(req.NAI)]
	if !ok {
		servers = c.deflt
	}
	if len(servers) == 0 {
		c.c.unknownRealm.Add(1)
		return aaa.KeyResponse{}, fmt.Errorf("%w: %q", ErrUnknownRealm, Realm(req.NAI))
	}
	if c.pending.Add(1) > int64(c.cfg.MaxPending) {
		c.pending.Add(-1)
		c.c.tooMany.Add(1)
		return aaa.KeyResponse{}, fmt.Errorf("%w: %d", ErrTooManyPending, c.cfg.MaxPending)
	}
	defer c.pending.Add(-1)
	var kr aaa.KeyResponse
	_, err := c.roundTrip(ctx, servers, func(sc *serverConn, id uint8, auth [16]byte) ([]byte, error) {
		return EncodeRequest(req, id, auth, c.cfg.NAS, sc.hs.Secret)
	}, func(sc *serverConn, reply []byte, auth [16]byte) error {
		var err error
		kr, err = DecodeResponse(reply, auth, sc.hs.Secret)
		switch {
		case err == nil && kr.Status == 0:
			c.c.accepts.Add(1)
		case err == nil || errors.Is(err, aaa.ErrDiscarded):
			c.c.rejects.Add(1)
		default:
			c.c.invalid.Add(1)
			err = fmt.Errorf("%w: reply from %v: %w", aaa.ErrDiscarded, sc.hs.Addr, err)
		}
		return err
	})
	return kr, err
}

// roundTrip sends the request encode builds to servers in turn (failing
// over when one does not answer) and passes the first verified reply to
// decode; it returns the server that answered. The caller holds a
// pending slot.
func (c *Client) roundTrip(ctx context.Context, servers []*serverConn, encode func(sc *serverConn, id uint8, auth [16]byte) ([]byte, error), decode func(sc *serverConn, reply []byte, auth [16]byte) error) (*serverConn, error) {
	for i, sc := range servers {
		if i > 0 {
			c.c.failovers.Add(1)
		}
		err, answered := c.exchange(ctx, sc, encode, decode)
		switch {
		case answered:
			return sc, err
		case errors.Is(err, ErrTooManyPending):
			c.c.tooMany.Add(1)
			return nil, err
		case !errors.Is(err, aaa.ErrNoAnswer):
			return nil, err // the request cannot be encoded
		case ctx.Err() != nil:
			c.c.timeouts.Add(1)
			return nil, fmt.Errorf("%w: %w", aaa.ErrNoAnswer, ctx.Err())
		}
	}
	c.c.timeouts.Add(1)
	return nil, aaa.ErrNoAnswer
}

// exchange runs one request with one home server: Tries transmissions of
// the same packet, each waiting Timeout. answered reports whether the
// server answered (err is then decode's).
func (c *Client) exchange(ctx context.Context, sc *serverConn, encode func(sc *serverConn, id uint8, auth [16]byte) ([]byte, error), decode func(sc *serverConn, reply []byte, auth [16]byte) error) (err error, answered bool) {
	var auth [16]byte
	if _, err := rand.Read(auth[:]); err != nil {
		return err, false
	}
	x := &exchange{auth: auth, reply: make(chan []byte, 1)}
	id, ok := sc.register(x)
	if !ok {
		return fmt.Errorf("%w: all 256 Identifiers of %v in use", ErrTooManyPending, sc.hs.Addr), false
	}
	defer sc.release(id, x)
	wire, err := encode(sc, id, auth)
	if err != nil {
		return err, false
	}
	timer := time.NewTimer(c.cfg.Timeout)
	defer timer.Stop()
	for try := 0; try < c.cfg.Tries; try++ {
		if try > 0 {
			c.c.retransmissions.Add(1)
			timer.Reset(c.cfg.Timeout)
		}
		c.c.transmissions.Add(1)
		if _, err := sc.conn.Write(wire); err != nil {
			// A closed port shows as ECONNREFUSED here: next server.
			c.c.sendErrors.Add(1)
			c.log.Debug("radius: send failed", "server", sc.hs.Addr, "err", err)
			return aaa.ErrNoAnswer, false
		}
		select {
		case reply := <-x.reply:
			return decode(sc, reply, auth), true
		case <-timer.C:
		case <-ctx.Done():
			return aaa.ErrNoAnswer, false
		case <-c.done:
			return fmt.Errorf("%w: %w", aaa.ErrNoAnswer, ErrClosed), false
		}
	}
	return aaa.ErrNoAnswer, false
}

// register allocates an Identifier for x: the next free one after the
// last allocated, so an Identifier is reused as late as possible.
func (sc *serverConn) register(x *exchange) (uint8, bool) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	for range 256 {
		id := sc.next
		sc.next++
		if sc.pending[id] == nil {
			sc.pending[id] = x
			return id, true
		}
	}
	return 0, false
}

func (sc *serverConn) release(id uint8, x *exchange) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.pending[id] == x { // unanswered: a late answer counts as a duplicate
		sc.pending[id] = nil
		auth := x.auth
		sc.done[id] = &auth
	}
}

// read verifies the replies from one home server and hands each to its
// exchange; it returns when the socket is closed.
func (c *Client) read(sc *serverConn) {
	buf := make([]byte, maxPacketLen+1)
	for {
		n, err := sc.conn.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // ECONNREFUSED from an earlier send
		}
		c.deliver(sc, buf[:n])
	}
}

// deliver checks one reply and passes it to the exchange it answers.
func (c *Client) deliver(sc *serverConn, b []byte) {
	if len(b) < headerLen {
		c.dropReply(&c.c.malformed, sc, ErrMalformed)
		return
	}
	id := b[1]
	sc.mu.Lock()
	x := sc.pending[id]
	last := sc.done[id]
	sc.mu.Unlock()
	if x == nil {
		// A second answer to an answered request authenticates with
		// that request's authenticator; anything else is unexpected.
		if last != nil {
			if _, err := verifyReply(b, id, *last, sc.hs.Secret, c.challenge); err == nil {
				c.dropReply(&c.c.duplicate, sc, errors.New("radius: duplicate reply"))
				return
			}
		}
		c.dropReply(&c.c.identifier, sc, fmt.Errorf("radius: no request pending with Identifier %d", id))
		return
	}
	reply, err := verifyReply(b, id, x.auth, sc.hs.Secret, c.challenge)
	switch {
	case errors.Is(err, ErrAuthenticator):
		c.dropReply(&c.c.auth, sc, err)
		return
	case errors.Is(err, ErrMessageAuthenticator):
		c.dropReply(&c.c.messageAuth, sc, err)
		return
	case err != nil:
		c.dropReply(&c.c.malformed, sc, err)
		return
	}
	sc.mu.Lock()
	if sc.pending[id] != x {
		sc.mu.Unlock()
		c.dropReply(&c.c.duplicate, sc, errors.New("radius: duplicate reply"))
		return
	}
	sc.pending[id] = nil
	auth := x.auth
	sc.done[id] = &auth
	sc.mu.Unlock()
	x.reply <- append([]byte(nil), reply...)
}

func (c *Client) dropReply(k *atomic.Uint64, sc *serverConn, err error) {
	k.Add(1)
	c.log.Debug("radius: reply dropped", "server", sc.hs.Addr, "err", err)
}
