package radius

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fhkey/fhkey/internal/aaa"
	"layeh.com/radius"
)

// NASClient is a RADIUS client the Server answers (an AR, or a proxy such
// as FreeRADIUS in front of ARs): requests from a source address in Prefix
// are authenticated with Secret. The longest matching prefix wins.
type NASClient struct {
	Name   string
	Prefix netip.Prefix
	Secret []byte
}

// ServerConfig configures a Server.
type ServerConfig struct {
	// KeyServer answers the decoded requests (the HKS role).
	KeyServer aaa.KeyServer
	// Clients are the NASes the server answers; others are dropped.
	Clients []NASClient
	// MaxInFlight bounds the requests handed to KeyServer at once; more
	// are dropped (the client retransmits). Default 64.
	MaxInFlight int
	// ReadBatch is how many datagrams a reader takes from a UDP socket in
	// one system call (recvmmsg) and handles one after the other before
	// reading again, its answers sent in one sendmmsg. Default 32. 1 reads
	// one at a time, so that each request to a KeyServer that waits on a
	// remote store (PostgreSQL) gets a reader of its own and the waits
	// overlap.
	ReadBatch int
	// HandlerTimeout bounds one RequestKey call: its context ends between
	// HandlerTimeout and 1.25 × HandlerTimeout after the call starts (a
	// reader's context, renewed when less than HandlerTimeout is left, so
	// that no context is made per request). Default 5 s.
	HandlerTimeout time.Duration
	// DuplicateCache is how many answered requests are kept to answer
	// their duplicates (RFC 5080 §2.2.2), DuplicateTTL for how long.
	// Defaults 4096 and 30 s.
	DuplicateCache int
	DuplicateTTL   time.Duration
	// Logger gets one debug line per dropped packet (never a secret or a
	// key). Default: discard.
	Logger *slog.Logger
}

// ServerStats are the Server's counters (monotonic).
type ServerStats struct {
	Received              uint64 // datagrams read
	Reads                 uint64 // system calls that read them (a recvmmsg reads up to 32)
	Accepts               uint64 // Access-Accepts sent
	Rejects               uint64 // Access-Rejects sent (refusals and discards)
	Discards              uint64 // of which: discards (Access-Reject without fhkey attributes)
	StatusServer          uint64 // Status-Server requests answered (RFC 5997)
	DuplicatesAnswered    uint64 // duplicates answered from the cache
	DuplicatesInProgress  uint64 // duplicates of a request still being handled: dropped
	DroppedUnknownClient  uint64 // source matches no NASClient
	DroppedMalformed      uint64 // header or attributes that do not parse, wrong code
	DroppedMessageAuth    uint64 // Message-Authenticator missing or wrong
	DroppedInvalidRequest uint64 // authenticated, but attributes missing/wrong
	DroppedOverload       uint64 // MaxInFlight reached
	HandlerErrors         uint64 // KeyServer errors other than aaa.ErrDiscarded: no answer
	EncodeErrors          uint64 // KeyResponses that could not be encoded: no answer
	SendErrors            uint64
}

type serverCounters struct {
	received, reads, accepts, rejects, discards, statusServer, dupAnswered, dupInProgress,
	unknownClient, malformed, messageAuth, invalid, overload, handlerErrors, encodeErrors, sendErrors atomic.Uint64
}

// Server answers Access-Requests for a KeyServer (the HKS side).
type Server struct {
	cfg     ServerConfig
	log     *slog.Logger
	clients atomic.Pointer[[]NASClient] // replaced whole by SetClients
	slots   chan struct{}
	c       serverCounters

	mu    sync.Mutex
	cache map[dupKey]cacheEntry
	order []dupKey // insertion order, for expiry; order[head:] are live
	head  int
}

type dupKey struct {
	src  netip.AddrPort
	id   uint8
	auth [16]byte
}

type cacheEntry struct {
	reply []byte // nil while in progress
	at    time.Time
}

// NewServer checks cfg and returns a Server.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.KeyServer == nil {
		return nil, fmt.Errorf("%w: no KeyServer", ErrConfig)
	}
	clients, err := checkClients(cfg.Clients)
	if err != nil {
		return nil, err
	}
	cfg.Clients = nil
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 64
	}
	if cfg.ReadBatch <= 0 {
		cfg.ReadBatch = defaultReadBatch
	}
	if cfg.HandlerTimeout <= 0 {
		cfg.HandlerTimeout = 5 * time.Second
	}
	if cfg.DuplicateCache <= 0 {
		cfg.DuplicateCache = 4096
	}
	if cfg.DuplicateTTL <= 0 {
		cfg.DuplicateTTL = 30 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log, slots: make(chan struct{}, cfg.MaxInFlight), cache: map[dupKey]cacheEntry{}}
	s.clients.Store(&clients)
	return s, nil
}

