package scenario

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fhkey/fhkey/internal/testenv"
)

// TestBenchEAP runs `fhkey bench eap` small, TLS 1.2 and 1.3, so that
// the bench path cannot rot: every eapol_test process reports its
// authentications with the right MSK, every Go supplicant authenticates
// through the fhkey authenticator on the veth pair and straight to
// FreeRADIUS (with the Access-Accept's MSK), and the rates are
// positive (not timed: a unit test asserts no timing).
func TestBenchEAP(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	testenv.RequireTool(t, "freeradius")
	testenv.RequireTool(t, "eapol_test")
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tlsVersionName(v), func(t *testing.T) {
			var log strings.Builder
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cfg := EAPBenchConfig{Parallel: 2, PerSupplicant: 2, Runs: 1, TLSVersion: v, Dir: t.TempDir(),
				Prefix: fmt.Sprintf("fhk-be%d%d-", os.Getpid()%1000, v&0xf), Log: &log}
			res, err := BenchEAP(ctx, cfg)
			if err != nil {
				t.Fatalf("%v\n%s", err, log.String())
			}
			if len(res.Runs) != 3 || res.ThroughARPerS <= 0 || res.EapolTestDirectPerS <= 0 || res.Ratio <= 0 || res.GoDirectPerS <= 0 ||
				res.TLSVersion != tlsVersionName(v) {
				t.Fatalf("result %+v", res)
			}
			for _, r := range res.Runs {
				if r.Authentications != 4 || r.ClientCPUSeconds <= 0 {
					t.Errorf("run %+v", r)
				}
			}
			t.Log(res)
		})
	}
}
