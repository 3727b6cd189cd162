package mip6tls

// MaxExchanges is the number of request-response exchanges one session may
// hold (RFC 6618 §5.3: "MUST NOT exceed 255"); it is also the largest
// Identifier (§5.1: "between 1-255").
const MaxExchanges = 255

// Lockstep tracks the Identifiers of one MN-HAC session (RFC 6618 §5.3) on
// either side: the first request has Identifier 1, each next request the
// previous one plus 1 ("monotonically increasing", "Each request MUST have
// a different Identifier value"), each response copies its request's
// Identifier, a request waits for the previous response ("lockstep"), and
// the response carrying status-code ends the session ("MUST only be
// present in the response message that ends the request-response message
// exchange"). A method that returns an error changes nothing. The zero
// value is a new session ("Each new communication session ... MUST reset
// the Identifier value to 1").
type Lockstep struct {
	last    uint8 // Identifier of the last accepted request, 0 before any
	pending bool  // a request awaits its response
	done    bool  // the final response was accepted
}

// NextIdentifier returns the Identifier the MN's next request must carry.
func (l *Lockstep) NextIdentifier() (uint8, error) {
	if err := l.requestAllowed(); err != nil {
		return 0, err
	}
	return l.last + 1, nil
}

func (l *Lockstep) requestAllowed() error {
	switch {
	case l.done:
		return exchangeErr(ErrExchangeDone, "request after the final response")
	case l.pending:
		return exchangeErr(ErrOutOfStep, "request %d awaits its response", l.last)
	case l.last == MaxExchanges:
		return exchangeErr(ErrTooManyExchanges, "request after exchange %d", MaxExchanges)
	}
	return nil
}

// Request accepts a request (sent by the MN or received by the HAC) with
// the given Identifier; hasStatus says whether it carries status-code.
func (l *Lockstep) Request(id uint8, hasStatus bool) error {
	if err := l.requestAllowed(); err != nil {
		return err
	}
	switch want := l.last + 1; {
	case id == 0:
		return exchangeErr(ErrIdentifier, "request Identifier 0")
	case id <= l.last:
		return exchangeErr(ErrIdentifierReused, "request Identifier %d, next is %d", id, want)
	case id != want:
		return exchangeErr(ErrIdentifierSkipped, "request Identifier %d, next is %d", id, want)
	}
	if hasStatus {
		return exchangeErr(ErrStatusInRequest, "request %d", id)
	}
	l.last, l.pending = id, true
	return nil
}

// Response accepts the response to the outstanding request (sent by the
// HAC or received by the MN); final says whether it carries status-code
// and so ends the session. It reports whether the session has ended.
func (l *Lockstep) Response(id uint8, final bool) (ended bool, err error) {
	switch {
	case l.done:
		return true, exchangeErr(ErrExchangeDone, "response %d after the final response", id)
	case !l.pending:
		return false, exchangeErr(ErrOutOfStep, "response %d with no request outstanding", id)
	case id != l.last:
		return false, exchangeErr(ErrOutOfStep, "response Identifier %d, request was %d", id, l.last)
	}
	l.pending, l.done = false, final
	return final, nil
}

// Exchanges returns the number of requests accepted so far.
func (l *Lockstep) Exchanges() int { return int(l.last) }

// Done reports whether the final response was accepted.
func (l *Lockstep) Done() bool { return l.done }
