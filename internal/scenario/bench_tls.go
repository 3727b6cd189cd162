package scenario

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"time"

	"github.com/fhkey/fhkey/internal/ha"
	"github.com/fhkey/fhkey/internal/hac"
	"github.com/fhkey/fhkey/internal/hac/hacclient"
	"github.com/fhkey/fhkey/internal/hac/hachannel"
	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/node"
	"github.com/fhkey/fhkey/mip6tls"
)

// TLSBenchConfig configures BenchTLS (`fhkey bench tls`, issue 13).
type TLSBenchConfig struct {
	// Clients is the number of MNs (goroutines) bootstrapping at once, and
	// of bare TLS clients (0: 8).
	Clients int
	// Batch is the number of bootstraps, and of bare handshakes, in one
	// batch (0: 100); Batches the number of batches of each (0: 45: the
	// median of 15 spread ± 0.05 from one invocation to the next on a
	// shared 2-core machine, of 45 about ± 0.025).
	Batch, Batches int
	// Packets is the number of data packets of one data-plane batch
	// (0: 2000); DataBatches the number of batches of each path (0: 9).
	Packets, DataBatches int
	// PacketSize is the size of the inner IPv6 packet (0: 1400 octets).
	PacketSize int
	// Log receives progress lines (nil: none).
	Log io.Writer
}

func (c *TLSBenchConfig) defaults() {
	for _, f := range []struct {
		v *int
		d int
	}{{&c.Clients, 8}, {&c.Batch, 100}, {&c.Batches, 45}, {&c.Packets, 2000}, {&c.DataBatches, 9}, {&c.PacketSize, 1400}} {
		if *f.v <= 0 {
			*f.v = f.d
		}
	}
	c.PacketSize = max(c.PacketSize, 48)
	if c.Log == nil {
		c.Log = io.Discard
	}
}

// benchHACName is the HAC's TLS server name in the bench.
const benchHACName = "hac.example.com"

var (
	benchHoA        = netip.MustParseAddr("2001:db8:1::100")
	benchHomePrefix = netip.MustParsePrefix("2001:db8:1::/64")
	benchCareOf     = netip.MustParseAddr("2001:db8:2::55")
	benchCN         = netip.MustParseAddr("2001:db8:9::9")
	benchIdentity   = mip6tls.MNIdentifier("mn@example.com")
	benchPSK        = []byte("fhkey bench tls pre-shared key, 32")
)

// tlsBench is the bench's running system on loopback: the HA node (a
// counting home link, the HAC channel), the HAC node, a bare crypto/tls
// server with the HAC's certificate, and the MN's bootstrap
// configuration.
type tlsBench struct {
	cfg     TLSBenchConfig
	ha      *node.HA
	link    *countingLink
	hac     *node.HAC
	bare    *bareTLSServer
	channel *hachannel.Client
	client  hacclient.Config
	stop    []func() error
}

