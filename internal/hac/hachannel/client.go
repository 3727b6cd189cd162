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

// DefaultConns is the number of connections a Client keeps to the HA:
// each carries one provisioning at a time, so this many bootstraps can be
// at their HAC→HA step at once (fhkey bench tls runs 8 MNs at once). A
// connection is dialled on first use only.
const DefaultConns = 8

// Client is the HAC's end of the channel; it implements
// hac.SAProvisioner and is safe for concurrent use. It keeps up to Conns
// connections, each dialled on first use and again after any failure,
// each carrying one request at a time.
type Client struct {
	// Addr is the HA's channel address (host:port).
	Addr string
	// TLS holds the HAC's client certificate, the HA's CA (RootCAs) and
	// ServerName; the version is forced to TLS 1.3.
	TLS *tls.Config
	// Conns is the number of connections (0: DefaultConns).
	Conns int

	once  sync.Once
	slots chan *channelConn
}

// channelConn is one connection and the Identifier of its last request.
type channelConn struct {
	conn *tls.Conn
	next uint8
}

func (c *Client) init() {
	n := c.Conns
	if n <= 0 {
		n = DefaultConns
	}
	c.slots = make(chan *channelConn, n)
	for range n {
		c.slots <- &channelConn{}
	}
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
	c.once.Do(c.init)
	var cc *channelConn
	select {
	case cc = <-c.slots:
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	}
	defer func() { c.slots <- cc }()
	err := c.provision(ctx, cc, p)
	if err != nil && cc.conn != nil {
		cc.conn.Close()
		cc.conn = nil
	}
	return err
}

// ErrUnavailable: no connection to the HA could be used in time.
var ErrUnavailable = errors.New("hachannel: home agent unavailable")

func (c *Client) provision(ctx context.Context, cc *channelConn, p *hac.Provisioned) error {
	if cc.conn == nil {
		cfg := c.TLS.Clone()
		cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS13, tls.VersionTLS13
		d := tls.Dialer{Config: cfg}
		nc, err := d.DialContext(ctx, "tcp", c.Addr)
		if err != nil {
			return fmt.Errorf("hachannel: dial %s: %w", c.Addr, err)
		}
		cc.conn, cc.next = nc.(*tls.Conn), 0
	}
	cc.next++
	if cc.next == 0 {
		cc.next = 1
	}
	req, err := MarshalRequest(cc.next, p)
	if err != nil {
		return err
	}
	defer clear(req)
	dl, _ := ctx.Deadline()
	if err := cc.conn.SetDeadline(dl); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { _ = cc.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := cc.conn.Write(req); err != nil {
		return fmt.Errorf("hachannel: %w", ctxErr(ctx, err))
	}
	resp, err := hacclient.ReadContainer(cc.conn, MaxMessage)
	if err != nil {
		return fmt.Errorf("hachannel: %w", ctxErr(ctx, err))
	}
	status, err := ParseResponse(resp, cc.next)
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

// Close closes the idle connections; one in use is closed when its
// request ends and the next Provision dials again.
func (c *Client) Close() error {
	c.once.Do(c.init)
	var errs []error
	for range cap(c.slots) {
		select {
		case cc := <-c.slots:
			if cc.conn != nil {
				errs = append(errs, cc.conn.Close())
				cc.conn = nil
			}
			defer func() { c.slots <- cc }()
		default:
		}
	}
	return errors.Join(errs...)
}

func asNetError(err error, target *net.Error) bool { return errors.As(err, target) }
