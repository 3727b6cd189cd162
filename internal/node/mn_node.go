package node

import (
	"context"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/eap/supplicant"
	"github.com/fhkey/fhkey/internal/forward"
)

// Timing of the mobile node daemon. RFC 5269 leaves the schedule to the
// implementation; these bound the load on the router and the reaction time.
const (
	mnPollInterval  = 100 * time.Millisecond // handover detection: interface state polled (without netlink events)
	mnEventFallback = time.Second            // with netlink events: polled anyway this often
	mnRefreshCheck  = time.Second            // RefreshDue consulted
	mnRetryMin      = time.Second            // first wait after RequestKey found no answer
	mnRetryMax      = 30 * time.Second       // longest wait between attempts
	mnHandoverLimit = 10 * time.Second       // one FastHandover (its own retransmissions included)
	mnSendRetry     = 5 * time.Millisecond   // FBU not sendable yet (no route on the new link): look again
)

// mnLink is one of the node's links: the interface, the care-of CGA there,
// and the access routers asked for keys for it (empty: All-Routers).
type mnLink struct {
	iface   string
	coa     netip.Addr
	routers []netip.Addr
}

// mnNode is the running mobile node with what /status reports. It moves
// between its links (the configured one, LinkPrevious, and the
// [handover] one, LinkNew) as often as the interfaces say.
type mnNode struct {
	m     *Mobile
	cfg   *config.MNConfig
	log   *slog.Logger
	links []mnLink // one, or two with [handover]
	// aaa: keys come from the shared-key mode (HKReq), not SEND.
	aaa bool
	// eap: the MSK mode ([eap]): the node authenticates on each link and
	// signs the FBU with the MSK's FHK; nil otherwise.
	eap     *mnEAP
	current atomic.Int32
	wake    chan struct{} // a handover: provision on the new link now
	// bound holds, per link, the router forwarding that link's care-of
	// address to the other one after an accepted FBU, until when: ended
	// by the node if it comes back in time (RFC 5568 §5.6). Written by
	// the watch goroutine, read by provision (indirect refreshes); mu
	// guards it.
	bound map[int32]mnBinding

	mu sync.Mutex
	// abandon ends the key requests of provision's current pass (nil
	// between passes): a handover makes their answers go to a link the
	// node left.
	abandon   context.CancelFunc
	handover  *MNHandover
	handovers int
	lastErr   string
}

// mnBinding is a binding the node made at a router.
type mnBinding struct {
	router  netip.Addr
	expires time.Time
}

// MNHandover is the outcome of the last fast handover.
type MNHandover struct {
	// ForwardingEnded is the router of the new link whose tunnel for the
	// node was ended by an FBU with Lifetime 0 (the node came back).
	ForwardingEnded string    `json:"forwarding_ended,omitempty"`
	PreviousRouter  string    `json:"previous_router"`
	PreviousCoA     string    `json:"previous_coa"`
	NewCoA          string    `json:"new_coa"`
	Status          int       `json:"status"`
	Lifetime        float64   `json:"lifetime_seconds"`
	At              time.Time `json:"at"` // detected
	// Took is from the detection to the FBack (or the failure), the end
	// of forwarding at the router returned to included.
	Took  float64 `json:"took_seconds"`
	Error string  `json:"error,omitempty"`
}

// MNKey is one handover key in /status (never its octets). SPI is 0 for
// a SEND key, the HKResp's for a shared-key mode one (docs/aaa.md).
type MNKey struct {
	Router  string    `json:"router"`
	CareOf  string    `json:"care_of"`
	AT      uint8     `json:"at"`
	SPI     uint32    `json:"spi"`
	Expires time.Time `json:"expires"`
}

// MNStatus is the "role" document of the mobile node's /status.
type MNStatus struct {
	Interface      string      `json:"interface"` // the current link's
	CareOf         string      `json:"care_of"`   // the current link's
	NewCareOf      string      `json:"new_care_of,omitempty"`
	Keys           []MNKey     `json:"keys"`
	Handovers      int         `json:"handovers"`
	Handover       *MNHandover `json:"handover,omitempty"` // the last one
	LastRequestErr string      `json:"last_request_error,omitempty"`
	// EAP is the supplicant's state in the MSK mode (never the MSK).
	EAP *supplicant.Status `json:"eap,omitempty"`
	// Decapsulator counts the tunnelled packets delivered.
	Decapsulator *forward.DecapsulatorCounters `json:"decapsulator,omitempty"`
}

func newMNNode(m *Mobile, cfg *config.MNConfig, log *slog.Logger) *mnNode {
	routers, newRouters := cfg.AccessRouters, cfg.Handover.AccessRouters
	if cfg.AAA != nil {
		// HKReqs go to unicast routers only (the AR ID, §6.1.2).
		routers, newRouters = cfg.AAA.Routers, cfg.AAA.NewRouters
	}
	n := &mnNode{m: m, cfg: cfg, log: log, aaa: cfg.AAA != nil, wake: make(chan struct{}, 1), bound: map[int32]mnBinding{},
		links: []mnLink{{iface: cfg.Interface, coa: m.PCoA.Address, routers: routers}}}
	if m.NCoA.Address.IsValid() {
		n.links = append(n.links, mnLink{iface: cfg.Handover.NewInterface, coa: m.NCoA.Address, routers: newRouters})
		if at := n.attachedLinks(); len(at) == 1 {
			for l := range at {
				n.current.Store(l) // started on the [handover] link
			}
		}
	}
	return n
}

func (n *mnNode) status() MNStatus {
	cur := n.links[n.current.Load()]
	s := MNStatus{Interface: cur.iface, CareOf: cur.coa.String(), Keys: []MNKey{}}
	if n.m.NCoA.Address.IsValid() {
		s.NewCareOf = n.m.NCoA.Address.String()
	}
	for _, r := range n.m.Role.Keys() {
		s.Keys = append(s.Keys, MNKey{Router: r.AR.String(), CareOf: r.MN.String(), AT: r.AT, SPI: r.SPI, Expires: r.Expires.UTC()})
	}
	n.mu.Lock()
	s.Handover, s.Handovers, s.LastRequestErr = n.handover, n.handovers, n.lastErr
	n.mu.Unlock()
	if n.eap != nil {
		st := n.eap.sup.Status()
		s.EAP = &st
	}
	if d := n.m.Decapsulator; d != nil {
		c := d.Counters()
		s.Decapsulator = &c
	}
	return s
}