// BenchTLS measures issue 13's figures in one run on loopback: HAC
// bootstraps (TLS 1.3 + PSK, SA provisioned to the HA node) against bare
// TLS 1.3 handshakes with the same certificate, and the MN→HA data plane
// (AES_128_CBC_SHA, the MIP6 node to the HA node) against plain UDP on the
// same path, with the per-packet cost against the AES-CBC + HMAC-SHA1
// limit. Every comparison interleaves short batches of both sides and
// reports the median of the per-batch ratios.
func BenchTLS(ctx context.Context, cfg TLSBenchConfig) (*TLSBenchResult, error) {
	cfg.defaults()
	b, err := startTLSBench(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer b.close()
	res := &TLSBenchResult{Clients: cfg.Clients, Batch: cfg.Batch, PacketSize: cfg.PacketSize, Cipher: "AES_128_CBC_SHA", Path: "loopback"}
	fmt.Fprintf(cfg.Log, "bench tls: %d batches of %d bootstraps and %d bare TLS 1.3 handshakes, %d clients at once\n",
		cfg.Batches, cfg.Batch, cfg.Batch, cfg.Clients)
	if err := b.bootstraps(ctx, res); err != nil {
		return nil, err
	}
	fmt.Fprintf(cfg.Log, "bench tls: data plane, %d batches of %d packets of %d octets each path\n", cfg.DataBatches, cfg.Packets, cfg.PacketSize)
	if err := b.dataPlane(ctx, res); err != nil {
		return nil, err
	}
	res.Stats = b.hac.Role.Stats()
	return res, nil
}

func startTLSBench(ctx context.Context, cfg TLSBenchConfig) (b *tlsBench, err error) {
	b = &tlsBench{cfg: cfg}
	defer func() {
		if err != nil {
			b.close()
		}
	}()
	ca, err := lab.NewEAPCert("fhkey bench HAC CA", nil, 0)
	if err != nil {
		return nil, err
	}
	var hacCert, channelCert, haCert *lab.EAPCert
	for _, c := range []struct {
		to  **lab.EAPCert
		cn  string
		eku x509.ExtKeyUsage
		dns []string
	}{
		{&hacCert, benchHACName, x509.ExtKeyUsageServerAuth, []string{benchHACName}},
		{&channelCert, "hac-channel", x509.ExtKeyUsageClientAuth, nil},
		{&haCert, "ha.example.com", x509.ExtKeyUsageServerAuth, []string{"ha.example.com"}},
	} {
		if *c.to, err = lab.NewEAPCert(c.cn, ca, c.eku, c.dns...); err != nil {
			return nil, err
		}
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	b.link = newCountingLink()
	b.ha, err = node.OpenHA(node.HASpec{Listen: netip.MustParseAddrPort("[::1]:0"),
		Role: ha.Config{HomePrefix: benchHomePrefix}, HomeLink: b.link,
		ChannelListen: netip.MustParseAddrPort("[::1]:0"),
		ChannelTLS: &tls.Config{Certificates: []tls.Certificate{haCert.TLS()}, ClientCAs: pool,
			ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS13}})
	if err != nil {
		return nil, err
	}
	b.serve(ctx, "HA", func(ctx context.Context) error { return errors.Join(b.ha.Serve(ctx), b.ha.Close()) })
	subs := hac.NewMemory()
	if err := subs.Put(ctx, hac.Subscriber{Identity: benchIdentity, Methods: []mip6tls.AuthMethod{mip6tls.AuthMethodPSK},
		PSK: benchPSK, HomeAddress: benchHoA, HomePrefix: benchHomePrefix}); err != nil {
		return nil, err
	}
	b.channel = &hachannel.Client{Addr: b.ha.ChannelAddr().String(), Conns: cfg.Clients, TLS: &tls.Config{
		Certificates: []tls.Certificate{channelCert.TLS()}, RootCAs: pool, ServerName: "ha.example.com"}}
	cert := hacCert.TLS()
	cert.Leaf = hacCert.Cert
	spec := node.HACSpec{Listen: netip.MustParseAddrPort("127.0.0.1:0"), Certificate: cert,
		TLSMinVersion: tls.VersionTLS13, Role: hac.Config{Subscribers: subs, Provisioner: b.channel,
			CipherSuites: []mip6tls.CipherSuite{mip6tls.CipherSuiteAES128CBCSHA},
			HomeAgent:    b.ha.Addr().Addr(), Port: mip6tls.ServicePort(b.ha.Addr().Port())}}
	if b.hac, err = node.OpenHAC(spec); err != nil {
		return nil, err
	}
	b.serve(ctx, "HAC", func(ctx context.Context) error { return errors.Join(b.hac.Serve(ctx), b.channel.Close()) })
	if b.bare, err = startBareTLS(node.HACTLSConfig(spec)); err != nil {
		return nil, err
	}
	b.stop = append(b.stop, b.bare.close)
	b.client = hacclient.Config{Identity: benchIdentity, PSK: benchPSK, Methods: []mip6tls.AuthMethod{mip6tls.AuthMethodPSK}, Scope: mip6tls.SAScopeAll,
		CipherSuites: mip6tls.CipherSuiteList{mip6tls.CipherSuiteAES128CBCSHA},
		TLS:          &tls.Config{RootCAs: pool, ServerName: benchHACName, MinVersion: tls.VersionTLS13, MaxVersion: tls.VersionTLS13}}
	return b, nil
}

// serve runs a node until close, which reports its error.
func (b *tlsBench) serve(ctx context.Context, name string, run func(context.Context) error) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	b.stop = append(b.stop, func() error {
		cancel()
		if err := <-done; err != nil {
			return fmt.Errorf("scenario: bench tls: %s: %w", name, err)
		}
		return nil
	})
}

// close stops everything, the last started first.
func (b *tlsBench) close() error {
	var errs []error
	for _, s := range slices.Backward(b.stop) {
		errs = append(errs, s())
	}
	b.stop = nil
	return errors.Join(errs...)
}

// bootstrap is one MN's bootstrap with the HAC node; the SA is zeroed.
func (b *tlsBench) bootstrap(ctx context.Context) (*hacclient.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	return hacclient.Bootstrap(ctx, b.hac.Addr().String(), b.client)
}
