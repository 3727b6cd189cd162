package daemon

import (
	"context"
	"errors"
	"flag"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhkey/fhkey/internal/ar"
	"github.com/fhkey/fhkey/internal/config"
	"github.com/fhkey/fhkey/internal/daemon/rolemetrics"
	"github.com/fhkey/fhkey/internal/ha"
	"github.com/fhkey/fhkey/internal/hac"
	"github.com/fhkey/fhkey/internal/hks"
	"github.com/fhkey/fhkey/internal/mip6mn"
	"github.com/fhkey/fhkey/internal/radius"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// docRow is a metric row of docs/deployment.md's tables:
// | `name{label,...}` | type | meaning |
var docRow = regexp.MustCompile("(?m)^\\| `(fhkey_[a-z0-9_]+)(?:\\{([a-z_,]+)\\})?` \\| ([a-z]+) \\|")

// documentedFamilies returns the fhkey_* families docs/deployment.md lists
// whose names start with one of prefixes, and the daemon's own, as
// "name{labels} type" lines.
func documentedFamilies(t *testing.T, prefixes ...string) []string {
	t.Helper()
	b, err := os.ReadFile("../../docs/deployment.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range docRow.FindAllStringSubmatch(string(b), -1) {
		if slices.ContainsFunc(append(prefixes, "fhkey_config_", "fhkey_start_"), func(p string) bool { return strings.HasPrefix(m[1], p) }) {
			out = append(out, family(m[1], strings.Split(m[2], ","), m[3]))
		}
	}
	slices.Sort(out)
	return out
}

func family(name string, labels []string, typ string) string {
	labels = slices.DeleteFunc(labels, func(l string) bool { return l == "" })
	if len(labels) > 0 {
		name += "{" + strings.Join(labels, ",") + "}"
	}
	return name + " " + typ
}

// servedFamilies returns the families reg gathers, split into fhkey_* and
// the rest (the Go and process collectors'), as "name{labels} type".
func servedFamilies(t *testing.T, reg prometheus.Gatherer) (fhkey, runtime []string) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		var labels []string
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if !slices.Contains(labels, l.GetName()) {
					labels = append(labels, l.GetName())
				}
			}
		}
		slices.Sort(labels)
		f := family(mf.GetName(), labels, strings.ToLower(mf.GetType().String()))
		if strings.HasPrefix(mf.GetName(), "fhkey_") {
			fhkey = append(fhkey, f)
		} else {
			runtime = append(runtime, f)
		}
	}
	return fhkey, runtime
}

// TestServedFamilies runs a daemon whose Start registers the role's
// metrics as `fhkey ar`, `fhkey mn`, `fhkey hks`, `fhkey hac`, `fhkey ha`
// and `fhkey mip6` do (the registry Run makes, every
// step traced and failed once) and checks every family, type and label
// against docs/deployment.md's tables, and the Go and process collectors'
// families against testdata/runtime_families.golden (-update rewrites it).
func TestServedFamilies(t *testing.T) {
	for _, role := range []struct {
		name     string
		prefixes []string
		register func(reg prometheus.Registerer)
	}{
		{"ar", []string{"fhkey_ar_", "fhkey_radius_client_"}, func(reg prometheus.Registerer) {
			trace := rolemetrics.RegisterAR(reg, func() ar.Stats { return ar.Stats{} }, func() int { return 0 })
			trace(ar.Trace{Step: "fbu-verify", Took: time.Millisecond, Err: ar.ErrFBU})
			rolemetrics.RegisterAAA(reg, func() (int, int) { return 0, 0 }, func() radius.ClientStats { return radius.ClientStats{} })
		}},
		{"mn", []string{"fhkey_mn_"}, func(reg prometheus.Registerer) {
			trace := rolemetrics.RegisterMN(reg, func() int { return 0 })
			trace("fbu-build", time.Millisecond, errors.New("failed"))
		}},
		{"hks", []string{"fhkey_hks_", "fhkey_radius_server_"}, func(reg prometheus.Registerer) {
			rolemetrics.RegisterHKS(reg, func() hks.Stats { return hks.Stats{} }, func() radius.ServerStats { return radius.ServerStats{} })
		}},
		{"hac", []string{"fhkey_hac_"}, func(reg prometheus.Registerer) {
			rolemetrics.RegisterHAC(reg, func() hac.Stats { return hac.Stats{} }, func() hac.ConnectionStats { return hac.ConnectionStats{} })
		}},
		{"ha", []string{"fhkey_ha_"}, func(reg prometheus.Registerer) {
			rolemetrics.RegisterHA(reg, func() ha.Stats { return ha.Stats{} })
		}},
		{"mip6", []string{"fhkey_mip6_"}, func(reg prometheus.Registerer) {
			rolemetrics.RegisterMIP6(reg, func() mip6mn.Counters { return mip6mn.Counters{} })
		}},
	} {
		t.Run(role.name, func(t *testing.T) {
			h := start(t, baseMN, func(o *Options[*config.MNConfig]) {
				next := o.Start
				o.Start = func(ctx context.Context, rt *Runtime[*config.MNConfig]) error {
					role.register(rt.Metrics)
					return next(ctx, rt)
				}
			})
			reg := h.runtime().Metrics
			fhkey, runtime := servedFamilies(t, reg)
			if want := documentedFamilies(t, role.prefixes...); !slices.Equal(fhkey, want) {
				t.Errorf("fhkey_* families served:\n%s\ndocumented in docs/deployment.md:\n%s", strings.Join(fhkey, "\n"), strings.Join(want, "\n"))
			}
			golden := "testdata/runtime_families.golden"
			got := strings.Join(runtime, "\n") + "\n"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("go_*/process_* families served:\n%s\nwant (%s):\n%s", got, golden, want)
			}
			if err := h.stop(os.Interrupt); err != nil {
				t.Fatal(err)
			}
		})
	}
}
