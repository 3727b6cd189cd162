package rolemetrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fhkey/fhkey/internal/hac"
)

// TestRegisterHAC: the sessions counter, and a bootstraps series per
// method and outcome: psk and eap from the start (0), others (none) once
// counted.
func TestRegisterHAC(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	RegisterHAC(reg, func() hac.Stats {
		return hac.Stats{Sessions: 4, Bootstraps: map[string]map[string]uint64{
			"psk": {hac.OutcomeOK: 2, hac.OutcomeUnauthorized: 1}, "none": {hac.OutcomeAborted: 1}}}
	})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	series := 0
	for _, mf := range mfs {
		if mf.GetName() == "fhkey_hac_sessions_total" {
			if v := mf.GetMetric()[0].GetCounter().GetValue(); v != 4 {
				t.Errorf("sessions %v, want 4", v)
			}
			continue
		}
		series += len(mf.GetMetric())
		for _, m := range mf.GetMetric() {
			if l := m.GetLabel(); len(l) == 2 {
				got[l[0].GetValue()+"/"+l[1].GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	if series != 2*7+1 {
		t.Errorf("%d bootstraps series, want 15", series)
	}
	for k, v := range map[string]float64{"psk/ok": 2, "psk/unauthorized": 1, "psk/aborted": 0, "eap/ok": 0, "eap/ha_failed": 0, "none/aborted": 1} {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
}