// checkClients checks clients and returns copies with masked prefixes
// and secrets of their own.
func checkClients(clients []NASClient) ([]NASClient, error) {
	out := make([]NASClient, 0, len(clients))
	for _, c := range clients {
		if !c.Prefix.IsValid() || len(c.Secret) == 0 {
			return nil, fmt.Errorf("%w: client %q: prefix %v and a non-empty secret needed", ErrConfig, c.Name, c.Prefix)
		}
		c.Prefix = c.Prefix.Masked()
		c.Secret = append([]byte(nil), c.Secret...)
		out = append(out, c)
	}
	return out, nil
}

// SetClients replaces the NASes the server answers, and their secrets, at
// once (a reload): a request is authenticated with the list in force when
// it is read, a request already being handled is answered with the secret
// it was read with. Invalid clients are an ErrConfig error and change
// nothing. Cached answers to duplicates stay valid: they were signed with
// the secret of the request they answer.
func (s *Server) SetClients(clients []NASClient) error {
	cs, err := checkClients(clients)
	if err != nil {
		return err
	}
	s.clients.Store(&cs)
	return nil
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() ServerStats {
	c := &s.c
	return ServerStats{
		Received: c.received.Load(), Reads: c.reads.Load(), Accepts: c.accepts.Load(), Rejects: c.rejects.Load(),
		Discards: c.discards.Load(), StatusServer: c.statusServer.Load(),
		DuplicatesAnswered: c.dupAnswered.Load(), DuplicatesInProgress: c.dupInProgress.Load(),
		DroppedUnknownClient: c.unknownClient.Load(), DroppedMalformed: c.malformed.Load(),
		DroppedMessageAuth: c.messageAuth.Load(), DroppedInvalidRequest: c.invalid.Load(),
		DroppedOverload: c.overload.Load(), HandlerErrors: c.handlerErrors.Load(),
		EncodeErrors: c.encodeErrors.Load(), SendErrors: c.sendErrors.Load(),
	}
}

func (s *Server) client(src netip.Addr) *NASClient {
	src = src.Unmap()
	var best *NASClient
	clients := *s.clients.Load()
	for i := range clients {
		c := &clients[i]
		if c.Prefix.Contains(src) && (best == nil || c.Prefix.Bits() > best.Prefix.Bits()) {
			best = c
		}
	}
	return best
}

// Serve reads requests from conn until ctx ends or conn fails, and waits
// for the requests in progress. It closes conn when ctx ends.
//
// Requests are read and handled by a pool of readers, each reading the
// socket and answering what it read itself: no goroutine, channel or copy
// per request, and the requests' deadline is a context each reader
// renews, not one per request nor one all readers share (docs/aaa.md,
// bench hks). GOMAXPROCS
// readers wait on the socket; one that goes to the KeyServer while none is
// left waiting starts another, so that a slow KeyServer (a remote store)
// holds up no other request, up to MaxInFlight at the KeyServer at once
// (more are dropped: DroppedOverload). A reader that finishes while enough
// others wait ends.
func (s *Server) Serve(ctx context.Context, conn net.PacketConn) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	p := &readerPool{s: s, conn: conn, idleTarget: int32(min(runtime.GOMAXPROCS(0), s.cfg.MaxInFlight))}
	p.udp, _ = conn.(*net.UDPConn)
	if p.udp != nil && s.cfg.ReadBatch > 1 {
		p.batch = newBatchIO(p.udp)
	}
	var errOnce sync.Once
	var serveErr error
	p.fail = func(err error) {
		errOnce.Do(func() { serveErr = err })
		cancel()
	}
	p.ctx = ctx
	for range p.idleTarget {
		p.start()
	}
	p.wg.Wait()
	return serveErr
}

// readerPool is Serve's readers (see Serve).
type readerPool struct {
	s          *Server
	ctx        context.Context
	conn       net.PacketConn
	udp        *net.UDPConn // conn, if a UDP socket: reads and writes without allocating
	batch      batchIO      // udp's batches (recvmmsg, sendmmsg), if udp is set and ReadBatch > 1
	idleTarget int32
	idle       atomic.Int32 // readers waiting on the socket
	wg         sync.WaitGroup
	fail       func(error)
}

func (p *readerPool) start() {
	p.idle.Add(1)
	if p.batch != nil {
		p.wg.Go(newBatchReader(p).read)
		return
	}
	p.wg.Go(p.read)
}

