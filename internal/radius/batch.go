package radius

import (
	"errors"
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// defaultReadBatch is ServerConfig.ReadBatch's default: how many
// datagrams a reader takes from the socket in one recvmmsg(2), and how many
// answers it sends in one sendmmsg(2).
const defaultReadBatch = 32

// batchIO is a UDP socket read and written several datagrams per system
// call: golang.org/x/net's ipv4 or ipv6 PacketConn (recvmmsg and sendmmsg
// on Linux, one datagram per call elsewhere). Both packages' Message is
// the same type.
type batchIO interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// newBatchIO returns the batch view of c for its address family.
func newBatchIO(c *net.UDPConn) batchIO {
	if a, ok := c.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() != nil {
		return ipv4.NewPacketConn(c)
	}
	return ipv6.NewPacketConn(c)
}

// batchReader is one reader's batches: the datagrams read, the answers
// queued (send), and the source of the datagram being handled.
type batchReader struct {
	p       *readerPool
	in, out []ipv4.Message
	queued  int
	cur     net.Addr
	curPort netip.AddrPort
}

func newBatchReader(p *readerPool) *batchReader {
	n := p.s.cfg.ReadBatch
	r := &batchReader{p: p, in: make([]ipv4.Message, n), out: make([]ipv4.Message, n)}
	for i := range r.in {
		r.in[i].Buffers = [][]byte{make([]byte, maxPacketLen+1)}
		r.out[i].Buffers = make([][]byte, 1)
	}
	return r
}

// read is the reader's loop, a batch per read.
func (r *batchReader) read() {
	var n int
	r.p.loop(func() (err error) {
		n, err = r.p.batch.ReadBatch(r.in, 0)
		return err
	}, func(dl *handlerDeadline) {
		for i := range r.in[:n] {
			m := &r.in[i]
			r.cur, r.curPort = m.Addr, addrPort(m.Addr)
			r.p.s.handle(dl.context(), r, r.curPort, m.Buffers[0][:m.N])
		}
		r.flush()
	})
}

// send queues the answer b to to, sent by the next flush.
func (r *batchReader) send(b []byte, to netip.AddrPort) {
	if r.queued == len(r.out) {
		r.flush()
	}
	m := &r.out[r.queued]
	m.Buffers[0] = b
	if to == r.curPort {
		m.Addr = r.cur
	} else {
		m.Addr = net.UDPAddrFromAddrPort(to)
	}
	r.queued++
}

func (r *batchReader) spare() { r.p.spare() }

// flush sends the queued answers; one that cannot be sent is counted and
// skipped.
func (r *batchReader) flush() {
	out := r.out[:r.queued]
	for len(out) > 0 {
		n, err := r.p.batch.WriteBatch(out, 0)
		if err != nil || n == 0 {
			r.p.s.c.sendErrors.Add(1) // out[n] was not sent: skip it
			n++
		}
		out = out[min(n, len(out)):]
	}
	for i := range r.out[:r.queued] {
		r.out[i].Buffers[0], r.out[i].Addr = nil, nil
	}
	r.queued = 0
}

// readFailed handles a read error: false if the reader must end (Serve
// is ending, or the socket failed), true to read again (an ICMP error
// surfacing on the socket).
func (p *readerPool) readFailed(err error) bool {
	if p.ctx.Err() != nil {
		return false
	}
	var ne net.Error
	if errors.Is(err, net.ErrClosed) || errors.As(err, &ne) && ne.Timeout() {
		p.fail(err)
		return false
	}
	return true
}
