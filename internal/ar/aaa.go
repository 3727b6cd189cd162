package ar

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/aaa"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/mh"
)

// Defaults of AAAConfig (docs/aaa.md, The access router). The draft names
// HKEY_REQ_TOUT and RETRANS_RATE without values (§6.2.1, §6.3).
const (
	// DefaultMaxPending bounds the HKReqs waiting for the Handover Key
	// Server.
	DefaultMaxPending = 4096
	// DefaultHKSTimeout bounds one KeyServer call; the transport
	// retransmits within it (§6.3: "the AAA protocol ... should
	// independently perform its own retransmission").
	DefaultHKSTimeout = 10 * time.Second
	// HKeyReqTimeout is HKEY_REQ_TOUT, the MN's retransmission timeout
	// and how long the AR buffers an answer for retransmitted HKReqs
	// (§6.3: "buffer the information ... for a maximum value of
	// HKEY_REQ_TOUT").
	HKeyReqTimeout = 3 * time.Second
	// DefaultRetransInterval is 1/RETRANS_RATE: the shortest interval
	// between two resends of one buffered answer (§6.3).
	DefaultRetransInterval = time.Second
	// HKStatusVerifyFailed is HK_VERIFY_FAILED (§6.2.3, §6.3.1), which
	// the draft uses without a number: fhkey's choice is 139, the next
	// value of the draft's range 130-138 (docs/codepoints.md).
	HKStatusVerifyFailed uint16 = 139
)

// AAAConfig enables the shared-key mode of draft-vidya-mipshop-handover-
// keys-aaa-04 (docs/aaa.md): the router answers Handover Key Requests with
// handover keys it gets from a Handover Key Server, and verifies FBUs with
// them (BADF SPI = the key's SPI).
type AAAConfig struct {
	// KeyServer is the HKS (RADIUS in a daemon, a fake in tests); required.
	KeyServer aaa.KeyServer
	// Codepoints of the draft's MH types and options (zero: defaults).
	Codepoints mh.Codepoints
	// Prefixes are the on-link prefixes a Key Care-of Address must lie in
	// (the CoA check, §6.3); nil means the /64 of Config.Address.
	Prefixes []netip.Prefix
	// MaxPending bounds the requests waiting for the HKS, and so the
	// goroutines and transport identifiers they hold (0:
	// DefaultMaxPending). A request beyond it is discarded and counted.
	MaxPending int
	// MaxBuffered bounds the buffered answers (0: MaxPending).
	MaxBuffered int
	// HKSTimeout bounds one KeyServer call (0: DefaultHKSTimeout).
	HKSTimeout time.Duration
	// BufferFor is how long an answer is kept for retransmitted requests
	// (0: HKeyReqTimeout).
	BufferFor time.Duration
	// RetransInterval is 1/RETRANS_RATE per buffered answer (0:
	// DefaultRetransInterval).
	RetransInterval time.Duration
}

// aaaState is the router's shared-key mode: the configuration with its
// defaults, the exchanges in progress and the SPI index.
type aaaState struct {
	cfg AAAConfig
	cp  mh.Codepoints

	// outbox carries the answers that come after HandlePacket returned
	// (the HKS is asynchronous); Serve writes them, a test reads them.
	outbox chan netio.Packet

	mu        sync.Mutex
	exchanges map[exchangeKey]*exchange
	pending   int            // exchanges waiting for the HKS
	buffered  []bufferedItem // answered exchanges, oldest first
	spis      map[uint32]spiEntry
	wg        sync.WaitGroup
}

// spiEntry is a live HK of this router: the CoA it is bound to (none once
// the router discarded the key of that CoA, ForwardingTimedOut), its
// expiry and the last Timestamp accepted for it (0 after a restart); the
// key itself is in the key store.
type spiEntry struct {
	coa     netip.Addr
	expires time.Time
	ts      mh.NTPTimestamp
}

