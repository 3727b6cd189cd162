package ar

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/inet"
	"github.com/fhkey/fhkey/internal/netio"
	"github.com/fhkey/fhkey/keystore"
	"github.com/fhkey/fhkey/mh"
)

// Binding is the forwarding state an accepted FBU creates: traffic for
// Previous (the PCoA) goes to New (the NCoA) until Expires (RFC 5568 §6.2.2).
type Binding struct {
	Previous, New netip.Addr
	Sequence      uint16
	// Lifetime is the forwarding lifetime granted; Expires is when it ends.
	Lifetime time.Duration
	Expires  time.Time
}

// Bindings is where the previous access router records accepted FBUs. The
// forwarding code (tunnel PCoA → NCoA) implements it; BindingTable is the
// in-memory version.
type Bindings interface {
	// Bind installs or replaces the binding for b.Previous; a zero lifetime
	// (b.Expires not after now) removes it.
	Bind(b Binding) error
	// Lookup returns the binding of previous, if any.
	Lookup(previous netip.Addr) (Binding, bool)
}

// BindingTable is an in-memory Bindings. It is safe for concurrent use.
type BindingTable struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[netip.Addr]Binding
}

// NewBindingTable returns an empty table judging expiry by now (nil:
// time.Now).
func NewBindingTable(now func() time.Time) *BindingTable {
	if now == nil {
		now = time.Now
	}
	return &BindingTable{now: now, m: make(map[netip.Addr]Binding)}
}

// Bind implements Bindings.
func (t *BindingTable) Bind(b Binding) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !b.Expires.After(t.now()) {
		delete(t.m, b.Previous)
		return nil
	}
	t.m[b.Previous] = b
	return nil
}

// Lookup implements Bindings.
func (t *BindingTable) Lookup(previous netip.Addr) (Binding, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	b, ok := t.m[previous]
	if ok && !b.Expires.After(t.now()) {
		return Binding{}, false
	}
	return b, ok
}

// Snapshot returns a copy of the unexpired bindings.
func (t *BindingTable) Snapshot() map[netip.Addr]Binding {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	out := make(map[netip.Addr]Binding, len(t.m))
	for k, b := range t.m {
		if b.Expires.After(now) {
			out[k] = b
		}
	}
	return out
}

// Expire removes the timed-out bindings and returns how many.
func (t *BindingTable) Expire() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	now, n := t.now(), 0
	for k, b := range t.m {
		if !b.Expires.After(now) {
			delete(t.m, k)
			n++
		}
	}
	return n
}

// fbuVerdict is the outcome of checking one FBU.
type fbuVerdict int

const (
	fbuAccepted fbuVerdict = iota
	fbuMalformed
	fbuUnknownKey
	fbuExpiredKey
	fbuBadAuth
	fbuStale
	fbuUnknownNAI  // MSK mode: no usable MSK for the NAI
	fbuMSKBadSPI   // MSK mode: not an FHK SPI, or an AT not allowed
	fbuMSKNotOwner // MSK mode: authenticated, but the PCoA is not the NAI's
)

// ErrFBU is wrapped by the Trace errors of rejected FBUs.
var ErrFBU = errors.New("ar: fast binding update rejected")

var verdictErrors = map[fbuVerdict]error{
	fbuMalformed:   fmt.Errorf("%w: malformed (checksum, BADF missing or not last, addresses)", ErrFBU),
	fbuUnknownKey:  fmt.Errorf("%w: no handover key for the previous CoA", ErrFBU),
	fbuExpiredKey:  fmt.Errorf("%w: handover key expired", ErrFBU),
	fbuBadAuth:     fmt.Errorf("%w: BADF authenticator does not verify", ErrFBU),
	fbuStale:       fmt.Errorf("%w: sequence number not newer than the binding's", ErrFBU),
	fbuUnknownNAI:  fmt.Errorf("%w: no MSK for the MN-NAI", ErrFBU),
	fbuMSKBadSPI:   fmt.Errorf("%w: not the FHK SPI of an allowed AT", ErrFBU),
	fbuMSKNotOwner: fmt.Errorf("%w: the PCoA's neighbor entry is not the NAI's supplicant MAC address", ErrFBU),
}

