//go:build linux

package netio

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	// recvBatch is the number of datagrams one recvmmsg(2) may return.
	recvBatch = 32
	// recvSlot is the buffer of one received datagram: the largest IPv6
	// payload without a jumbogram, as the single-datagram reader had, so
	// that batching truncates nothing.
	recvSlot = 1 << 16
	// recvOOB is the ancillary data room of one received datagram:
	// IPV6_PKTINFO, IPV6_HOPLIMIT and a Destination Options header of up
	// to 2048 octets (RFC 8200 §4.6, Hdr Ext Len 255).
	recvOOB = 4096
	// sendOOB is the ancillary data room of one sent datagram:
	// IPV6_PKTINFO (40), IPV6_HOPLIMIT (24), IPV6_DSTOPTS with the Home
	// Address header (40).
	sendOOB = 128
)

var (
	_ BatchConn = (*MHConn)(nil)
	_ BatchConn = (*ICMPConn)(nil)
)

// mmsgReader is the receive state of one socket's reader goroutine:
// recvBatch slots for recvmmsg(2).
type mmsgReader struct {
	hdrs  []unix.Mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet6
	bufs  []byte
	oobs  []byte
}

func newMmsgReader() *mmsgReader {
	r := &mmsgReader{
		hdrs:  make([]unix.Mmsghdr, recvBatch),
		iovs:  make([]unix.Iovec, recvBatch),
		names: make([]unix.RawSockaddrInet6, recvBatch),
		bufs:  make([]byte, recvBatch*recvSlot),
		oobs:  make([]byte, recvBatch*recvOOB),
	}
	for i := range r.hdrs {
		r.iovs[i].Base = &r.bufs[i*recvSlot]
		r.iovs[i].SetLen(recvSlot)
		h := &r.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&r.names[i]))
		h.Iov = &r.iovs[i]
		h.SetIovlen(1)
		h.Control = &r.oobs[i*recvOOB]
	}
	return r
}

// read fills the slots with the datagrams queued on s (at least one; it
// waits for the socket to become readable) and returns their number.
func (r *mmsgReader) read(s *rawSocket) (int, error) {
	for i := range r.hdrs {
		h := &r.hdrs[i].Hdr
		h.Namelen = unix.SizeofSockaddrInet6
		h.SetControllen(recvOOB)
		h.Flags = 0
		r.hdrs[i].Len = 0
	}
	var n int
	var err error
	rerr := s.rc.Read(func(fd uintptr) bool {
		r1, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])), uintptr(len(r.hdrs)), 0, 0, 0)
		n, err = int(r1), nil
		if e != 0 {
			n, err = 0, e
		}
		return err != unix.EAGAIN
	})
	runtime.KeepAlive(r)
	if rerr != nil {
		return 0, rerr
	}
	return n, err
}

// datagram returns slot i of the last read: payload, source, ancillary
// data and the MSG_* flags.
func (r *mmsgReader) datagram(i int) (b []byte, from *unix.RawSockaddrInet6, oob []byte, flags int) {
	h := &r.hdrs[i]
	n := min(int(h.Len), recvSlot)
	oobn := min(int(h.Hdr.Controllen), recvOOB)
	return r.bufs[i*recvSlot : i*recvSlot+n], &r.names[i], r.oobs[i*recvOOB : i*recvOOB+oobn], int(h.Hdr.Flags)
}

// start runs a reader goroutine for s; parse turns one datagram into a
// packet or reports false to skip it (counting it in dropped if it is bad).
// The goroutine takes every datagram queued on the socket with one
// recvmmsg(2) and hands them to ReadPacket and ReadBatch in order.
func (c *rawConn) start(s *rawSocket, parse func(b []byte, from netip.Addr, ctl control) (Packet, bool)) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		r := newMmsgReader()
		batch := make([]received, 0, recvBatch)
		for {
			n, err := r.read(s)
			if err != nil {
				if errors.Is(err, unix.EHOSTUNREACH) || errors.Is(err, unix.EINTR) || errors.Is(err, unix.ENOBUFS) || errors.Is(err, unix.ENOMEM) {
					// EHOSTUNREACH: the kernel found a bad checksum in
					// recvmsg and dropped the datagram (net/ipv6/raw.c);
					// inside a batch recvmmsg returns it on the next call.
					continue
				}
				c.queue.push([]received{{err: fmt.Errorf("netio: %s: receive: %w", c.label(), err)}})
				return
			}
			batch = batch[:0]
			for i := range n {
				b, from, oob, flags := r.datagram(i)
				if flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
					c.dropped.Add(1)
					continue
				}
				if from.Family != unix.AF_INET6 {
					continue
				}
				ctl, ok := parseControl(oob)
				if !ok {
					c.dropped.Add(1)
					continue
				}
				if p, ok := parse(b, netip.AddrFrom16(from.Addr), ctl); ok {
					batch = append(batch, received{p: p})
				}
			}
			if !c.queue.push(batch) {
				return
			}
			clear(batch)
		}
	}()
}

// readBatch waits for one packet as readPacket does, then takes the ones
// already queued without waiting.
func (c *rawConn) readBatch(ctx context.Context, ps []Packet) (int, error) {
	return c.queue.pop(ctx, ps)
}

// mmsgWriter is the send state of one WriteBatch call, pooled.
type mmsgWriter struct {
	hdrs    [MaxBatch]unix.Mmsghdr
	iovs    [MaxBatch]unix.Iovec
	names   [MaxBatch]unix.RawSockaddrInet6
	oob     [MaxBatch * sendOOB]byte
	scratch [MaxBatch][]byte // payload copies (checksums written here)
}

var writerPool = sync.Pool{New: func() any { return new(mmsgWriter) }}

