package node

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"

	"github.com/fhkey/fhkey/internal/hac"
	"github.com/fhkey/fhkey/internal/hac/hachannel"
	"github.com/fhkey/fhkey/mip6tls"
)

// serveHACChannel is the HA's end of the HAC→HA channel
// (internal/hac/hachannel, docs/tls.md): mutual TLS 1.3 on ln, each
// request's SA handed to install; an error makes the HA answer 500 and the
// HAC refuse the MN. hachannel zeroes the request's keys after the handler
// returns; the role has copied them by then.
func serveHACChannel(ctx context.Context, ln net.Listener, cfg *tls.Config, install func(mip6tls.SecurityAssociation, mip6tls.Bootstrap) error, log *slog.Logger) error {
	s := &hachannel.Server{TLS: cfg, Logger: log, Handler: func(_ context.Context, p *hac.Provisioned) error {
		return install(p.SA, p.Bootstrap)
	}}
	return s.Serve(ctx, ln)
}
