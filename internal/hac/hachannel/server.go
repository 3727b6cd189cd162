package hachannel

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/fhkey/fhkey/internal/hac"
	"github.com/fhkey/fhkey/internal/hac/hacclient"
	"github.com/fhkey/fhkey/mip6tls"
)

// Handler installs an SA at the home agent; an error makes the HA answer
// 500, and the HAC then refuses the MN. The keys in p are zeroed after
// Handler returns: copy what it keeps.
type Handler func(ctx context.Context, p *hac.Provisioned) error

// Server is the HA's end of the channel, which the HA daemon embeds.
type Server struct {
	// TLS holds the HA's certificate and the HAC's CA (ClientCAs); a
	// client certificate is required and verified, TLS 1.3 only.
	TLS     *tls.Config
	Handler Handler
	Logger  *slog.Logger
	// IdleTimeout closes a connection with no request for this long
	// (0: 5 minutes).
	IdleTimeout time.Duration
}

// Serve accepts connections on ln until ctx ends or ln fails, serving each
// in its own goroutine, and waits for them.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	cfg := s.TLS.Clone()
	cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS13, tls.VersionTLS13
	cfg.ClientAuth = tls.RequireAndVerifyClientCert
	tl := tls.NewListener(ln, cfg)
	stop := context.AfterFunc(ctx, func() { tl.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := tl.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.ServeConn(ctx, c.(*tls.Conn))
		}()
	}
}

// ServeConn answers the requests of one connection until it ends.
func (s *Server) ServeConn(ctx context.Context, c *tls.Conn) {
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	idle := s.IdleTimeout
	if idle <= 0 {
		idle = 5 * time.Minute
	}
	for {
		_ = c.SetDeadline(time.Now().Add(idle))
		req, err := hacclient.ReadContainer(c, MaxMessage)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) && ctx.Err() == nil {
				log.Debug("HAC channel closed", "remote", c.RemoteAddr().String(), "err", err)
			}
			return
		}
		status := mip6tls.StatusOK
		id, p, err := ParseRequest(req)
		clear(req)
		switch {
		case err != nil && id == 0:
			log.Warn("HAC channel: malformed request", "remote", c.RemoteAddr().String(), "err", err)
			return
		case err != nil:
			status = mip6tls.StatusBadRequest
			log.Warn("HAC channel: bad request", "remote", c.RemoteAddr().String(), "err", err)
		default:
			if herr := s.Handler(ctx, p); herr != nil {
				status = mip6tls.StatusInternalServerError
				log.Warn("HAC channel: SA refused", "mn", string(p.Identity), "spi", uint32(p.SA.SPI), "err", herr)
			}
			p.SA.Zero()
		}
		resp, err := MarshalResponse(id, status)
		if err != nil {
			return
		}
		if _, err := c.Write(resp); err != nil {
			return
		}
	}
}
