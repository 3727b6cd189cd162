package hks

import "sync/atomic"

// Stats are the Server's counters since it was created.
type Stats struct {
	// Requests is every RequestKey call.
	Requests uint64
	// Accepted requests got an HK.
	Accepted uint64
	// Refusals answered with an error HKResp, by Status Code.
	AdministrativelyProhibited uint64 // 131
	TimestampRequired          uint64 // 135
	InvalidPRF                 uint64 // 136
	InvalidMAC                 uint64 // 137
	InvalidTimestamp           uint64 // 138, Replayed included
	// Replayed is the INVALID_TIMESTAMP answers to a Timestamp not later
	// than the subscriber's last accepted one.
	Replayed uint64
	// Discards (aaa.ErrDiscarded): nothing answered, nothing stored.
	BadMAC            uint64 // the MN-HKS MAC does not verify
	UnknownSubscriber uint64 // no subscriber with the NAI
	Malformed         uint64 // the request or its HKReq is unusable
	// StoreErrors: the subscriber store failed (or held a corrupt
	// record); the request was neither answered nor discarded.
	StoreErrors uint64
}

type counters struct {
	requests, accepted                                                      atomic.Uint64
	prohibited, timestampRequired, invalidPRF, invalidMAC, invalidTimestamp atomic.Uint64
	replayed, badMAC, unknownSubscriber, malformed, storeErrors             atomic.Uint64
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	c := &s.stats
	return Stats{
		Requests: c.requests.Load(), Accepted: c.accepted.Load(),
		AdministrativelyProhibited: c.prohibited.Load(), TimestampRequired: c.timestampRequired.Load(),
		InvalidPRF: c.invalidPRF.Load(), InvalidMAC: c.invalidMAC.Load(), InvalidTimestamp: c.invalidTimestamp.Load(),
		Replayed: c.replayed.Load(), BadMAC: c.badMAC.Load(), UnknownSubscriber: c.unknownSubscriber.Load(),
		Malformed: c.malformed.Load(), StoreErrors: c.storeErrors.Load(),
	}
}