func newAAAState(cfg *AAAConfig, addr netip.Addr, store keystore.Store) (*aaaState, error) {
	if cfg.KeyServer == nil {
		return nil, errors.New("ar: AAAConfig needs a KeyServer")
	}
	if err := cfg.Codepoints.Validate(); err != nil {
		return nil, fmt.Errorf("ar: AAAConfig: %w", err)
	}
	a := &aaaState{cfg: *cfg, cp: cfg.Codepoints, exchanges: make(map[exchangeKey]*exchange), spis: make(map[uint32]spiEntry)}
	c := &a.cfg
	if c.Prefixes == nil {
		p, _ := addr.Prefix(64)
		c.Prefixes = []netip.Prefix{p}
	}
	c.MaxPending = orDefault(c.MaxPending, DefaultMaxPending)
	c.MaxBuffered = orDefault(c.MaxBuffered, c.MaxPending)
	c.HKSTimeout = orDefault(c.HKSTimeout, DefaultHKSTimeout)
	c.BufferFor = orDefault(c.BufferFor, HKeyReqTimeout)
	c.RetransInterval = orDefault(c.RetransInterval, DefaultRetransInterval)
	if c.MaxPending < 0 || c.MaxBuffered < 0 || c.HKSTimeout < 0 || c.BufferFor < 0 || c.RetransInterval < 0 {
		return nil, errors.New("ar: AAAConfig: negative bound")
	}
	// Each pending exchange sends at most one answer: the outbox never
	// needs more room than that.
	a.outbox = make(chan netio.Packet, min(c.MaxPending, 1024))
	// Rebuild the SPI index from the store, so that a restart keeps the
	// keys usable and their SPIs unique: every HK has its MN ID index
	// record, and a CoA record while it is tied to a CoA.
	err := store.Range(func(rec *keystore.Record) bool {
		if rec.AR == addr && rec.SPI >= hokey.FirstAAASPI {
			e := a.spis[rec.SPI]
			if !isNAIIndex(rec.MN) {
				e.coa = rec.MN
			}
			e.expires = rec.Expires
			a.spis[rec.SPI] = e
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("ar: reading the key store: %w", err)
	}
	return a, nil
}

// naiIndexPrefix holds the addresses under which the router stores a
// second record of each HK, found by the MN ID for the V flag (§6.3.1):
// the discard-only prefix of RFC 6666, which no node uses as a source, so
// that the record cannot be mistaken for a care-of address's.
var naiIndexPrefix = netip.MustParsePrefix("100::/64")

// naiIndex returns the key store address naming the HK of nai: the
// discard-only prefix and 64 bits of SHA-256("fhkey NAI index" | NAI).
func naiIndex(nai []byte) netip.Addr {
	h := sha256.New()
	h.Write([]byte("fhkey NAI index"))
	h.Write(nai)
	var a [16]byte
	a[0] = 1
	copy(a[8:], h.Sum(nil))
	return netip.AddrFrom16(a)
}

// isNAIIndex reports whether a is a naiIndex address. It does not
// allocate (the FBU path calls it).
func isNAIIndex(a netip.Addr) bool {
	b := a.As16()
	return b[0] == 1 && b[1] == 0 && b[2] == 0 && b[3] == 0 && b[4] == 0 && b[5] == 0 && b[6] == 0 && b[7] == 0
}

// Answers returns the channel of asynchronous answers: the HKResps sent
// after the Handover Key Server answered. Serve writes them to its Conn; a
// caller of HandlePacket without Serve must read them. When nobody reads
// and the channel is full, answers are dropped and counted
// (Stats.AnswersDropped). Nil when the shared-key mode is off.
func (r *Router) Answers() <-chan netio.Packet {
	if r.aaa == nil {
		return nil
	}
	return r.aaa.outbox
}

// send queues an asynchronous answer without blocking.
func (r *Router) sendLater(p netio.Packet) {
	select {
	case r.aaa.outbox <- p:
	default:
		r.stats.answersDropped.Add(1)
	}
}

// WaitKeyServer waits for the KeyServer calls in progress to end (they end
// with the context HandlePacket was given, or at HKSTimeout).
func (r *Router) WaitKeyServer() {
	if r.aaa != nil {
		r.aaa.wg.Wait()
	}
}

// expireSPIs forgets the SPIs of expired keys.
// untie leaves the HKs bound to coa bound to no CoA.
func (a *aaaState) untie(coa netip.Addr) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for s, e := range a.spis {
		if e.coa == coa {
			e.coa = netip.Addr{}
			a.spis[s] = e
		}
	}
}

func (a *aaaState) expireSPIs(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for s, e := range a.spis {
		if !now.Before(e.expires) {
			delete(a.spis, s)
		}
	}
}