// handleFastBindingUpdate is RFC 5269 §3.5 with RFC 5568 §6.2.2-§6.2.3 and
// §6.4.5 for one received FBU. docs/handover-keys.md lists the answers.
func (r *Router) handleFastBindingUpdate(p netio.Packet) []netio.Packet {
	r.stats.fbu.Add(1)
	var start time.Time
	if r.cfg.Trace != nil {
		start = time.Now()
	}
	v, fbu, pcoa, ncoa, key, spi := r.checkFastBindingUpdate(p)
	defer key.Zero()
	if r.cfg.Trace != nil {
		r.trace("fbu-verify", pcoa, start, verdictErrors[v], key.Algorithm())
	}
	switch v {
	case fbuMalformed:
		r.stats.fbuMalformed.Add(1)
		return nil
	case fbuUnknownKey, fbuExpiredKey:
		// "If the handover key is not found, the PAR MUST NOT change
		// forwarding for the care-of CGA." No answer: an FBack MUST carry
		// a BADF (RFC 5568 §6.2.3), which needs the key.
		if v == fbuUnknownKey {
			r.stats.fbuUnknown.Add(1)
		} else {
			r.stats.fbuExpired.Add(1)
		}
		return nil
	case fbuUnknownNAI:
		// As an unknown key: nothing changes and, without a key to
		// authenticate it, no FBack (docs/msk.md).
		r.stats.fbuMSKUnknownNAI.Add(1)
		return nil
	case fbuMSKBadSPI:
		r.stats.fbuAuth.Add(1)
		r.stats.fbuMSKBadAuth.Add(1)
		return nil
	case fbuBadAuth:
		r.stats.fbuAuth.Add(1)
		if !fbu.BADF {
			r.stats.fbuMSKBadAuth.Add(1)
		}
		return r.fastBindingAck(p, fbu, mh.FastStatusAdministrativelyProhibited, 0, pcoa, ncoa, &key, spi)
	case fbuMSKNotOwner:
		// Authenticated, so answered with the FHK; not authorized for
		// this PCoA: administratively prohibited, nothing changes
		// (docs/msk.md).
		r.stats.fbuMSKNotOwner.Add(1)
		return r.fastBindingAck(p, fbu, mh.FastStatusAdministrativelyProhibited, 0, pcoa, ncoa, &key, spi)
	case fbuStale:
		r.stats.fbuStale.Add(1)
		return r.fastBindingAck(p, fbu, mh.FastStatusReasonUnspecified, 0, pcoa, ncoa, &key, spi)
	}
	lifetime := min(fbu.Lifetime, r.set.Load().fwd)
	if err := r.bindings.Bind(Binding{Previous: pcoa, New: ncoa, Sequence: fbu.Sequence, Lifetime: lifetime, Expires: r.now().Add(lifetime)}); err != nil {
		r.stats.fbuBind.Add(1)
		return r.fastBindingAck(p, fbu, mh.FastStatusInsufficientResources, 0, pcoa, ncoa, &key, spi)
	}
	r.stats.fbuOK.Add(1)
	if !fbu.BADF {
		r.stats.fbuMSKOK.Add(1)
	}
	if r.log.Enabled(context.Background(), slog.LevelInfo) { // no boxing on the hot path otherwise
		if lifetime > 0 {
			r.log.Info("fast binding update accepted: forwarding", "previous_coa", pcoa, "new_coa", ncoa, "lifetime", lifetime)
		} else {
			r.log.Info("fast binding update with lifetime 0: forwarding ended", "previous_coa", pcoa)
		}
	}
	if !fbu.Acknowledge {
		return nil
	}
	// The FBack carries "the granted lifetime in seconds". An FBU that
	// ends forwarding (Lifetime 0, RFC 5568 §5.6: "An MN returning to the
	// PAR ... MUST send a Fast Binding Update with ... a lifetime of zero")
	// from this router's link is answered there, at its source: the
	// tunnel to the NCoA is gone ("The Fast Binding Acknowledgment MAY
	// also be sent to the MN on the old link", §6.2.3).
	dst := ncoa
	if lifetime <= 0 && !p.HomeAddress.IsValid() {
		dst = pcoa
	}
	return r.fastBindingAckTo(p, fbu, mh.FastStatusAccepted, lifetime.Truncate(time.Second), pcoa, ncoa, dst, &key, spi)
}

