package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fhkey/fhkey/hokey"
	"github.com/fhkey/fhkey/internal/ar"
	"github.com/fhkey/fhkey/internal/lab"
	"github.com/fhkey/fhkey/internal/node"
	"github.com/fhkey/fhkey/internal/scenario"
	"github.com/fhkey/fhkey/internal/testbed"
	"github.com/fhkey/fhkey/internal/testenv"
)

var (
	credsOnce sync.Once
	creds     *lab.Credentials
	credsErr  error
)

// credentials loads the lab credentials once per test binary, from the
// cache shared with `fhkey demo` (generated on the first run).
func credentials(t testing.TB) *lab.Credentials {
	t.Helper()
	credsOnce.Do(func() {
		dir, err := lab.DefaultDir()
		if err != nil {
			dir = filepath.Join(os.TempDir(), "fhkey-e2e-lab")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		creds, credsErr = lab.Load(ctx, dir, nil)
	})
	if credsErr != nil {
		t.Fatal(credsErr)
	}
	return creds
}

// bed is one test's testbed with its roles.
type bed struct {
	t     testing.TB
	tb    *testbed.Testbed
	creds *lab.Credentials
	dir   string
}

// bedTags holds the tags of the testbeds up, by test name: two parallel
// tests with one tag would share, and tear down, each other's namespaces.
var bedTags sync.Map

// newBed builds a testbed with a prefix unique to the test and process and
// gives the CGAs their addresses.
func newBed(t testing.TB, tag string, attacker bool) *bed {
	t.Helper()
	return newBedWith(t, tag, testbed.Config{Attacker: attacker})
}

// newBedWith is newBed for the testbed cfg (its Prefix is set here).
func newBedWith(t testing.TB, tag string, cfg testbed.Config) *bed {
	t.Helper()
	if other, dup := bedTags.LoadOrStore(tag, t.Name()); dup {
		t.Fatalf("testbed tag %q is %s's: give each test its own", tag, other)
	}
	t.Cleanup(func() { bedTags.Delete(tag) })
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		testenv.Unavailable(t, "no /dev/net/tun: %v", err)
	}
	c := credentials(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	prefix := fmt.Sprintf("fhk-%s%d-", tag, os.Getpid())
	cfg.Prefix = prefix
	tb, err := testbed.Up(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := testbed.Down(context.Background(), prefix); err != nil {
			t.Errorf("testbed down: %v", err)
		}
	})
	// The home network's tests (RFC 6618) use the testbed's own
	// addresses as care-of addresses: no CGAs there.
	if !cfg.Home {
		if err := scenario.AssignCGAs(ctx, tb, c); err != nil {
			t.Fatal(err)
		}
	}
	return &bed{t: t, tb: tb, creds: c, dir: t.TempDir()}
}

// par starts the PAR with a bbolt store in the test's directory and the
// forwarder.
func (b *bed) par(mod func(*scenario.RouterConfig)) *node.Router {
	b.t.Helper()
	cfg := scenario.RouterConfig{Node: testbed.PAR, Credentials: b.creds.PAR, Anchors: b.creds.Anchors(),
		StorePath: filepath.Join(b.dir, "par.db"), Forwarding: true, ForwardingLifetime: time.Minute,
		Neighbors: []ar.Neighbor{{AccessPoint: []byte{0x02, 0, 0, 0, 0, 0x02}, RouterLLA: []byte{0x02, 0, 0, 0, 0, 0x22},
			Address: b.creds.NAR.CGA.Address, Prefix: lab.NARPrefix}}}
	if mod != nil {
		mod(&cfg)
	}
	r, err := scenario.StartRouter(context.Background(), b.tb, cfg)
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { r.Stop() })
	return r
}

// nar starts the NAR with an in-memory store.
func (b *bed) nar() *node.Router {
	b.t.Helper()
	r, err := scenario.StartRouter(context.Background(), b.tb, scenario.RouterConfig{Node: testbed.NAR,
		Credentials: b.creds.NAR, Anchors: b.creds.Anchors()})
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { r.Stop() })
	return r
}

// mobile starts the MN.
func (b *bed) mobile() *scenario.Mobile {
	b.t.Helper()
	m, err := scenario.StartMobile(context.Background(), b.tb, scenario.MobileConfig{Credentials: b.creds.MN,
		Anchors: b.creds.Anchors(), PAR: b.creds.PAR.CGA.Address, PreferredAT: hokey.HMACSHA256Trunc128})
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(m.Close)
	return m
}

// stream opens the MN's UDP receiver on the previous care-of address and
// the CN's sender, closed at the end of the test.
func (b *bed) stream(pcoa netip.Addr) (*scenario.Receiver, *scenario.Sender, netip.AddrPort) {
	b.t.Helper()
	dst := netip.AddrPortFrom(pcoa, streamPort)
	recv, err := scenario.ListenUDP(b.tb, testbed.MN, dst)
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { recv.Close() })
	cn, err := scenario.NewSender(b.tb, testbed.CN, testbed.AddrCN)
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { cn.Close() })
	return recv, cn, dst
}

type scenarioRouterConfig = scenario.RouterConfig

// unlimited returns router limits that never refuse a solicitation.
func unlimited() *ar.Limits { return &ar.Limits{MaxTracked: 16} }

// oneExchange reports whether n messages (or their answers) are those of
// one exchange of the MN: the first and up to three retransmissions
// (RTSOLPR_RETRIES for an RtSolPr, three for an FBU; RFC 5568 §6.1.1),
// which a loaded host sends when the answer is not back within 100 ms.
func oneExchange(n uint64) bool { return n >= 1 && n <= 4 }
