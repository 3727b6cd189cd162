package mip6udp

// Sequence is the last Sequence Number Seal used (0: none yet). A home
// agent persists a bound above it so that a restart never reuses one
// (RFC 4303 §3.3.3: the counter is never allowed to cycle; a reused number
// would be dropped by the peer's window).
func (o *Outbound) Sequence() uint32 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.seq
}

// ResumeAt makes the next Seal use seq+1, after a restart from persisted
// state. It never moves the counter back.
func (o *Outbound) ResumeAt(seq uint32) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seq = max(o.seq, seq)
}

// Highest is the right edge of the replay window: the highest Sequence
// Number accepted so far.
func (in *Inbound) Highest() uint32 {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.window.Highest()
}

// ResumeAt restores the window after a restart: every Sequence Number up
// to seq counts as received, so only later ones are accepted. It never
// moves the window back.
func (in *Inbound) ResumeAt(seq uint32) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if seq > in.window.right {
		in.window.right, in.window.bitmap = seq, ^uint64(0)
	}
}

// SetLimit makes Open refuse, with ErrBeyondLimit, a verified packet whose
// Sequence Number is beyond limit, leaving the window unchanged. A home
// agent sets it to the inbound lease it persisted, so that a restart after
// a crash can refuse everything it may have accepted (docs/ha.md). A
// fresh Inbound has no limit.
func (in *Inbound) SetLimit(limit uint32) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.limit, in.limited = limit, true
}