// read is one reader's loop, a datagram per read.
func (p *readerPool) read() {
	buf := make([]byte, maxPacketLen+1)
	var n int
	var src netip.AddrPort
	p.loop(func() (err error) {
		n, src, err = p.readFrom(buf)
		return err
	}, func(dl *handlerDeadline) { p.s.handle(dl.context(), p, src, buf[:n]) })
}

// loop runs a reader, counted idle on entry: read waits for datagrams,
// handle handles what it read. The reader ends with Serve, when the socket
// fails, or after handling while enough others wait.
func (p *readerPool) loop(read func() error, handle func(dl *handlerDeadline)) {
	// A context of the reader's own for the requests' deadline
	// (ServerConfig.HandlerTimeout), renewed when less than the timeout is
	// left: no context, timer or lock of Serve's context per request.
	dl := handlerDeadline{parent: p.ctx, timeout: p.s.cfg.HandlerTimeout}
	defer dl.stop()
	for {
		err := read()
		p.idle.Add(-1)
		p.s.c.reads.Add(1)
		if err != nil {
			if !p.readFailed(err) {
				return
			}
			p.idle.Add(1)
			continue // ICMP errors surfacing on the socket
		}
		handle(&dl)
		if p.idle.Load() >= p.idleTarget {
			return // enough readers wait without this one
		}
		p.idle.Add(1)
	}
}

// handlerDeadline is a reader's context for its requests: it ends between
// timeout and 1.25 × timeout after any request it is given to starts.
type handlerDeadline struct {
	parent  context.Context
	timeout time.Duration
	ctx     context.Context
	cancel  context.CancelFunc
	end     time.Time
}

// context returns the context for a request starting now, renewed from
// parent when less than timeout is left.
func (d *handlerDeadline) context() context.Context {
	now := time.Now()
	if d.ctx == nil || d.end.Sub(now) < d.timeout {
		d.stop()
		d.end = now.Add(d.timeout + d.timeout/4)
		d.ctx, d.cancel = context.WithDeadline(d.parent, d.end)
	}
	return d.ctx
}

func (d *handlerDeadline) stop() {
	if d.cancel != nil {
		d.cancel()
	}
}

// spare makes sure a reader waits on the socket while the caller is at the
// KeyServer.
func (p *readerPool) spare() {
	if p.idle.Load() == 0 {
		p.start()
	}
}

func (p *readerPool) readFrom(b []byte) (int, netip.AddrPort, error) {
	if p.udp != nil {
		return p.udp.ReadFromUDPAddrPort(b)
	}
	n, from, err := p.conn.ReadFrom(b)
	if err != nil {
		return 0, netip.AddrPort{}, err
	}
	return n, addrPort(from), nil
}

func (p *readerPool) send(b []byte, to netip.AddrPort) {
	var err error
	if p.udp != nil {
		_, err = p.udp.WriteToUDPAddrPort(b, to)
	} else {
		_, err = p.conn.WriteTo(b, net.UDPAddrFromAddrPort(to))
	}
	if err != nil {
		p.s.c.sendErrors.Add(1)
	}
}

