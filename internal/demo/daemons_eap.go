package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/fhkey/fhkey/internal/peer"
	"github.com/fhkey/fhkey/internal/scenario"
	"github.com/fhkey/fhkey/internal/testbed"
)

// radiusSecret draws a RADIUS shared secret for a run: 16 random octets
// in hex, printable, as FreeRADIUS's clients.conf wants it.
func radiusSecret() ([]byte, error) {
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	return []byte(hex.EncodeToString(raw)), nil
}

// startEAPTLSFreeRADIUS starts FreeRADIUS (-X) in node's namespace as the
// EAP-TLS server of the MSK and TLS demos, configured in the set's
// directory: listening on listen, one client that must send a
// Message-Authenticator, server certificate and CA of srv. The caller
// stops it by its PID (peer.Server.Stop).
func (s *daemonSet) startEAPTLSFreeRADIUS(ctx context.Context, node testbed.Node, listen netip.AddrPort, client peer.FreeRADIUSClient, srv *peer.EAPTLSServer) (*peer.Server, error) {
	dir := filepath.Join(s.dir, "freeradius")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	client.RequireMessageAuthenticator = true
	fr, err := (&peer.FreeRADIUS{Dir: dir, Listen: listen, Debug: true, Command: []string{"ip", "netns", "exec", s.tb.Namespace(node)},
		Clients: []peer.FreeRADIUSClient{client}, EAPTLS: srv}).Start(ctx)
	if err != nil {
		return nil, fmt.Errorf("demo: FreeRADIUS: %w", err)
	}
	return fr, nil
}

// daemonSeries names the /metrics series of a daemon that a testbed demo
// records in its summary.
type daemonSeries struct {
	dm     *scenario.Daemon
	series []string
}

// recordMetrics puts the value of each series in into, keyed "NAME
// SERIES" (the daemon's name); a series a daemon does not have is left
// out.
func recordMetrics(into map[string]float64, ds ...daemonSeries) {
	for _, d := range ds {
		for _, s := range d.series {
			if v, err := d.dm.Metric(s); err == nil {
				into[d.dm.Name+" "+s] = v
			}
		}
	}
}