// checkFastBindingUpdate authenticates p. The key and its SPI are returned
// for the answer when one was found.
//
// It does not allocate on success, nor for a wrong authenticator
// (TestFBUVerifyAllocs): the FBU is decoded by mh.ParseFastBindingUpdate,
// the Mobility Data is built in an array on the stack, the key is copied
// from the store's record into key (a fixed array, zeroed by the caller)
// and the HMAC runs on the stack (hokey.Key.VerifyAuthenticator).
func (r *Router) checkFastBindingUpdate(p netio.Packet) (v fbuVerdict, fbu mh.FastBindingUpdateView, pcoa, ncoa netip.Addr, key hokey.Key, spi uint32) {
	src, home := p.Src.WithZone(""), p.HomeAddress.WithZone("")
	if p.Dst.WithZone("") != r.addr || !src.Is6() {
		return fbuMalformed, fbu, pcoa, ncoa, key, spi
	}
	// RFC 6275 §6.1.1: with a Home Address option the checksum uses the
	// home address as the source.
	ckSrc := src
	if home.IsValid() {
		ckSrc = home
	}
	if mh.VerifyChecksum(p.Payload, ckSrc, r.addr) != nil {
		return fbuMalformed, fbu, pcoa, ncoa, key, spi
	}
	fbu, err := mh.ParseFastBindingUpdate(p.Payload)
	if err != nil {
		return fbuMalformed, fbu, pcoa, ncoa, key, spi
	}
	// RFC 5568 §6.2.2: from the NAR's link the source is the NCoA and the
	// Home Address option holds the PCoA; from the PAR's link the source is
	// the PCoA and "the MN MUST include the alternate CoA option set to
	// NCoA" (RFC 5269 §3.5 names the key by the Home Address option; a
	// packet from the PAR's link without one names it by its source).
	pcoa, ncoa = src, netip.Addr{}
	if home.IsValid() {
		pcoa, ncoa = home, src
	}
	if fbu.AlternateCareOfAddress.IsValid() {
		ncoa = fbu.AlternateCareOfAddress.WithZone("")
	}
	// The PCoA names the key: never a record indexed by MN ID (aaa.go).
	if !ncoa.Is6() || ncoa.IsMulticast() || ncoa.IsUnspecified() || !pcoa.Is6() || pcoa == ncoa || isNAIIndex(pcoa) {
		return fbuMalformed, fbu, pcoa, ncoa, key, spi
	}
	if !fbu.BADF {
		// The MSK mode (docs/msk.md): sent from the NCoA, "the MN MUST
		// include the old care-of address in a Home Address Option"
		// (draft-li-mipshop-fbu-sec-00 §4).
		if r.msk == nil || !home.IsValid() {
			return fbuMalformed, fbu, pcoa, ncoa, key, spi
		}
		v, key, spi = r.checkMSKFastBindingUpdate(p.Payload, fbu, pcoa, ncoa)
		return v, fbu, pcoa, ncoa, key, spi
	}
	var data [mh.MaxMobilityDataLen]byte
	cov, err := mh.AppendCoveredByBADF(data[:0], p.Payload, ncoa, r.addr)
	if err != nil {
		return fbuMalformed, fbu, pcoa, ncoa, key, spi
	}
	rec, err := r.cfg.Store.Get(r.addr, pcoa)
	switch {
	case errors.Is(err, keystore.ErrExpired):
		return fbuExpiredKey, fbu, pcoa, ncoa, key, spi
	case err != nil:
		return fbuUnknownKey, fbu, pcoa, ncoa, key, spi
	}
	key, err = hokey.NewKey(hokey.AlgorithmType(rec.AT), rec.KeyBytes())
	spi = rec.SPI
	rec.Zero()
	if err != nil {
		r.stats.internal.Add(1)
		return fbuUnknownKey, fbu, pcoa, ncoa, key, spi
	}
	// SPI 0 "is reserved for the Authenticator computed using SEND-based
	// handover keys" (RFC 5568 §6.4.5); a key from the Handover Key Server
	// has the SPI of its HKResp (docs/aaa.md). The BADF must name the key
	// stored for the PCoA. The MAC is compared in constant time over the
	// received bytes.
	if cov.SPI != spi || key.VerifyAuthenticator(ncoa, r.addr, cov.Data[32:], cov.Authenticator) != nil {
		return fbuBadAuth, fbu, pcoa, ncoa, key, spi
	}
	// A replayed FBU would re-point the PCoA at an earlier NCoA: the
	// Sequence Number must advance (RFC 6275 §9.5.1, modulo 2^16).
	if b, ok := r.bindings.Lookup(pcoa); ok && int16(fbu.Sequence-b.Sequence) <= 0 {
		return fbuStale, fbu, pcoa, ncoa, key, spi
	}
	return fbuAccepted, fbu, pcoa, ncoa, key, spi
}