func addrPort(a net.Addr) netip.AddrPort {
	if u, ok := a.(*net.UDPAddr); ok {
		return u.AddrPort()
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

// replier is where handle sends its answers (at once through the pool, or
// queued in a reader's batch) and asks for a spare reader.
type replier interface {
	send(b []byte, to netip.AddrPort)
	spare()
}

// handle processes one received datagram (b is the reader's buffer, reused
// once handle returns) and answers through p.
func (s *Server) handle(ctx context.Context, p replier, src netip.AddrPort, b []byte) {
	s.c.received.Add(1)
	n, err := checkHeader(b)
	if err != nil {
		s.drop(&s.c.malformed, src, err)
		return
	}
	b = b[:n]
	nas := s.client(src.Addr())
	if nas == nil {
		s.drop(&s.c.unknownClient, src, errors.New("radius: unknown client"))
		return
	}
	if radius.Code(b[0]) == radius.CodeStatusServer {
		s.statusServer(src, b, nas, p)
		return
	}
	req, err := DecodeRequest(b, nas.Secret)
	switch {
	case errors.Is(err, ErrMessageAuthenticator):
		s.drop(&s.c.messageAuth, src, err)
		return
	case errors.Is(err, ErrAttribute):
		s.drop(&s.c.invalid, src, err)
		return
	case err != nil:
		s.drop(&s.c.malformed, src, err)
		return
	}
	key := dupKey{src: src, id: req.Identifier, auth: req.Authenticator}
	if reply, dup := s.lookup(key); dup {
		if reply == nil {
			s.c.dupInProgress.Add(1)
			return
		}
		s.c.dupAnswered.Add(1)
		p.send(reply, src)
		return
	}
	select {
	case s.slots <- struct{}{}:
	default:
		s.forget(key)
		s.drop(&s.c.overload, src, errors.New("radius: too many requests in flight"))
		return
	}
	defer func() { <-s.slots }()
	p.spare()
	reply := s.answer(ctx, &req, nas.Secret)
	if reply == nil {
		s.forget(key)
		return
	}
	s.remember(key, reply)
	p.send(reply, src)
}

// answer calls the KeyServer and encodes its answer (nil: none). ctx
// carries the handler's deadline (handlerDeadline).
func (s *Server) answer(ctx context.Context, req *Request, secret []byte) []byte {
	kr, err := s.cfg.KeyServer.RequestKey(ctx, req.KeyRequest)
	resp := Response{KeyResponse: kr}
	kr.HK.Zero()
	defer resp.KeyResponse.HK.Zero()
	switch {
	case errors.Is(err, aaa.ErrDiscarded):
		resp = Response{Discarded: true}
	case err != nil:
		s.c.handlerErrors.Add(1)
		s.log.Debug("radius: key server failed", "nai", req.KeyRequest.NAI, "err", err)
		return nil
	}
	reply, err := EncodeResponse(req, resp, secret, randomSalt())
	if err != nil {
		s.c.encodeErrors.Add(1)
		s.log.Debug("radius: response not encodable", "nai", req.KeyRequest.NAI, "err", err)
		return nil
	}
	switch {
	case resp.Discarded:
		s.c.rejects.Add(1)
		s.c.discards.Add(1)
	case kr.Status != 0:
		s.c.rejects.Add(1)
	default:
		s.c.accepts.Add(1)
	}
	return reply
}

// statusServer answers an authenticated Status-Server with an
// Access-Accept (RFC 5997 §3: Message-Authenticator required).
func (s *Server) statusServer(src netip.AddrPort, b []byte, nas *NASClient, rp replier) {
	var auth [16]byte
	copy(auth[:], b[4:headerLen])
	if err := verifyMessageAuthenticator(b, &auth, nas.Secret); err != nil {
		s.drop(&s.c.messageAuth, src, err)
		return
	}
	p := &radius.Packet{Code: radius.CodeAccessAccept, Identifier: b[1], Authenticator: auth}
	p.Add(typeMessageAuthenticator, make(radius.Attribute, authenticator))
	reply, err := marshal(p, &auth, nas.Secret)
	if err != nil {
		s.c.encodeErrors.Add(1)
		return
	}
	s.c.statusServer.Add(1)
	rp.send(reply, src)
}

func (s *Server) drop(c *atomic.Uint64, src netip.AddrPort, err error) {
	c.Add(1)
	s.log.Debug("radius: request dropped", "from", src, "err", err)
}

// lookup returns the cached reply for key (nil while in progress) and
// true, or registers key as in progress and returns false.
func (s *Server) lookup(key dupKey) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	s.expire(now)
	if e, ok := s.cache[key]; ok {
		return e.reply, true
	}
	s.cache[key] = cacheEntry{at: now}
	s.order = append(s.order, key)
	return nil, false
}

func (s *Server) remember(key dupKey, reply []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.cache[key]; ok {
		e.reply = reply
		s.cache[key] = e
	}
}

func (s *Server) forget(key dupKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.cache, key)
}

// expire removes entries older than the TTL and the oldest beyond the
// cache's size; in-progress entries go too (their answer is then not
// cached). Expired keys are skipped by advancing head; the slice is
// compacted only once head passes half its length, so each request costs
// O(1) amortized (shifting the whole order on every expiry was 41 % of
// the HKS's CPU with a full cache: docs/aaa.md, bench hks).
func (s *Server) expire(now time.Time) {
	i := s.head
	for ; i < len(s.order); i++ {
		k := s.order[i]
		e, ok := s.cache[k]
		if !ok {
			continue // forgotten
		}
		if now.Sub(e.at) < s.cfg.DuplicateTTL && len(s.order)-i <= s.cfg.DuplicateCache {
			break
		}
		delete(s.cache, k)
	}
	s.head = i
	if s.head > 0 && s.head >= len(s.order)/2 {
		n := copy(s.order, s.order[s.head:])
		clear(s.order[n:])
		s.order, s.head = s.order[:n], 0
	}
}

// randomSalt returns a salt for EncryptKey (RFC 2548 §2.4.2: unique per
// attribute; random 15 bits, the high bit is set by EncryptKey).
func randomSalt() uint16 {
	var b [2]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint16(b[:])
}
