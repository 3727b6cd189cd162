package hac

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fhkey/fhkey/internal/radius"
	"github.com/fhkey/fhkey/mip6tls"
	"github.com/fhkey/fhkey/mip6udp"
)

// Defaults and limits of the role.
const (
	// DefaultSALifetime is the SA validity the HAC grants (§5.6.3).
	DefaultSALifetime = 24 * time.Hour
	// DefaultMaxContent bounds a received container's content portion:
	// the largest request of either method (an EAP-TLS fragment of 1020
	// octets is 2 KiB of hex) fits several times.
	DefaultMaxContent = 16384
	// DefaultMaxExchanges bounds the requests of one session (§5.3 allows
	// 255; an EAP-TLS exchange needs about 10).
	DefaultMaxExchanges = mip6tls.MaxExchanges
)

// DefaultCipherSuites is the HAC's preference among the §5.6.5 suites.
var DefaultCipherSuites = []mip6tls.CipherSuite{mip6tls.CipherSuiteAES128CBCSHA256, mip6tls.CipherSuiteAES128CBCSHA, mip6tls.CipherSuiteNullSHA256}

// EAPSession relays one MN's EAP conversation to an AAA server;
// *radius.EAPSession implements it.
type EAPSession interface {
	Send(ctx context.Context, eapResponse []byte) (radius.EAPResult, error)
}

// Provisioned is what the HAC tells the HA about one bootstrap: the MN, its
// SA and its bootstrapping data (home address).
type Provisioned struct {
	Identity  mip6tls.MNIdentifier
	SA        mip6tls.SecurityAssociation
	Bootstrap mip6tls.Bootstrap
}

// SAProvisioner hands an SA to the home agent (the HAC→HA channel,
// internal/hac/hachannel). An error means the HA does not hold it: the MN
// then gets a failure status and no SA.
type SAProvisioner interface {
	Provision(ctx context.Context, p *Provisioned) error
}

// Config configures a HAC.
type Config struct {
	Subscribers SubscriberStore
	// EAP opens an EAP relay session for an identity; nil: the HAC does
	// not offer eap.
	EAP func(identity string) EAPSession
	// Provisioner receives each SA before the MN does. Required.
	Provisioner SAProvisioner
	// CipherSuites is the HAC's preference (nil: DefaultCipherSuites).
	CipherSuites []mip6tls.CipherSuite
	// SALifetime is the validity granted (0: DefaultSALifetime).
	SALifetime time.Duration
	// HomeAgent and Port are the HA's address and UDP port sent to the MN
	// (§5.7.1, §5.7.2; port 0: not sent, the MN uses 7872); DNS the DNS
	// server of subscribers that have none of their own (§5.7.4).
	HomeAgent netip.Addr
	Port      mip6tls.ServicePort
	DNS       netip.Addr
	// MaxContent bounds a received content portion (0: DefaultMaxContent);
	// MaxExchanges the requests of a session (0: DefaultMaxExchanges).
	MaxContent, MaxExchanges int
	// Now is the clock (nil: time.Now); Rand the randomness of nonces,
	// SPIs and keys (nil: crypto/rand).
	Now  func() time.Time
	Rand io.Reader
}

// HAC is the Home Agent Controller role. It is safe for concurrent use:
// each Serve call is one MN's session.
type HAC struct {
	cfg   Config
	spis  spiTable
	stats stats
}

// New returns a HAC.
func New(cfg Config) (*HAC, error) {
	if cfg.Subscribers == nil || cfg.Provisioner == nil {
		return nil, errors.New("hac: Config.Subscribers and Provisioner are required")
	}
	if cfg.CipherSuites == nil {
		cfg.CipherSuites = DefaultCipherSuites
	}
	for _, c := range cfg.CipherSuites {
		if !c.Defined() {
			return nil, fmt.Errorf("hac: ciphersuite %v is not one of RFC 6618 §5.6.5", c)
		}
	}
	if cfg.SALifetime <= 0 {
		cfg.SALifetime = DefaultSALifetime
	}
	if cfg.MaxContent <= 0 || cfg.MaxContent > mip6tls.MaxContentLen {
		cfg.MaxContent = DefaultMaxContent
	}
	if cfg.MaxExchanges <= 0 || cfg.MaxExchanges > mip6tls.MaxExchanges {
		cfg.MaxExchanges = DefaultMaxExchanges
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	return &HAC{cfg: cfg, spis: spiTable{used: map[mip6tls.SPI]time.Time{}}}, nil
}

// Methods returns the methods this HAC offers.
func (h *HAC) Methods() []mip6tls.AuthMethod {
	if h.cfg.EAP == nil {
		return []mip6tls.AuthMethod{mip6tls.AuthMethodPSK}
	}
	return []mip6tls.AuthMethod{mip6tls.AuthMethodPSK, mip6tls.AuthMethodEAP}
}

// spiTable keeps the SPIs of SAs still valid, so that a new SA never
// reuses one (§5.6.1: the SPI identifies the SA at the HA). Expired SPIs
// leave through a queue ordered by validity end (spiexpiry.go), so that an
// allocation costs O(log n), not a scan of every SA still valid under the
// lock (fhkey bench tls: the scan grew with every bootstrap).
type spiTable struct {
	mu     sync.Mutex
	used   map[mip6tls.SPI]time.Time // SPI → validity end
	expiry spiExpiry
}

// allocate returns a random SPI not in use, reserved until end: first
// is the first candidate (4 random octets read with the keys), r gives
// the next ones.
func (t *spiTable) allocate(first [4]byte, r io.Reader, now, end time.Time) (mip6tls.SPI, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expiry.expire(t.used, now)
	b := first
	for i := range 64 {
		if i > 0 {
			if _, err := io.ReadFull(r, b[:]); err != nil {
				return 0, err
			}
		}
		spi := mip6tls.SPI(uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3])) & mip6tls.MaxSPI
		if _, taken := t.used[spi]; spi != 0 && !taken {
			t.used[spi] = end
			t.expiry.add(spi, end)
			return spi, nil
		}
	}
	return 0, errors.New("hac: no free SPI")
}