// fastBindingAck builds the FBack for fbu (RFC 5568 §6.2.3) with a BADF
// computed with key (BADF SPI spi): care-of address NCoA, correspondent the
// PAR's address, sent from the PAR to the NCoA.
func (r *Router) fastBindingAck(p netio.Packet, fbu mh.FastBindingUpdateView, status uint8, lifetime time.Duration, pcoa, ncoa netip.Addr, key *hokey.Key, spi uint32) []netio.Packet {
	return r.fastBindingAckTo(p, fbu, status, lifetime, pcoa, ncoa, ncoa, key, spi)
}

// fastBindingAckTo builds the FBack authenticated over ncoa (RFC 5568
// §6.4.5: the care-of address of the binding) and sends it to dst.
//
// The answer costs one allocation, an fbackOut: the returned slice, the
// message it is marshalled from and the payload octets. It is new for each
// FBack and owned by the caller, as HandlePacket's answers always were:
// reusing a buffer would need every caller to be done with the packet
// before the next FBU, which HandlePacket cannot know. A key of the
// shared-key mode (SPI not 0) costs two more: its BADF option.
//
// An FBU of the MSK mode (no BADF, p the FBU) is answered with its MN-NAI
// option and the MN-HA option signed with the FHK (fastBindingAckFHK).
func (r *Router) fastBindingAckTo(p netio.Packet, fbu mh.FastBindingUpdateView, status uint8, lifetime time.Duration, pcoa, ncoa, dst netip.Addr, key *hokey.Key, spi uint32) []netio.Packet {
	at := key.Algorithm()
	if !at.Valid() {
		r.stats.internal.Add(1)
		return nil
	}
	if !fbu.BADF {
		nai, err := mh.MobileNodeNAI(p.Payload)
		var b []byte
		if err == nil {
			b, err = r.fastBindingAckFHK(mh.FastBindingAcknowledgment{Status: status, Sequence: fbu.Sequence, Lifetime: lifetime}, nai, key, ncoa, pcoa, dst)
		}
		if err != nil {
			r.stats.internal.Add(1)
			return nil
		}
		r.stats.fback.Add(1)
		return []netio.Packet{{Src: r.addr, Dst: dst, HopLimit: 64, NextHeader: inet.ProtocolMobility, Payload: b}}
	}
	out := new(fbackOut)
	opts := fbackOptions[at]
	if spi != 0 {
		opts = []mh.Option{mh.BindingAuthorizationDataForFMIPv6{SPI: spi, Authenticator: make([]byte, at.AuthenticatorLen())}}
	}
	out.ack = mh.FastBindingAcknowledgment{Status: status, Sequence: fbu.Sequence, Lifetime: lifetime, Options: opts}
	// &out.ack is a mh.Message (the methods have value receivers) that,
	// unlike out.ack, needs no boxing: it points into out.
	b, err := hokey.AppendSignedBADF(out.buf[:0], &out.ack, key, ncoa, r.addr, r.addr, dst)
	if err != nil {
		r.stats.internal.Add(1)
		return nil
	}
	r.stats.fback.Add(1)
	out.p[0] = netio.Packet{Src: r.addr, Dst: dst, HopLimit: 64, NextHeader: inet.ProtocolMobility, Payload: b}
	return out.p[:]
}

// fbackOut is the answer to one FBU in one allocation.
type fbackOut struct {
	p   [1]netio.Packet
	ack mh.FastBindingAcknowledgment
	// buf holds the FBack: 6 octets of header, 6 of fixed fields, the
	// BADF (2 + 4 + 16 octets at most) and up to 7 of padding: 41.
	buf [48]byte
}

// fbackOptions are the options of an FBack per AT: a BADF with SPI 0 (RFC
// 5568 §6.4.5) and a placeholder Authenticator of the AT's length, which
// hokey.AppendSignedBADF overwrites in the marshalled octets. They are
// shared and never modified.
var fbackOptions = func() (o [atValues][]mh.Option) {
	for _, at := range hokey.Supported() {
		o[at] = []mh.Option{mh.BindingAuthorizationDataForFMIPv6{SPI: 0, Authenticator: make([]byte, at.AuthenticatorLen())}}
	}
	return o
}()

// atValues is the number of values of the 4-bit AT field (RFC 5269 §4.2).
const atValues = 16

// SignBADF is hokey.SignBADF (kept so existing callers need not change).
var SignBADF = hokey.SignBADF
