package pae

import (
	"context"
	"net"
	"sync"
	"time"
)

// Transport carries EAPOL PDUs on the access link: netio.EAPOLConn.
type Transport interface {
	ReadFrom(b []byte) (n int, src net.HardwareAddr, err error)
	WriteTo(pdu []byte, dst net.HardwareAddr) error
	SetReadDeadline(t time.Time) error
}

// MaxInFlight bounds the frames Serve handles at once (each may wait for
// the RADIUS server); beyond it the reader waits, and the socket's queue
// absorbs or drops.
const MaxInFlight = 64

// maxPDU is the largest EAPOL PDU read: an Ethernet payload.
const maxPDU = 1500

// Serve runs a on t until ctx ends: each received PDU is handled in its
// own goroutine (at most MaxInFlight), and every tick Tick's
// retransmissions are sent. Frames from group addresses are ignored
// (a supplicant's source is individual). It returns ctx's error, or the
// transport's first read error.
func (a *Authenticator) Serve(ctx context.Context, t Transport, tick time.Duration) error {
	if tick <= 0 {
		tick = time.Second
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	send := func(frames []Frame) {
		for _, f := range frames {
			if err := t.WriteTo(f.PDU, f.Dst[:]); err != nil {
				a.cfg.Logger.Warn("pae: sending EAPOL", "dst", f.Dst.String(), "err", err)
			}
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		tk := time.NewTicker(tick)
		defer tk.Stop()
		for {
			select {
			case <-ctx.Done():
				t.SetReadDeadline(time.Now()) // unblock the reader
				return
			case <-tk.C:
				send(a.Tick(a.cfg.Now()))
			}
		}
	}()
	sem := make(chan struct{}, MaxInFlight)
	for {
		b := make([]byte, maxPDU)
		n, src, err := t.ReadFrom(b)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			return err
		}
		if len(src) != 6 || src[0]&1 != 0 {
			a.c.unexpected.Add(1)
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		wg.Add(1)
		go func(pdu []byte, src MAC) {
			defer wg.Done()
			defer func() { <-sem }()
			send(a.Handle(ctx, src, pdu))
		}(b[:n], MAC(src))
	}
}
