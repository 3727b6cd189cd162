package netio

import "context"

// MaxBatch is the largest number of packets the raw transports move in
// one system call (recvmmsg, sendmmsg); larger batches are split.
const MaxBatch = 64

// BatchConn is implemented by Conns that can move several packets per
// system call (on Linux, recvmmsg(2) and sendmmsg(2)): MHConn and
// ICMPConn. It is optional: a role type-asserts its Conn and falls back
// to ReadPacket and WritePacket, whose behaviour the batch methods do not
// change. Packets read and written through either path are the same.
type BatchConn interface {
	Conn
	// ReadBatch blocks until at least one packet arrives, ctx ends or the
	// Conn is closed, then fills ps with the packets already received,
	// without waiting for more, and returns how many it filled (at least
	// one when the error is nil). Each Payload is owned by the caller.
	ReadBatch(ctx context.Context, ps []Packet) (int, error)
	// WriteBatch sends ps in order and returns how many were sent. When
	// the error is not nil, fewer than len(ps) were sent and the error
	// is the one of ps[n] (a packet WritePacket would refuse, or the
	// send failure); the caller may go on with ps[n+1:].
	WriteBatch(ctx context.Context, ps []Packet) (int, error)
}