// slot fills message i with payload, oob (a prefix of w.oob's slot i or
// any slice that stays alive until the send) and the destination.
func (w *mmsgWriter) slot(i int, payload, oob []byte, dst netip.Addr, zone uint32) {
	w.names[i] = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: dst.As16(), Scope_id: zone}
	w.iovs[i].Base = unsafe.SliceData(payload)
	w.iovs[i].SetLen(len(payload))
	h := &w.hdrs[i]
	h.Len = 0
	h.Hdr = unix.Msghdr{Name: (*byte)(unsafe.Pointer(&w.names[i])), Namelen: unix.SizeofSockaddrInet6, Iov: &w.iovs[i]}
	h.Hdr.SetIovlen(1)
	if len(oob) > 0 {
		h.Hdr.Control = unsafe.SliceData(oob)
		h.Hdr.SetControllen(len(oob))
	}
}

// oobSlot returns the empty ancillary data buffer of message i.
func (w *mmsgWriter) oobSlot(i int) []byte { return w.oob[i*sendOOB : i*sendOOB : (i+1)*sendOOB] }

// copyPayload returns a copy of p in message i's scratch buffer.
func (w *mmsgWriter) copyPayload(i int, p []byte) []byte {
	if cap(w.scratch[i]) < len(p) {
		w.scratch[i] = make([]byte, len(p), max(len(p), 256))
	}
	w.scratch[i] = w.scratch[i][:len(p)]
	copy(w.scratch[i], p)
	return w.scratch[i]
}

// sendmmsg sends hdrs with sendmmsg(2), waiting while the socket buffer
// is full, and returns how many were sent: all of them, or fewer with the
// error of the first one not sent.
func (s *rawSocket) sendmmsg(hdrs []unix.Mmsghdr) (int, error) {
	sent := 0
	for sent < len(hdrs) {
		var n int
		var err error
		werr := s.rc.Write(func(fd uintptr) bool {
			r1, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&hdrs[sent])), uintptr(len(hdrs)-sent), 0, 0, 0)
			n, err = int(r1), nil
			if e != 0 {
				n, err = 0, e
			}
			return err != unix.EAGAIN
		})
		if werr != nil {
			return sent, werr
		}
		if err != nil {
			return sent, err
		}
		if n <= 0 {
			return sent, unix.EIO // not documented; never loop on it
		}
		// Fewer than asked without an error: sendmmsg(2) reports the
		// error of the next message when it is retried.
		sent += n
	}
	return sent, nil
}

// writeBatch sends ps through sendmmsg(2), one call per run of consecutive
// packets that prepare assigns to the same socket (at most MaxBatch).
// prepare validates ps[i] and fills message slot k; describe wraps a send
// failure of p.
func (c *rawConn) writeBatch(ctx context.Context, ps []Packet, prepare func(w *mmsgWriter, k int, p *Packet) (*rawSocket, error), describe func(p *Packet, err error) error) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	select {
	case <-c.done:
		return 0, ErrClosed
	default:
	}
	w := writerPool.Get().(*mmsgWriter)
	defer writerPool.Put(w)
	sent := 0
	for sent < len(ps) {
		var s *rawSocket
		k := 0
		var perr error
		for sent+k < len(ps) && k < MaxBatch {
			si, err := prepare(w, k, &ps[sent+k])
			if err != nil {
				perr = err
				break
			}
			if s != nil && si != s {
				break // slot k is prepared again in the next run
			}
			s = si
			k++
		}
		if k == 0 {
			return sent, perr
		}
		n, err := s.sendmmsg(w.hdrs[:k])
		sent += n
		if err != nil {
			return sent, describe(&ps[sent], err)
		}
	}
	return sent, nil
}

// ReadBatch returns the Mobility Header messages already received (at
// least one, waiting for it), each as ReadPacket would return it.
func (c *MHConn) ReadBatch(ctx context.Context, ps []Packet) (int, error) {
	return c.readBatch(ctx, ps)
}

// WriteBatch sends ps as WritePacket would, with one sendmmsg(2) per run
// of packets with (or without) a Home Address option.
func (c *MHConn) WriteBatch(ctx context.Context, ps []Packet) (int, error) {
	return c.writeBatch(ctx, ps, func(w *mmsgWriter, k int, p *Packet) (*rawSocket, error) {
		s, payload, oob, err := c.prepare(p, w.oobSlot(k), func(b []byte) []byte { return w.copyPayload(k, b) })
		if err != nil {
			return nil, err
		}
		w.slot(k, payload, oob, p.Dst, c.zone(p.Dst))
		return s, nil
	}, c.sendError)
}

// ReadBatch returns the ICMPv6 messages already received (at least one,
// waiting for it), each as ReadPacket would return it.
func (c *ICMPConn) ReadBatch(ctx context.Context, ps []Packet) (int, error) {
	return c.readBatch(ctx, ps)
}

// WriteBatch sends ps as WritePacket would, with one sendmmsg(2) per
// MaxBatch packets.
func (c *ICMPConn) WriteBatch(ctx context.Context, ps []Packet) (int, error) {
	return c.writeBatch(ctx, ps, func(w *mmsgWriter, k int, p *Packet) (*rawSocket, error) {
		oob, err := c.prepare(p, w.oobSlot(k))
		if err != nil {
			return nil, err
		}
		w.slot(k, p.Payload, oob, p.Dst, c.zone(p.Dst))
		return c.sock, nil
	}, c.sendError)
}

// zone is the scope of dst on the bound interface (see destination).
func (c *rawConn) zone(dst netip.Addr) uint32 {
	if dst.IsLinkLocalUnicast() || dst.IsLinkLocalMulticast() || dst.IsInterfaceLocalMulticast() {
		return uint32(c.ifindex)
	}
	return 0
}
