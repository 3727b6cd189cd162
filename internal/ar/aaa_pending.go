package ar

import (
	"time"

	"github.com/fhkey/fhkey/internal/netio"
)

// exchangeKey names one HKReq exchange: "a pending request from the MN with
// the same message id" (draft §6.3), the MN named by its MN ID.
type exchangeKey struct {
	nai string
	id  uint8
}

// exchange is an HKReq relayed to the HKS, pending or answered.
type exchange struct {
	// digest is the SHA-256 of the HKReq as received: a retransmission
	// is the same octets (the MN resends its request unchanged).
	digest   [32]byte
	answered bool
	answer   netio.Packet
	// expires is when a buffered answer is forgotten; lastSent when it
	// was last sent (RETRANS_RATE).
	expires, lastSent time.Time
}

type bufferedItem struct {
	key exchangeKey
	ex  *exchange
}

// duplicate is what the table says of an HKReq.
type duplicate int

const (
	dupNew         duplicate = iota // no exchange: a new request
	dupPending                      // same request, HKS not answered yet: discard
	dupResend                       // same request, answered: resend the answer
	dupRateLimited                  // same request, answer sent too recently
	dupConflict                     // same (MN ID, Message ID), other octets
	dupFull                         // new, but MaxPending requests are pending
	dupReplay                       // new, but its Timestamp is not newer than the MN ID's key
)

// sweep forgets the buffered answers whose time has passed. a.mu held.
func (a *aaaState) sweep(now time.Time) {
	n := 0
	for _, b := range a.buffered {
		if now.Before(b.ex.expires) {
			break
		}
		if a.exchanges[b.key] == b.ex {
			delete(a.exchanges, b.key)
		}
		n++
	}
	if n > 0 {
		clear(a.buffered[:n])
		a.buffered = a.buffered[n:]
	}
}

// begin looks k up and, for a new request when there is room and fresh
// (called with a.mu held) agrees, records it as pending. For dupResend it
// returns the answer to send.
func (a *aaaState) begin(k exchangeKey, digest [32]byte, now time.Time, fresh func() bool) (duplicate, *exchange, netio.Packet) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sweep(now)
	if ex, ok := a.exchanges[k]; ok {
		switch {
		case ex.digest != digest:
			return dupConflict, nil, netio.Packet{}
		case !ex.answered:
			return dupPending, nil, netio.Packet{}
		case now.Sub(ex.lastSent) < a.cfg.RetransInterval:
			return dupRateLimited, nil, netio.Packet{}
		}
		ex.lastSent = now
		return dupResend, nil, ex.answer
	}
	if !fresh() {
		return dupReplay, nil, netio.Packet{}
	}
	if a.pending >= a.cfg.MaxPending {
		return dupFull, nil, netio.Packet{}
	}
	ex := &exchange{digest: digest}
	a.exchanges[k] = ex
	a.pending++
	return dupNew, ex, netio.Packet{}
}

// finish ends the pending exchange ex: without an answer it is forgotten
// (§6.3: "remove all state associated with the MN"); with one, the answer
// is buffered for BufferFor.
func (a *aaaState) finish(k exchangeKey, ex *exchange, answer *netio.Packet, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.pending--
	if answer == nil || a.cfg.MaxBuffered == 0 {
		if a.exchanges[k] == ex {
			delete(a.exchanges, k)
		}
		return
	}
	ex.answered, ex.answer, ex.lastSent, ex.expires = true, *answer, now, now.Add(a.cfg.BufferFor)
	a.buffered = append(a.buffered, bufferedItem{k, ex})
	if len(a.buffered) > a.cfg.MaxBuffered {
		old := a.buffered[0]
		if a.exchanges[old.key] == old.ex {
			delete(a.exchanges, old.key)
		}
		a.buffered[0] = bufferedItem{}
		a.buffered = a.buffered[1:]
	}
}

// Exchanges returns the number of pending and of buffered exchanges.
func (r *Router) Exchanges() (pending, buffered int) {
	if r.aaa == nil {
		return 0, 0
	}
	r.aaa.mu.Lock()
	defer r.aaa.mu.Unlock()
	r.aaa.sweep(r.now())
	return r.aaa.pending, len(r.aaa.buffered)
}
