package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/hks"
	"github.com/fhkey/fhkey/internal/hks/subscribers"
	"github.com/fhkey/fhkey/internal/radius"
)

// OpenSubscribers opens the Handover Key Server's subscriber store of st
// (the [subscribers] section of hks.toml): the bbolt file, or the
// PostgreSQL database of dsn (HKSSecrets.DSN, read from st.DSNFile).
func OpenSubscribers(ctx context.Context, st config.SubscriberStore, dsn string) (subscribers.Store, error) {
	switch st.Type {
	case config.SubscriberStoreBolt:
		return subscribers.OpenBolt(st.Path, time.Second)
	case config.SubscriberStorePostgres:
		return subscribers.OpenPostgres(ctx, dsn)
	}
	return nil, fmt.Errorf("node: subscriber store type %q", st.Type)
}

// DefaultHKSMaxInFlight is how many requests the HKS handles at once: a
// proxy or an AR has at most 256 outstanding per socket (its Identifier
// space), so one full client never meets the overload drop.
const DefaultHKSMaxInFlight = 256

// HKSReadBatch is the RADIUS server's ReadBatch for a subscriber store:
// one datagram per read for PostgreSQL, whose round trips the readers then
// overlap, one each; the default batches (recvmmsg) for the local stores,
// whose requests take microseconds (bbolt's writes are serialized anyway).
func HKSReadBatch(t config.SubscriberStoreType) int {
	if t == config.SubscriberStorePostgres {
		return 1
	}
	return 0
}

// hksReadBuffer is the RADIUS socket's receive buffer: a burst of
// requests from a proxy (256 per Identifier space) waits there while the
// workers derive keys.
const hksReadBuffer = 4 << 20

// HKSSpec is what OpenHKS builds a Handover Key Server from.
type HKSSpec struct {
	// Listen is the RADIUS UDP address (port 0: any free port, see
	// HKS.Addr).
	Listen netip.AddrPort
	// Clients are the RADIUS clients (ARs, proxies) and their secrets.
	Clients []radius.NASClient
	// Role configures the HKS role (draft §6.4); its Subscribers is the
	// store, which the HKS owns from then on: Close closes it, and so does
	// a failed OpenHKS.
	Role hks.Config
	// MaxInFlight bounds the requests handled at once (0:
	// DefaultHKSMaxInFlight); more are dropped and counted (overload).
	MaxInFlight int
	// ReadBatch is the RADIUS server's datagrams per read (0: its default;
	// HKSReadBatch gives the value for a subscriber store).
	ReadBatch int
	// Logger receives the role's and the transport's debug lines (nil:
	// none).
	Logger *slog.Logger
}

// HKS is a running Handover Key Server: the role behind a RADIUS server
// on a UDP socket. Serve serves it; Close releases the socket and the
// store.
type HKS struct {
	Role        *hks.Server
	RADIUS      *radius.Server
	Subscribers subscribers.Store

	conn *net.UDPConn
}

// OpenHKS builds the role and the RADIUS server of spec and opens the
// socket; nothing is served before Serve.
func OpenHKS(spec HKSSpec) (h *HKS, err error) {
	defer func() {
		if err != nil && spec.Role.Subscribers != nil {
			spec.Role.Subscribers.Close()
		}
	}()
	if spec.Role.Logger == nil {
		spec.Role.Logger = spec.Logger
	}
	role, err := hks.New(spec.Role)
	if err != nil {
		return nil, err
	}
	if spec.MaxInFlight == 0 {
		spec.MaxInFlight = DefaultHKSMaxInFlight
	}
	srv, err := radius.NewServer(radius.ServerConfig{KeyServer: role, Clients: spec.Clients,
		MaxInFlight: spec.MaxInFlight, ReadBatch: spec.ReadBatch, Logger: spec.Logger})
	if err != nil {
		return nil, err
	}
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(spec.Listen))
	if err != nil {
		return nil, fmt.Errorf("node: RADIUS socket: %w", err)
	}
	_ = conn.SetReadBuffer(hksReadBuffer) // best effort: capped by net.core.rmem_max
	return &HKS{Role: role, RADIUS: srv, Subscribers: spec.Role.Subscribers, conn: conn}, nil
}

// Addr is the address the RADIUS socket is bound to (the port the kernel
// chose when the spec asked for port 0).
func (h *HKS) Addr() netip.AddrPort {
	ap := h.conn.LocalAddr().(*net.UDPAddr).AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// Serve answers requests until ctx ends (then it closes the socket and
// waits for the requests in progress) or the socket fails.
func (h *HKS) Serve(ctx context.Context) error { return h.RADIUS.Serve(ctx, h.conn) }

// Close closes the socket (if Serve has not) and the subscriber store.
func (h *HKS) Close() error {
	err := h.conn.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return errors.Join(err, h.Subscribers.Close())
}

// nasClients pairs the configured clients with their secrets (in order,
// as HKSConfig.Open reads them).
func nasClients(cfg *config.HKSConfig, s *config.HKSSecrets) []radius.NASClient {
	out := make([]radius.NASClient, len(cfg.Clients))
	for i, c := range cfg.Clients {
		out[i] = radius.NASClient{Name: clientName(i), Prefix: c.Prefix, Secret: s.ClientSecrets[i]}
	}
	return out
}

// clientName names the i-th [[client]] as configuration problems do.
func clientName(i int) string { return fmt.Sprintf("client[%d]", i) }

// clearSecrets wipes the secrets Open read, once copied where they are used.
func clearSecrets(s *config.HKSSecrets) {
	for _, b := range s.ClientSecrets {
		clear(b)
	}
	s.DSN = ""
}