// release frees an SPI whose SA was not provisioned.
func (t *spiTable) release(spi mip6tls.SPI) {
	t.mu.Lock()
	delete(t.used, spi)
	t.mu.Unlock()
}

// keyLen returns the integrity and encryption key lengths of a §5.6.5
// suite from the "Ciphersuite-to-Algorithm Mapping" table (mip6udp's
// Suite): the *_SHA256 suites integrity-protect with AES-XCBC-MAC-96 and
// its 16-octet key (RFC 3566), not HMAC-SHA256, so that the HA can key
// the SA it is given.
func keyLen(c mip6tls.CipherSuite) (integrity, encryption int) {
	s, err := mip6udp.LookupSuite(mip6udp.CipherSuite(c))
	if err != nil {
		return 0, 0 // the role selects only from mip6tls's five suites
	}
	return s.IntegrityKeyLen, s.EncryptionKeyLen
}

// newSA creates the SA of one bootstrap (§4.3, §5.6): a fresh unique
// SPI, four independent random keys sized for the suite, the validity end.
func (h *HAC) newSA(suite mip6tls.CipherSuite, scope mip6tls.SAScope) (mip6tls.SecurityAssociation, error) {
	now := h.cfg.Now()
	// rfc1123-date has whole seconds: the end is rounded down so that the
	// MN and HA read the same instant.
	end := now.Add(h.cfg.SALifetime).UTC().Truncate(time.Second)
	il, el := keyLen(suite)
	// One read for the SPI candidate and the four keys (§5.6.2: "randomly
	// generated"), wiped once copied into the SA.
	var buf [4 + 4*mip6tls.MaxKeyLen]byte
	defer clear(buf[:])
	random := buf[:4+2*il+2*el]
	if _, err := io.ReadFull(h.cfg.Rand, random); err != nil {
		return mip6tls.SecurityAssociation{}, err
	}
	spi, err := h.spis.allocate([4]byte(random[:4]), h.cfg.Rand, now, end)
	if err != nil {
		return mip6tls.SecurityAssociation{}, err
	}
	sa := mip6tls.SecurityAssociation{SPI: spi, CipherSuite: suite, Scope: scope, ValidityEnd: end}
	keys := []struct {
		k *mip6tls.Key
		n int
	}{{&sa.MNToHAIntegrity, il}, {&sa.HAToMNIntegrity, il}, {&sa.MNToHAEncryption, el}, {&sa.HAToMNEncryption, el}}
	material := random[4:]
	for _, k := range keys {
		if k.n == 0 {
			continue
		}
		if *k.k, err = mip6tls.NewKey(material[:k.n]); err != nil {
			h.spis.release(spi)
			sa.Zero()
			return mip6tls.SecurityAssociation{}, err
		}
		material = material[k.n:]
	}
	return sa, nil
}

// Stats are the role's counters: bootstraps by method and outcome.
type Stats struct {
	Sessions   uint64                       `json:"sessions"`
	Bootstraps map[string]map[string]uint64 `json:"bootstraps"` // method → outcome → count
}

// Outcomes of a session, the label values of the bootstraps counter.
const (
	OutcomeOK           = "ok"
	OutcomeUnauthorized = "unauthorized" // 401: unknown identity, wrong auth, EAP reject
	OutcomeBadRequest   = "bad_request"  // 400: malformed, lockstep, too long
	OutcomeUnsupported  = "unsupported"  // 501: no common method or ciphersuite
	OutcomeHAFailed     = "ha_failed"    // 503/504: the HA or the AAA server did not answer
	OutcomeInternal     = "internal"     // 500
	OutcomeAborted      = "aborted"      // the MN closed or timed out: no final response
)

type stats struct {
	sessions atomic.Uint64
	mu       sync.Mutex
	by       map[string]map[string]uint64
}

func (s *stats) count(method, outcome string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.by == nil {
		s.by = map[string]map[string]uint64{}
	}
	if s.by[method] == nil {
		s.by[method] = map[string]uint64{}
	}
	s.by[method][outcome]++
}

// Stats returns a snapshot of the counters.
func (h *HAC) Stats() Stats {
	h.stats.mu.Lock()
	defer h.stats.mu.Unlock()
	out := Stats{Sessions: h.stats.sessions.Load(), Bootstraps: map[string]map[string]uint64{}}
	for m, os := range h.stats.by {
		out.Bootstraps[m] = map[string]uint64{}
		for o, n := range os {
			out.Bootstraps[m][o] = n
		}
	}
	return out
}
