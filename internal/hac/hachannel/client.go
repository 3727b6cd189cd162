package hachannel

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/fhkey/fhkey/internal/hac"
	"github.com/fhkey/fhkey/internal/hac/hacclient"
	"github.com/fhkey/fhkey/mip6tls"
)

// DefaultTimeout bounds one provisioning when the context has no deadline.
const DefaultTimeout = 5 * time.Second

// Client is the HAC's end of the channel; it implements
// hac.SAProvisioner. It keeps one connection, dialled on first use and
// again after any failure, and sends one request at a time.
type Client struct {
	// Addr is the HA's channel address (host:port).
	Addr string
	// TLS holds the HAC's client certificate, the HA's CA (RootCAs) and
	// ServerName; the version is forced to TLS 1.3.
	TLS *tls.Config

	mu   sync.Mutex
	conn *tls.Conn
	next uint8
}

var _ hac.SAProvisioner = (*Client)(nil)

// Provision sends p and waits for the HA's acknowledgement: nil only when
// the HA answered 200.
func (c *Client) Provision(ctx context.Context, p *hac.Provisioned) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.provision(ctx, p)
	if err != nil && c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
	return err
}

func (c *Client) provision(ctx context.Context, p *hac.Provisioned) error {
	if c.conn == nil {
		cfg := c.TLS.Clone()
		cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS13, tls.VersionTLS13
		d := tls.Dialer{Config: cfg}
		nc, err := d.DialContext(ctx, "tcp", c.Addr)
		if err != nil {
			return fmt.Errorf("hachannel: dial %s: %w", c.Addr, err)
		}
		c.conn, c.next = nc.(*tls.Conn), 0
	}
	c.next++
	if c.next == 0 {
		c.next = 1
	}
	req, err := MarshalRequest(c.next, p)
	if err != nil {
		return err
	}
	defer clear(req)
	dl, _ := ctx.Deadline()
	if err := c.conn.SetDeadline(dl); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { _ = c.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := c.conn.Write(req); err != nil {
		return fmt.Errorf("hachannel: %w", ctxErr(ctx, err))
	}
	resp, err := hacclient.ReadContainer(c.conn, MaxMessage)
	if err != nil {
		return fmt.Errorf("hachannel: %w", ctxErr(ctx, err))
	}
	status, err := ParseResponse(resp, c.next)
	if err != nil {
		return err
	}
	if status != mip6tls.StatusOK {
		return fmt.Errorf("%w: status %v", ErrRefused, status)
	}
	return nil
}

// ctxErr prefers the context's error (a deadline) to the I/O error it
// caused.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	var ne net.Error
	if ok := asNetError(err, &ne); ok && ne.Timeout() {
		return fmt.Errorf("%w (%w)", context.DeadlineExceeded, err)
	}
	return err
}

// Close closes the connection.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return nil
	}
	err := c.conn.Close()
	c.conn = nil
	return err
}

func asNetError(err error, target *net.Error) bool { return errors.As(err, target) }
